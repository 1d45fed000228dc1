"""What every capability stands on: settings, the store database (models, sessions, migrations),
the clock, the durable job queue, refusals and checked input."""
