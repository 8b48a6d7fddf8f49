"""The webhook event log: one row per accepted ping, numbered by an increasing ``seq``.

The one definition of the table, shared by its writer (``welkin-webhooks``) and its reader
(tap-welkin's event mode)::

    welkin_events(seq, received_at, tenant, instance, entity, subtype,
                  source_id, source_name, patient_id)

Ids and Welkin vocabulary only, never a value. ``seq`` is assigned in commit order, so a
reader that remembers the last ``seq`` it handled never skips a row committed later:

* SQLite (default): ``INTEGER PRIMARY KEY AUTOINCREMENT`` under SQLite's single writer; WAL with
  ``synchronous=FULL``, so a committed row survives a power cut; the receiver answers 200 only
  after the commit. The reader opens the file read-only.
* PostgreSQL: an identity column, and inserts serialised by a transaction-level advisory lock
  (sequence values are otherwise handed out before commit, and could become visible out of order).
  ``psycopg`` is imported only for a PostgreSQL URL.

Standard library only (this module travels inside welkin-webhooks, which has no other part of
welkin_client's dependencies).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import typing as t
from dataclasses import dataclass
from pathlib import Path

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS welkin_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    tenant TEXT, instance TEXT, entity TEXT NOT NULL, subtype TEXT NOT NULL,
    source_id TEXT NOT NULL, source_name TEXT, patient_id TEXT)
"""
POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS welkin_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    tenant TEXT, instance TEXT, entity TEXT NOT NULL, subtype TEXT NOT NULL,
    source_id TEXT NOT NULL, source_name TEXT, patient_id TEXT)
"""
COLUMNS = ("tenant", "instance", "entity", "subtype", "source_id", "source_name", "patient_id")
HEAD_SQL = "SELECT COALESCE(MAX(seq), 0) FROM welkin_events"
#: Any constant: the advisory lock that serialises inserts into PostgreSQL's log.
_PG_LOCK = 0x57454C4B


class EventLogError(Exception):
    """The event log cannot be opened (the message never holds the URL: it may hold a password)."""


@dataclass(frozen=True)
class Event:
    """One validated ping (ids and vocabulary only), as the receiver appends it."""

    tenant: str | None
    instance: str | None
    entity: str
    subtype: str
    source_id: str
    source_name: str | None
    patient_id: str | None

    def row(self) -> tuple[t.Any, ...]:
        """Column values in ``COLUMNS`` order."""
        return tuple(getattr(self, c) for c in COLUMNS)


@dataclass(frozen=True, kw_only=True)
class LogEvent(Event):
    """One stored ping, as a reader gets it: with its ``seq`` and receipt time."""

    seq: int
    received_at: dt.datetime


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL log (else a SQLite file)."""
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> Path:
    """The file of ``sqlite:///path`` or a plain path."""
    return Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)


def _instant(value: t.Any) -> dt.datetime:  # noqa: ANN401 - text (SQLite) or datetime (PostgreSQL)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class EventLog(t.Protocol):
    """Where accepted pings go."""

    def append(self, event: Event) -> int:
        """Store ``event`` durably; return its ``seq`` once committed."""

    def head(self) -> int:
        """The greatest ``seq`` committed so far (0: empty)."""

    def close(self) -> None:
        """Release the connection."""


class SqliteEventLog:
    """The event log in one SQLite file (WAL, ``synchronous=FULL``)."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the log at ``path``."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.execute(SQLITE_SCHEMA)
        self._lock = threading.Lock()

    def append(self, event: Event) -> int:
        """Insert and commit in one statement; the new ``seq``."""
        sql = f"INSERT INTO welkin_events({', '.join(COLUMNS)}) VALUES(?,?,?,?,?,?,?)"  # noqa: S608 - constant column names
        with self._lock:
            cursor = self._conn.execute(sql, event.row())
            return int(cursor.lastrowid or 0)

    def head(self) -> int:
        """The greatest ``seq`` committed so far (0: empty)."""
        with self._lock:
            return int(self._conn.execute(HEAD_SQL).fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class PostgresEventLog:
    """The event log in PostgreSQL (``pip install 'welkin-webhooks[postgres]'``)."""

    def __init__(self, url: str) -> None:
        """Connect to ``url`` (``postgresql://…``) and create the table if missing."""
        import psycopg

        self._conn = psycopg.connect(url, autocommit=False)
        with self._conn.transaction():
            self._conn.execute(POSTGRES_SCHEMA)
        self._lock = threading.Lock()

    def append(self, event: Event) -> int:
        """Insert under the advisory lock and commit; the new ``seq``."""
        sql = (
            f"INSERT INTO welkin_events({', '.join(COLUMNS)}) "  # noqa: S608 - constant column names
            "VALUES(%s,%s,%s,%s,%s,%s,%s) RETURNING seq"
        )
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK,))
            row = self._conn.execute(sql, event.row()).fetchone()
            assert row is not None
            return int(row[0])

    def head(self) -> int:
        """The greatest ``seq`` committed so far (0: empty)."""
        with self._lock, self._conn.transaction():
            row = self._conn.execute(HEAD_SQL).fetchone()
            assert row is not None
            return int(row[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def open_event_log(url: str) -> EventLog:
    """The log to append to: ``sqlite:///path``, a plain path, or ``postgresql://…``."""
    if is_postgres(url):
        return PostgresEventLog(url)
    return SqliteEventLog(sqlite_path(url))


class EventLogReader:
    """Queries of the event log: its head, the rows after a ``seq`` (it writes nothing)."""

    def __init__(self, url: str, *, postgres_hint: str = "pip install 'psycopg[binary]'") -> None:
        """Open ``url``; :class:`EventLogError` (naming no URL) when that fails."""
        self._postgres = is_postgres(url)
        self._marker = "%s" if self._postgres else "?"
        try:
            self._conn = self._open(url, postgres_hint)
        except EventLogError:
            raise
        except Exception as exc:
            msg = f"cannot open the event log ({type(exc).__name__})"
            raise EventLogError(msg) from None

    def _open(self, url: str, postgres_hint: str) -> t.Any:  # noqa: ANN401 - a DB-API connection
        if self._postgres:
            try:
                import psycopg
            except ImportError:
                msg = f"the event log is PostgreSQL: {postgres_hint}"
                raise EventLogError(msg) from None
            return psycopg.connect(url, autocommit=True)
        path = sqlite_path(url)
        if not path.exists():
            msg = "no event log there yet (start welkin-webhooks first)"
            raise EventLogError(msg)
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def head(self) -> int:
        """The greatest ``seq`` committed so far (0 for an empty log)."""
        return int(self._conn.execute(HEAD_SQL).fetchone()[0])

    def read(self, after: int, upto: int) -> list[LogEvent]:
        """Rows with ``after < seq <= upto``, in ``seq`` order."""
        m = self._marker
        sql = f"SELECT seq, received_at, {', '.join(COLUMNS)} FROM welkin_events WHERE seq > {m} AND seq <= {m} ORDER BY seq"  # noqa: S608, E501 - constant
        rows = self._conn.execute(sql, (after, upto)).fetchall()
        return [LogEvent(*r[2:], seq=int(r[0]), received_at=_instant(r[1])) for r in rows]

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
