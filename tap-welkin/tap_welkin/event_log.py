"""The event log for the tap: welkin_client's one reader, its errors as settings errors.

The table and its queries live in ``welkin_client.eventlog`` (shared with welkin-webhooks,
which writes it). SQLite is opened read-only; PostgreSQL needs ``pip install
'tap-welkin[events-postgres]'``.
"""

from __future__ import annotations

from singer_sdk.exceptions import ConfigValidationError
from welkin_client.eventlog import EventLogError, EventLogReader


class EventLogSettingError(ConfigValidationError):
    """The event log cannot be read (the message names the setting, never the URL)."""

    def __init__(self, message: str) -> None:
        """A one-line error, as the SDK reports invalid settings."""
        super().__init__(message, errors=[message])


def open_reader(url: str) -> EventLogReader:
    """The reader of ``event_log_url``; an unreadable log is a settings error."""
    try:
        return EventLogReader(url, postgres_hint="pip install 'tap-welkin[events-postgres]'")
    except EventLogError as exc:
        raise EventLogSettingError(f"event_log_url: {exc}") from None
