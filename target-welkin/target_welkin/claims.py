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

WON, BUSY, STALE, FOUND = "won", "busy", "stale", "found"
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

    def claim(self, resource: str, source_keys: t.Iterable[str]) -> str:
        """Claim the create of the record of ``source_keys``.

        ``busy`` while another live process holds a claim, ``stale`` when this
        process took over the claim of one that died (its create may have
        landed: look in Welkin first), else ``won``.
        """
        keys = list(dict.fromkeys(self.idmap.identity(k) for k in source_keys))
        now = time.time()
        verdict = WON
        with self.idmap.transaction() as conn:
            for key in keys:
                row = conn.execute(
                    "SELECT owner, at FROM claims WHERE resource = ? AND source_key = ?",
                    (resource, key),
                ).fetchone()
                if row is None or row[0] == self.owner:
                    continue
                if now - row[1] < CLAIM_SECONDS and _alive(str(row[0])):
                    return BUSY
                verdict = STALE
            for key in keys:
                conn.execute(
                    "INSERT OR REPLACE INTO claims VALUES(?,?,?,?)",
                    (resource, key, self.owner, now),
                )
        return verdict

    def release(self, resource: str, source_keys: t.Iterable[str]) -> None:
        """Drop this process's claims on ``source_keys`` (a create that did not happen)."""
        keys = list(dict.fromkeys(self.idmap.identity(k) for k in source_keys))
        with self.idmap.transaction() as conn:
            for key in keys:
                conn.execute(
                    "DELETE FROM claims WHERE resource = ? AND source_key = ? AND owner = ?",
                    (resource, key, self.owner),
                )

    def wait_for(self, resource: str, source_keys: list[str]) -> str:
        """Claim, waiting while another process creates the record.

        ``found`` once another process has mapped it, ``stale`` when a dead
        process's claim was taken over, ``won`` when this process creates it.
        """
        deadline = time.monotonic() + CLAIM_SECONDS
        while (verdict := self.claim(resource, source_keys)) == BUSY:
            if self.idmap.find(resource, source_keys) or time.monotonic() > deadline:
                return FOUND
            time.sleep(0.1)  # another process is creating this record right now
        if self.idmap.find(resource, source_keys):
            # Made by another process since this one matched (its claim is gone with it).
            self.release(resource, source_keys)
            return FOUND
        return verdict
