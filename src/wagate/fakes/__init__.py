"""Fake peers as real HTTP servers: used by tests, `wagate fake …` and the sandbox."""
