"""The durable id map: which Welkin resource a source record became, and what was last written.

One SQLite file per Welkin tenant and instance in ``state_dir``. A row maps one
identity of a source record (``id=<source id>``, ``externalId=<key>``, ...) in a
resource namespace (``patients``, ``cdt:allergies``, ...) to the Welkin id, with
a hash of the whole payload last written and one hash per field. Hashes are
HMAC-SHA256 keyed by a key derived from the API client secret, which is never
stored: without the secret no candidate value can be tested against the file.
The file keeps no salt and no key; only a keyed check value tells that the key
changed (secret rotated) or that the file is in the old salted format, and then
the map is dropped and rebuilt from Welkin, the source of truth. The file, its
``-wal``/``-shm`` and the folder are 0600/0700 whatever the umask. Every write
commits at once, so a crash loses at most the write in flight (which the next
run finds again by its key).
"""

from __future__ import annotations

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

FORMAT = "3"
_KEY_LABEL = b"target-welkin id map v2"
_CHECK_LABEL = b"target-welkin id map key check"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idmap (
    resource TEXT NOT NULL,
    source_key TEXT NOT NULL,
    welkin_id TEXT NOT NULL,
    parent_id TEXT,
    payload_hash TEXT,
    field_hashes TEXT,
    written_at REAL NOT NULL,
    PRIMARY KEY (resource, source_key)
);
CREATE INDEX IF NOT EXISTS idmap_welkin ON idmap (resource, welkin_id);
"""


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
    """One identity of a source record (as its keyed hash) and the Welkin resource it maps to."""

    source_key: str
    welkin_id: str
    parent_id: str | None
    payload_hash: str | None
    field_hashes: dict[str, str] | None


class IdMap:
    """Thread-safe access to one id map file."""

    def __init__(self, path: Path, secret: str) -> None:
        """Open (or create) the map at ``path``, keyed from the API client ``secret``."""
        _private_dir(path.parent)
        self.path = path
        self._key = derive_key(secret)
        self._lock = threading.Lock()
        _private_file(path)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._open_schema()
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.chmod(0o600)

    def _open_schema(self) -> None:
        """Create the tables; drop a map in another format or keyed by another secret."""
        check = hmac.new(self._key, _CHECK_LABEL, hashlib.sha256).hexdigest()
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            stored = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            if stored and (stored.get("format") != FORMAT or stored.get("key_check") != check):
                # Old salted format (recoverable hashes) or a rotated secret: rebuild.
                self._conn.execute("DROP TABLE IF EXISTS idmap")
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
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        # VACUUM so dropped pages of an old map keep no old hashes on disk.
        if not stored:
            self._conn.execute("VACUUM")

    def hash(self, value: t.Any) -> str:  # noqa: ANN401
        """Keyed hash of a JSON value (short: it only has to tell changes apart)."""
        return hmac.new(self._key, _canonical(value), hashlib.sha256).hexdigest()[:32]

    def identity(self, source_key: str) -> str:
        """What is stored for a record key (``externalId=<value>``...): its keyed hash."""
        return hmac.new(self._key, source_key.encode(), hashlib.sha256).hexdigest()

    def field_hashes(self, payload: t.Mapping[str, t.Any]) -> dict[str, str]:
        """One hash per field of ``payload``."""
        return {name: self.hash(value) for name, value in payload.items()}

    def payload_hash(self, payload: t.Mapping[str, t.Any], parent_id: str | None) -> str:
        """Hash of a whole payload and the parent it is written under."""
        return self.hash({"parent": parent_id, "payload": dict(payload)})

    def find(self, resource: str, source_keys: t.Iterable[str]) -> list[Entry]:
        """Entries of ``resource`` for any of ``source_keys``, in the order given."""
        keys = list(dict.fromkeys(self.identity(k) for k in source_keys))
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._conn.execute(
                "SELECT source_key, welkin_id, parent_id, payload_hash, field_hashes FROM idmap "  # noqa: S608 - placeholders only
                f"WHERE resource = ? AND source_key IN ({marks})",
                (resource, *keys),
            ).fetchall()
        by_key = {
            r[0]: Entry(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None) for r in rows
        }
        return [by_key[k] for k in keys if k in by_key]

    def record(
        self,
        resource: str,
        source_keys: t.Iterable[str],
        welkin_id: str,
        *,
        parent_id: str | None = None,
        payload: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        """Map every key to ``welkin_id``; with ``payload``, remember what was written.

        Without a payload (a parent found by lookup), only the id is kept and an
        existing payload hash for the same Welkin id is preserved.
        """
        keys = list(dict.fromkeys(self.identity(k) for k in source_keys))
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for key in keys:
                    if payload is None:
                        self._conn.execute(
                            "INSERT INTO idmap(resource, source_key, welkin_id, parent_id, "
                            "written_at) VALUES(?,?,?,?,?) ON CONFLICT(resource, source_key) "
                            "DO UPDATE SET parent_id=excluded.parent_id, "
                            "written_at=excluded.written_at, "
                            "payload_hash=CASE WHEN welkin_id=excluded.welkin_id "
                            "THEN payload_hash END, "
                            "field_hashes=CASE WHEN welkin_id=excluded.welkin_id "
                            "THEN field_hashes END, "
                            "welkin_id=excluded.welkin_id",
                            (resource, key, welkin_id, parent_id, now),
                        )
                    else:
                        self._conn.execute(
                            "INSERT OR REPLACE INTO idmap VALUES(?,?,?,?,?,?,?)",
                            (
                                resource,
                                key,
                                welkin_id,
                                parent_id,
                                self.payload_hash(payload, parent_id),
                                json.dumps(self.field_hashes(payload), sort_keys=True),
                                now,
                            ),
                        )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def forget(self, resource: str, welkin_id: str) -> None:
        """Drop every key that maps to ``welkin_id`` (the resource is gone from Welkin)."""
        with self._lock:
            self._conn.execute(
                "DELETE FROM idmap WHERE resource = ? AND welkin_id = ?", (resource, welkin_id)
            )

    def latest(self, resource: str) -> Entry | None:
        """The entry of ``resource`` written last (the one a reset or delete would miss first)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT source_key, welkin_id, parent_id, payload_hash, field_hashes FROM idmap "
                "WHERE resource = ? ORDER BY written_at DESC LIMIT 1",
                (resource,),
            ).fetchone()
        if row is None:
            return None
        return Entry(row[0], row[1], row[2], row[3], json.loads(row[4]) if row[4] else None)

    def forget_resource(self, resource: str) -> int:
        """Drop every entry of ``resource``; the number of rows dropped."""
        with self._lock:
            done = self._conn.execute("DELETE FROM idmap WHERE resource = ?", (resource,))
            return int(done.rowcount)

    def count(self, resource: str | None = None) -> int:
        """Number of distinct Welkin ids mapped (in ``resource``, or overall)."""
        query = "SELECT COUNT(DISTINCT resource || welkin_id) FROM idmap"
        args: tuple[str, ...] = ()
        if resource is not None:
            query += " WHERE resource = ?"
            args = (resource,)
        with self._lock:
            return int(self._conn.execute(query, args).fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


class MapCheck:
    """Checks once per run and resource that the id map still describes the instance.

    Welkin is the source of truth: the entry written last is fetched from Welkin
    (one read). When it is gone (instance reset, or records deleted in Welkin),
    every entry of the resource is dropped, so each record is looked up and
    written again rather than skipped as unchanged.
    """

    def __init__(self, idmap: IdMap) -> None:
        """Check entries of ``idmap``."""
        self.idmap = idmap
        self._lock = threading.Lock()
        self._checked: set[str] = set()

    def ensure(self, resource: str, exists: t.Callable[[Entry], bool]) -> int:
        """Check ``resource`` unless done this run; the number of entries dropped."""
        with self._lock:
            if resource in self._checked:
                return 0
            self._checked.add(resource)
            latest = self.idmap.latest(resource)
            if latest is None or exists(latest):
                return 0
            return self.idmap.forget_resource(resource)
