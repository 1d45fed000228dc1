"""Orders: lookup behind the shopper identity check, each store's order-number shapes, and the import format."""
