"""Pure domain code: standard library only, no I/O. Everything else depends on this, never back."""
