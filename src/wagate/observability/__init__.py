"""What wagate tells its operators about itself: structured, redacted logs."""
