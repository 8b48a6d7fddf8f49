"""The durable id map: which Welkin resource a source record became, and what was last written.

One SQLite file per Welkin tenant and instance in ``state_dir``. A row maps one
identity of a source record (``id=<source id>``, ``externalId=<key>``, ...) in a
resource namespace (``patients``, ``cdt:allergies``, ...) to the Welkin id; per
Welkin id, one hash per field value (as written, or as Welkin's export showed it).
It is a cache of what Welkin holds: a run reads only the export since the
cursor kept here, and a reset instance is detected (see ``index.py``). Hashes are
HMAC-SHA256 keyed by a key derived from the API client secret, which is never
stored: without the secret no candidate value can be tested against the file.
The file keeps no salt and no key; only a keyed check value tells that the key
changed (secret rotated) or that the file is in the old salted format, and then
the map is dropped and rebuilt from Welkin, the source of truth. The file, its
``-wal``/``-shm`` and the folder are 0600/0700 whatever the umask. Every write
commits at once, so a crash loses at most the write in flight (which the next
run finds again by its key). Several processes may share one map: SQLite's
WAL mode and busy timeout serialise their writes, and create claims keep two
of them from creating one record twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

FORMAT = "4"
_KEY_LABEL = b"target-welkin id map v2"
_CHECK_LABEL = b"target-welkin id map key check"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    resource TEXT NOT NULL,
    source_key TEXT NOT NULL,
    welkin_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (resource, source_key, welkin_id)
);
CREATE INDEX IF NOT EXISTS keys_welkin ON keys (resource, welkin_id);
CREATE TABLE IF NOT EXISTS items (
    resource TEXT NOT NULL,
    welkin_id TEXT NOT NULL,
    parent_id TEXT,
    field_hashes TEXT,
    origin TEXT NOT NULL,
    updated_at TEXT,
    written_at REAL NOT NULL,
    PRIMARY KEY (resource, welkin_id)
);
CREATE TABLE IF NOT EXISTS claims (
    resource TEXT NOT NULL,
    source_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (resource, source_key)
);
"""
_TABLES = ("idmap", "keys", "items", "claims")
WRITE, FEED = "write", "feed"


def _canonical(value: t.Any) -> bytes:  # noqa: ANN401
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def derive_key(secret: str) -> bytes:
    """The hashing key: HMAC of a fixed label under the API client secret (never stored)."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


def _private_file(path: Path) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    path.chmod(0o600)


@dataclass(frozen=True)
class Entry:
    """A Welkin resource one identity of a record maps to, and the hashes of its fields."""

    source_key: str
    welkin_id: str
    parent_id: str | None
    field_hashes: dict[str, str] | None


@dataclass(frozen=True)
class FeedItem:
    """One resource read from Welkin: its id, patient, identities, field hashes, update time."""

    welkin_id: str
    parent_id: str | None
    source_keys: tuple[str, ...]
    field_hashes: dict[str, str]
    updated_at: str | None


class IdMap:
    """Thread- and process-safe access to one id map file (SQLite, WAL, busy timeout).

    ``keys`` maps hashed identities to Welkin ids; ``items`` holds per Welkin id
    its patient and the keyed hashes of its field values, either as this target
    wrote them (origin ``write``) or as Welkin's export showed them (``feed``).
    ``meta`` keeps the format, the key check and each export feed's cursor;
    ``claims`` lets two processes agree who creates a record.
    """

    def __init__(self, path: Path, secret: str, *, read_only: bool = False) -> None:
        """Open (or create) the map at ``path``, keyed from the API client ``secret``.

        ``read_only``: a dry run works on a copy in memory; the file is not changed.
        """
        _private_dir(path.parent)
        self.path = path
        self._key = derive_key(secret)
        self._lock = threading.Lock()
        _private_file(path)
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=60
        )
        self._conn.execute("PRAGMA busy_timeout=60000")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; fewer fsyncs
        self._open_schema()
        if read_only:
            memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._conn.backup(memory)
            self._conn.close()
            self._conn = memory
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.chmod(0o600)

    def _open_schema(self) -> None:
        """Create the tables; drop a map in another format or keyed by another secret."""
        check = hmac.new(self._key, _CHECK_LABEL, hashlib.sha256).hexdigest()
        with self.transaction():
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            stored = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            if stored and (stored.get("format") != FORMAT or stored.get("key_check") != check):
                # Old format (recoverable hashes) or a rotated secret: rebuilt from Welkin.
                for table in _TABLES:
                    self._conn.execute(f"DROP TABLE IF EXISTS {table}")
                self._conn.execute("DELETE FROM meta")
                stored = {}
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            if not stored:
                self._conn.execute(
                    "INSERT INTO meta(key, value) VALUES('format', ?), ('key_check', ?)",
                    (FORMAT, check),
                )
        # VACUUM so dropped pages of an old map keep no old hashes on disk.
        if not stored:
            self._conn.execute("VACUUM")

    @contextlib.contextmanager
    def transaction(self) -> t.Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: other processes wait, up to the timeout)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- hashing -------------------------------------------------------------------------------

    def hash(self, value: t.Any) -> str:  # noqa: ANN401
        """Keyed hash of a JSON value (short: it only has to tell changes apart)."""
        return hmac.new(self._key, _canonical(value), hashlib.sha256).hexdigest()[:32]

    def identity(self, source_key: str) -> str:
        """What is stored for a record key (``externalId=<value>``...): its keyed hash."""
        return hmac.new(self._key, source_key.encode(), hashlib.sha256).hexdigest()

    def field_hashes(self, values: t.Mapping[str, t.Any]) -> dict[str, str]:
        """One hash per field of ``values``."""
        return {name: self.hash(value) for name, value in values.items()}

    # -- reads ---------------------------------------------------------------------------------

    def find(self, resource: str, source_keys: t.Iterable[str]) -> list[Entry]:
        """Entries of ``resource`` for any of ``source_keys``, in the order given."""
        keys = list(dict.fromkeys(self.identity(k) for k in source_keys))
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._conn.execute(
                "SELECT k.source_key, k.welkin_id, i.parent_id, i.field_hashes FROM keys k "  # noqa: S608 - placeholders only
                "LEFT JOIN items i ON i.resource = k.resource AND i.welkin_id = k.welkin_id "
                f"WHERE k.resource = ? AND k.source_key IN ({marks})",
                (resource, *keys),
            ).fetchall()
        order = {k: n for n, k in enumerate(keys)}
        rows.sort(key=lambda r: order[r[0]])
        return [Entry(r[0], r[1], r[2], json.loads(r[3]) if r[3] else None) for r in rows]

    def item(self, resource: str, welkin_id: str) -> Entry | None:
        """The item of ``resource`` with this Welkin id, if known."""
        with self._lock:
            row = self._conn.execute(
                "SELECT parent_id, field_hashes FROM items WHERE resource = ? AND welkin_id = ?",
                (resource, welkin_id),
            ).fetchone()
        if row is None:
            return None
        return Entry("", welkin_id, row[0], json.loads(row[1]) if row[1] else None)

    def latest(self, resource: str) -> Entry | None:
        """The item of ``resource`` this target wrote last (a reset or delete misses it first)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT welkin_id, parent_id, field_hashes FROM items "
                "WHERE resource = ? AND origin = ? ORDER BY written_at DESC LIMIT 1",
                (resource, WRITE),
            ).fetchone()
        if row is None:
            return None
        return Entry("", row[0], row[1], json.loads(row[2]) if row[2] else None)

    def count(self, resource: str | None = None) -> int:
        """Number of distinct Welkin ids mapped (in ``resource``, or overall)."""
        query = "SELECT COUNT(DISTINCT resource || welkin_id) FROM keys"
        args: tuple[str, ...] = ()
        if resource is not None:
            query += " WHERE resource = ?"
            args = (resource,)
        with self._lock:
            return int(self._conn.execute(query, args).fetchone()[0])

    def cursor(self, feed: str) -> str | None:
        """Where the last complete read of export ``feed`` ended."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = ?", (f"cursor:{feed}",)
            ).fetchone()
        return str(row[0]) if row else None

    # -- writes --------------------------------------------------------------------------------

    def record(  # noqa: PLR0913 - one row per key, one item row
        self,
        resource: str,
        source_keys: t.Iterable[str],
        welkin_id: str,
        *,
        parent_id: str | None = None,
        payload: t.Mapping[str, t.Any] | None = None,
        updated_at: str | None = None,
    ) -> None:
        """Map every key to ``welkin_id``; with ``payload``, remember what was written.

        The payload's field hashes are merged into the item's (a patch sends the
        changed fields only). Without a payload (a parent found by lookup) only
        the keys are added.
        """
        keys = list(dict.fromkeys(self.identity(k) for k in source_keys))
        hashes = self.field_hashes(payload) if payload is not None else None
        with self.transaction() as conn:
            for key in keys:
                conn.execute(
                    "INSERT OR IGNORE INTO keys VALUES(?,?,?,?)", (resource, key, welkin_id, WRITE)
                )
            row = conn.execute(
                "SELECT field_hashes FROM items WHERE resource = ? AND welkin_id = ?",
                (resource, welkin_id),
            ).fetchone()
            merged = {**(json.loads(row[0]) if row and row[0] else {}), **(hashes or {})}
            conn.execute(
                "INSERT OR REPLACE INTO items VALUES(?,?,?,?,?,?,?)",
                (
                    resource,
                    welkin_id,
                    parent_id,
                    json.dumps(merged, sort_keys=True) if merged else None,
                    WRITE,
                    updated_at,
                    time.time(),
                ),
            )
            marks = ",".join("?" * len(keys))
            conn.execute(
                f"DELETE FROM claims WHERE resource = ? AND source_key IN ({marks})",  # noqa: S608 - placeholders only
                (resource, *keys),
            )

    def fold(
        self, items: t.Iterable[tuple[str, FeedItem]], cursor: tuple[str, str | None] | None
    ) -> int:
        """Store resources read from an export feed, as ``(resource, item)``; then its cursor.

        An item this target wrote and Welkin has not changed since (same update
        time) keeps the hashes of what was written. Returns the items stored.
        """
        done = 0
        now = time.time()
        with self.transaction() as conn:
            for resource, item in items:
                row = conn.execute(
                    "SELECT origin, updated_at FROM items WHERE resource = ? AND welkin_id = ?",
                    (resource, item.welkin_id),
                ).fetchone()
                conn.execute(
                    "DELETE FROM keys WHERE resource = ? AND welkin_id = ? AND origin = ?",
                    (resource, item.welkin_id, FEED),
                )
                for key in dict.fromkeys(self.identity(k) for k in item.source_keys):
                    conn.execute(
                        "INSERT OR IGNORE INTO keys VALUES(?,?,?,?)",
                        (resource, key, item.welkin_id, FEED),
                    )
                if row is not None and row[0] == WRITE and row[1] == item.updated_at:
                    continue  # our own write, unchanged since: keep what was written
                conn.execute(
                    "INSERT OR REPLACE INTO items VALUES(?,?,?,?,?,?,?)",
                    (
                        resource,
                        item.welkin_id,
                        item.parent_id,
                        json.dumps(item.field_hashes, sort_keys=True),
                        FEED if row is None else row[0],
                        item.updated_at,
                        now,
                    ),
                )
                done += 1
            if cursor is not None:
                feed, end = cursor
                if end is None:
                    conn.execute("DELETE FROM meta WHERE key = ?", (f"cursor:{feed}",))
                else:
                    conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES(?, ?)", (f"cursor:{feed}", end)
                    )
        return done

    def forget(self, resource: str, welkin_id: str) -> None:
        """Drop every key and the item of ``welkin_id`` (the resource is gone from Welkin)."""
        with self.transaction() as conn:
            for table in ("keys", "items"):
                conn.execute(
                    f"DELETE FROM {table} WHERE resource = ? AND welkin_id = ?",  # noqa: S608 - constant names
                    (resource, welkin_id),
                )

    def forget_resources(self, resources: t.Iterable[str], feed: str | None = None) -> int:
        """Drop every entry of ``resources`` (and ``feed``'s cursor); the Welkin ids dropped."""
        dropped = 0
        with self.transaction() as conn:
            for resource in resources:
                dropped += conn.execute(
                    "SELECT COUNT(*) FROM items WHERE resource = ?", (resource,)
                ).fetchone()[0]
                for table in ("keys", "items"):
                    conn.execute(f"DELETE FROM {table} WHERE resource = ?", (resource,))  # noqa: S608 - constant names
            if feed is not None:
                conn.execute("DELETE FROM meta WHERE key = ?", (f"cursor:{feed}",))
        return int(dropped)

    def prune(self, resources: t.Iterable[str], keep: t.Collection[str], before: float) -> int:
        """Drop the items of ``resources`` not in ``keep`` and written before ``before``."""
        dropped = 0
        with self.transaction() as conn:
            for resource in resources:
                rows = conn.execute(
                    "SELECT welkin_id FROM items WHERE resource = ? AND written_at < ?",
                    (resource, before),
                ).fetchall()
                for (welkin_id,) in rows:
                    if welkin_id in keep:
                        continue
                    dropped += 1
                    for table in ("keys", "items"):
                        conn.execute(
                            f"DELETE FROM {table} WHERE resource = ? AND welkin_id = ?",  # noqa: S608 - constant names
                            (resource, welkin_id),
                        )
        return dropped

    def resources(self, prefix: str) -> list[str]:
        """Resource namespaces in the map starting with ``prefix`` (``cdt:``)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT resource FROM items WHERE resource LIKE ?", (prefix + "%",)
            ).fetchall()
        return [str(r[0]) for r in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
