"""Tracking and notifications: carrier updates, what a status means, and the messages the store writes first."""
