"""wagate: a self-hosted WhatsApp AI gateway."""

__version__ = "0.1.0"
