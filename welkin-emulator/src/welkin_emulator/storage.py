"""SQLite storage shared by the server and the seeder.

Every record is stored as the exact JSON text the API returns, next to a few indexed columns
(tenant, instance, id, patient id, ``updated_at``, external keys). List and export pages are then
built by joining stored JSON text, with no decode/encode round trip, which keeps 1000-record pages
cheap. WAL mode lets a write committed through the API be read at once by any other process
(e.g. a tap reading what a target wrote).

``updated_at`` values come from a single clock row in the ``meta`` table, advanced inside each
write transaction (``BEGIN IMMEDIATE``), so they strictly increase across the whole database,
even for writes within one millisecond and even with several server processes on one file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .timeutil import format_ms, now_ms

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS patients (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, id TEXT NOT NULL,
    external_id TEXT, external_guid TEXT, mrn TEXT,
    search TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS patients_pk ON patients(tenant, instance, id);
CREATE INDEX IF NOT EXISTS patients_scope ON patients(tenant, instance);
CREATE INDEX IF NOT EXISTS patients_updated ON patients(tenant, instance, updated_at, id);
CREATE INDEX IF NOT EXISTS patients_eid ON patients(tenant, instance, external_id);
CREATE INDEX IF NOT EXISTS patients_eguid ON patients(tenant, instance, external_guid);
CREATE INDEX IF NOT EXISTS patients_mrn ON patients(tenant, instance, mrn);

CREATE TABLE IF NOT EXISTS users (
    tenant TEXT NOT NULL, id TEXT NOT NULL, username TEXT NOT NULL,
    search TEXT NOT NULL DEFAULT '', user_state TEXT,
    updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS users_pk ON users(tenant, id);
CREATE INDEX IF NOT EXISTS users_username ON users(tenant, username);

-- CDT records, encounters (kind ENCOUNTER) and encounter dispositions (kind DISPOSITION) share
-- Welkin's CDT envelope, so they share a table.
CREATE TABLE IF NOT EXISTS records (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    patient_id TEXT NOT NULL, cdt_name TEXT NOT NULL, owner_user_id TEXT,
    external_id TEXT, external_guid TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS records_pk ON records(tenant, instance, id);
CREATE INDEX IF NOT EXISTS records_patient ON records(tenant, instance, patient_id, cdt_name);
CREATE INDEX IF NOT EXISTS records_updated ON records(tenant, instance, kind, updated_at, id);
CREATE INDEX IF NOT EXISTS records_owner ON records(tenant, instance, owner_user_id);

CREATE TABLE IF NOT EXISTS calendar_events (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, id TEXT NOT NULL, external_id TEXT,
    start_at TEXT NOT NULL, end_at TEXT NOT NULL, status TEXT, event_type TEXT,
    participants TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_pk ON calendar_events(tenant, instance, id);
CREATE INDEX IF NOT EXISTS events_start ON calendar_events(tenant, instance, start_at);
CREATE INDEX IF NOT EXISTS events_updated ON calendar_events(tenant, instance, updated_at, id);
CREATE INDEX IF NOT EXISTS events_eid ON calendar_events(tenant, instance, external_id);

-- Every other patient resource (assessment records, patient programs, care plans, goals, tasks,
-- SMS, email, chat, voice calls, encounter comments, contacts) and user work hours: one row per
-- record, ``kind`` naming the resource, ``name`` a secondary key (program name, chat externalId).
CREATE TABLE IF NOT EXISTS items (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    patient_id TEXT, parent_id TEXT, name TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS items_pk ON items(tenant, instance, kind, id);
CREATE INDEX IF NOT EXISTS items_patient ON items(tenant, instance, kind, patient_id, created_at);
CREATE INDEX IF NOT EXISTS items_parent ON items(tenant, instance, kind, parent_id);
CREATE INDEX IF NOT EXISTS items_updated ON items(tenant, instance, kind, updated_at, id);

-- Webhook delivery attempts (admin/audit-webhook): seeded history, then every ping the
-- emulator sends (welkin_emulator.webhooks).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, status TEXT NOT NULL, sent_at TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_deliveries_scope ON webhook_deliveries(tenant, sent_at);

-- Data audit feed (admin/audit-data), written with every patient and CDT record change.
CREATE TABLE IF NOT EXISTS audit_events (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, entity TEXT NOT NULL, subtype TEXT NOT NULL,
    patient_id TEXT, cdt_name TEXT, sent_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_scope ON audit_events(tenant);

-- Which encounters embed which calendar event, so event writes can refresh the embedded copies.
CREATE TABLE IF NOT EXISTS encounter_events (
    tenant TEXT NOT NULL, instance TEXT NOT NULL, event_id TEXT NOT NULL,
    encounter_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS encounter_events_event ON encounter_events(tenant, instance, event_id);
CREATE INDEX IF NOT EXISTS encounter_events_encounter
    ON encounter_events(tenant, instance, encounter_id);
"""


def connect(path: str | Path, *, cache_mb: int = 16) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode with WAL and a generous busy timeout.

    The server opens one connection per worker thread (up to 40), so the page cache per
    connection stays small; reads go through mmap anyway. The seeder asks for a large cache.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable enough for an emulator and much faster than FULL under WAL.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute(f"PRAGMA cache_size=-{int(cache_mb) * 1024}")
    # Memory-mapped reads: a 1000-record page touches ~1000 scattered table pages, and mmap
    # halves the cost compared with one pread() per page. Address space only, not RAM.
    conn.execute("PRAGMA mmap_size=1073741824")
    return conn


def init_schema(path: str | Path) -> None:
    """Create tables and indexes if missing."""
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()


def bump_generation(conn: sqlite3.Connection) -> None:
    """Mark the data as changed (invalidates cached page counts in every process)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES('generation', '1') ON CONFLICT(key) "
        "DO UPDATE SET value=CAST(value AS INTEGER) + 1"
    )


def generation(conn: sqlite3.Connection) -> str:
    """The current data generation (changes with every committed write)."""
    row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
    return str(row[0]) if row else "0"


class Clock:
    """The database-wide write clock; only valid inside :meth:`Database.write`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT value FROM meta WHERE key='clock'").fetchone()
        self._last = int(row[0]) if row else 0
        self._conn = conn
        self._dirty = False

    def tick_ms(self) -> int:
        """Next timestamp: wall clock, or 1 ms after the last one if the wall clock lags."""
        self._last = max(now_ms(), self._last + 1)
        self._dirty = True
        return self._last

    def tick(self) -> str:
        """Next timestamp formatted as ``…mmmZ``."""
        return format_ms(self.tick_ms())

    def flush(self) -> None:
        """Persist the clock (called before commit)."""
        if self._dirty:
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES('clock', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(self._last),),
            )


class Database:
    """Per-thread SQLite connections to one database file.

    Handlers run in a thread pool; SQLite connections must not be shared between threads while in
    use, so each worker thread gets its own connection on first use.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        init_schema(self.path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        """The calling thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[tuple[sqlite3.Connection, Clock]]:
        """A write transaction (``BEGIN IMMEDIATE``) with the database-wide clock."""
        conn = self.conn
        self._local.after_commit = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            clock = Clock(conn)
            yield conn, clock
            clock.flush()
            bump_generation(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._local.after_commit = []
            raise
        callbacks, self._local.after_commit = self._local.after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current write transaction commits (never on rollback)."""
        self._local.after_commit.append(callback)

    def close(self) -> None:
        """Close every connection opened so far."""
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
