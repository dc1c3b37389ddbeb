"""HTTP edge: webhooks, operator API, health. HTTP status codes live only here."""
