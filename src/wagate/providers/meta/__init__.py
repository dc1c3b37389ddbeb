"""Meta WhatsApp Cloud API: webhook verification and parsing, and the Graph API client."""
