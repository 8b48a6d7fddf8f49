"""The durable event log: one row per accepted ping, numbered by an increasing ``seq``.

The table is the contract with tap-welkin's event mode (``tap_welkin/event_mode.py`` reads it)::

    welkin_events(seq, received_at, tenant, instance, entity, subtype,
                  source_id, source_name, patient_id)

Ids and Welkin vocabulary only, never a value. ``seq`` is assigned in commit order, so a
reader that remembers the last ``seq`` it handled never skips a row committed later:

* SQLite (default): ``INTEGER PRIMARY KEY AUTOINCREMENT`` under SQLite's single writer; WAL with
  ``synchronous=FULL``, so a committed row survives a power cut; the receiver answers 200 only
  after the commit.
* PostgreSQL: an identity column, and inserts serialised by a transaction-level advisory lock
  (sequence values are otherwise handed out before commit, and could become visible out of order).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


@dataclass(frozen=True)
class Event:
    """One validated ping (ids and vocabulary only)."""

    tenant: str | None
    instance: str | None
    entity: str
    subtype: str
    source_id: str
    source_name: str | None
    patient_id: str | None

    def row(self) -> tuple[Any, ...]:
        """Column values in ``COLUMNS`` order."""
        return tuple(getattr(self, c) for c in COLUMNS)


class EventLog(Protocol):
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
    """``sqlite:///path``, a plain path, or ``postgresql://…``."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEventLog(url)
    return SqliteEventLog(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
