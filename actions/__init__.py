"""Rasa custom actions: thin adapters from a tracker to a service in ``bot``."""
