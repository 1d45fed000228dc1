"""After-sales customer-service assistant for cross-border online stores."""
