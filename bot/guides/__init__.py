"""Installation guides: which product a shopper means, and its manual, video and steps."""
