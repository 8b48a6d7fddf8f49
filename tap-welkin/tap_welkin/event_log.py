"""The event log for the tap: its settings, and welkin_client's one reader with its errors as
settings errors.

The table and its queries live in ``welkin_client.eventlog`` (shared with welkin-webhooks,
which writes it). SQLite is opened read-only; PostgreSQL needs ``pip install
'tap-welkin[events-postgres]'``.
"""

from __future__ import annotations

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from welkin_client.eventlog import EventLogError, EventLogReader

from tap_welkin import event_audit


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


SETTINGS = (
    event_audit.SETTING,
    th.Property(
        "event_log_url",
        th.StringType,
        secret=True,  # a PostgreSQL URL carries its password
        title="Event log URL",
        description=(
            "Event mode: read the welkin-webhooks event log (`sqlite:///path` or "
            "`postgresql://…`) and pull only the resources its events touched."
        ),
    ),
    th.Property(
        "event_clock_skew",
        th.IntegerType,
        default=60,
        title="Event clock skew",
        description=(
            "Event mode: seconds an export delta starts before the oldest event's receipt."
        ),
    ),
)
