"""Moderation engines: profanity filter and ban matching (pure, no I/O)."""
