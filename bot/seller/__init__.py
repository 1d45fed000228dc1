"""What a seller configures: reply-flow settings, templates, API tokens and store secrets."""
