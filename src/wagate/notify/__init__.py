"""Notification adapters outside WhatsApp: the e-mail fallback (OU4) for users WhatsApp cannot
reach."""
