"""Read the event log that ``welkin-webhooks`` writes (its ``eventlog`` module owns the table).

``welkin_events(seq, received_at, tenant, instance, entity, subtype, source_id, source_name,
patient_id)``: ``seq`` grows in commit order, so "every row after the last seq handled" never
skips a row. SQLite by default (opened read-only), PostgreSQL with ``pip install
'tap-welkin[events-postgres]'``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import typing as t
from dataclasses import dataclass
from pathlib import Path

from singer_sdk.exceptions import ConfigValidationError

COLUMNS = "seq, received_at, tenant, instance, entity, subtype, source_id, source_name, patient_id"


class EventLogError(ConfigValidationError):
    """The event log cannot be read (the message names the setting, never the URL)."""

    def __init__(self, message: str) -> None:
        """A one-line error, as the SDK reports invalid settings."""
        super().__init__(message, errors=[message])


@dataclass(frozen=True)
class LogEvent:
    """One ping (ids and vocabulary only)."""

    seq: int
    received_at: dt.datetime
    tenant: str | None
    instance: str | None
    entity: str
    subtype: str
    source_id: str
    source_name: str | None
    patient_id: str | None


def _instant(value: t.Any) -> dt.datetime:  # noqa: ANN401 - text (SQLite) or datetime (PostgreSQL)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class EventLogReader:
    """Queries of the event log: its head, the rows after a ``seq``."""

    def __init__(self, url: str) -> None:
        """Open ``url``: ``sqlite:///path``, a path, or ``postgresql://…``."""
        self._postgres = url.startswith(("postgresql://", "postgres://"))
        self._marker = "%s" if self._postgres else "?"
        try:
            self._conn = self._open(url)
        except EventLogError:
            raise
        except Exception as exc:
            msg = f"event_log_url: cannot open the event log ({type(exc).__name__})"
            raise EventLogError(msg) from None

    def _open(self, url: str) -> t.Any:  # noqa: ANN401 - a DB-API connection
        if self._postgres:
            try:
                import psycopg
            except ImportError:
                msg = "event_log_url is PostgreSQL: pip install 'tap-welkin[events-postgres]'"
                raise EventLogError(msg) from None
            return psycopg.connect(url, autocommit=True)
        path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
        if not path.exists():
            msg = "event_log_url: no event log there yet (start welkin-webhooks first)"
            raise EventLogError(msg)
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def head(self) -> int:
        """The greatest ``seq`` committed so far (0 for an empty log)."""
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM welkin_events").fetchone()
        return int(row[0])

    def read(self, after: int, upto: int) -> list[LogEvent]:
        """Rows with ``after < seq <= upto``, in ``seq`` order."""
        m = self._marker
        sql = f"SELECT {COLUMNS} FROM welkin_events WHERE seq > {m} AND seq <= {m} ORDER BY seq"  # noqa: S608 - constant
        rows = self._conn.execute(sql, (after, upto)).fetchall()
        return [LogEvent(int(r[0]), _instant(r[1]), *r[2:]) for r in rows]

    def count_since(self, entities: t.Collection[str], since: dt.datetime) -> int:
        """Rows of ``entities`` received at or after ``since`` (the size of an export delta)."""
        m = self._marker
        marks = ", ".join([m] * len(entities))
        value: t.Any = since if self._postgres else since.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        sql = f"SELECT COUNT(*) FROM welkin_events WHERE entity IN ({marks}) AND received_at >= {m}"  # noqa: S608
        return int(self._conn.execute(sql, (*entities, value)).fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
