"""Fonnte: webhook parsing and the /send client."""
