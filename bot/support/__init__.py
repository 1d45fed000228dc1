"""People: console accounts, escalations to the store's staff, handoff, and business hours."""
