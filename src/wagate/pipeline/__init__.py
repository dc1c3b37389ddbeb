"""Services of the message flow. They take ports (protocols), never adapters or settings."""
