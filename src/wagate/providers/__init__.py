"""Provider adapters: each translates one provider's wire format and errors into our types."""
