"""Security primitives: sealing data at rest, API authentication."""
