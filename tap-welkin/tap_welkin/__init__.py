"""Singer tap for Welkin Health (V8 API)."""
