"""Create claims: two target processes sharing one ``state_dir`` never create one record twice.

Before a create, a process claims the record's identities in the id map's
``claims`` table (one SQLite transaction, so two processes cannot both win).
The loser waits until the winner maps the record (``IdMap.record`` drops the
claims), then matches it instead of creating it. A claim of a process that
died, or older than ``CLAIM_SECONDS``, is stale and taken over.
"""

from __future__ import annotations

import os
import time
import typing as t

from target_welkin.idmap import IdMap

CLAIM_SECONDS = 60.0
"""A create claim older than this is stale (its process hangs); a dead process's at once."""


def _alive(owner: str) -> bool:
    """Whether the process of a claim's owner (``pid:started``) still runs on this host."""
    try:
        os.kill(int(owner.split(":", 1)[0]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


class Claims:
    """The claims of this process in one id map."""

    def __init__(self, idmap: IdMap) -> None:
        """Claim in ``idmap`` as this process."""
        self.idmap = idmap
        self.owner = f"{os.getpid()}:{time.time()}"

    def claim(self, resource: str, source_keys: t.Iterable[str]) -> bool:
        """Claim the create of the record of ``source_keys``; False while another process has."""
        keys = list(dict.fromkeys(self.idmap.identity(k) for k in source_keys))
        now = time.time()
        with self.idmap.transaction() as conn:
            for key in keys:
                row = conn.execute(
                    "SELECT owner, at FROM claims WHERE resource = ? AND source_key = ?",
                    (resource, key),
                ).fetchone()
                live = row and row[0] != self.owner and now - row[1] < CLAIM_SECONDS
                if live and _alive(str(row[0])):
                    return False
            for key in keys:
                conn.execute(
                    "INSERT OR REPLACE INTO claims VALUES(?,?,?,?)",
                    (resource, key, self.owner, now),
                )
        return True

    def release(self, resource: str, source_keys: t.Iterable[str]) -> None:
        """Drop this process's claims on ``source_keys`` (a create that did not happen)."""
        keys = list(dict.fromkeys(self.idmap.identity(k) for k in source_keys))
        with self.idmap.transaction() as conn:
            for key in keys:
                conn.execute(
                    "DELETE FROM claims WHERE resource = ? AND source_key = ? AND owner = ?",
                    (resource, key, self.owner),
                )

    def wait_for(self, resource: str, source_keys: list[str]) -> bool:
        """Claim, waiting while another process creates the record; False once it has."""
        deadline = time.monotonic() + CLAIM_SECONDS
        while not self.claim(resource, source_keys):
            if self.idmap.find(resource, source_keys) or time.monotonic() > deadline:
                return False
            time.sleep(0.1)  # another process is creating this record right now
        return True
