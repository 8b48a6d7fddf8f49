"""calendar routes (filled in below)."""

from __future__ import annotations

from ..http import Router


def register(r: Router) -> None:
    """Add the calendar routes."""
