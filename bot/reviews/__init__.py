"""Review invitations, ratings and opt-outs."""
