"""The conversation with a shopper: transcripts, replies, signed identities, and the client for Rasa."""
