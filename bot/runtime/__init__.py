"""Processes: the command line, the stack that starts them, the worker and the Rasa server's wrapper."""
