"""The web gateway: the only public entry point (chat API, widget, demo page)."""
