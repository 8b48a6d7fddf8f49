"""welkin-webhooks: receive Welkin's webhook pings into a durable event log for tap-welkin."""

from __future__ import annotations

from welkin_client.eventlog import Event, open_event_log

from .app import build_app, parse_event

__all__ = ["Event", "build_app", "open_event_log", "parse_event"]
