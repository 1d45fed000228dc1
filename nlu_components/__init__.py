"""Components that run inside the Rasa engine (Python 3.10), named in config.yml.

The application (bot/, actions/) never imports this package: it imports rasa.
"""
