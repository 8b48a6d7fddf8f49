"""A local, faithful emulator of the Welkin Health V8 REST API, with fault injection."""

__version__ = "0.1.0"
