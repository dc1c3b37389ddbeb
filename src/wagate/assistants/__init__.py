"""Assistants: something that turns a conversation into an answer."""
