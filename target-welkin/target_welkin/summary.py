"""Per-stream counters of one run, logged at the end (counts only, never values)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict

OUTCOMES = (
    "created",
    "updated",
    "unchanged",
    "skipped",
    "rejected",
    "invalid",
    "retried",
    "would_create",
    "would_update",
    "skipped_delete",
    "deleted",
    "would_delete",
)


class RunSummary:
    """Thread-safe tallies: one counter per stream and outcome.

    ``rejected`` counts Welkin's refusals and failed lookups, ``invalid`` the
    records refused before any call; ``retried`` counts records whose write
    needed more than one attempt (they also count as created or updated).
    ``would_*`` are the dry-run plan; records marked deleted (``_sdc_deleted_at``)
    are never upserted: ``deleted`` in Welkin (``allow_deletes``, where the API
    can), else ``skipped_delete``.
    """

    def __init__(self) -> None:
        """Start with every counter at zero."""
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, stream: str, outcome: str, count: int = 1) -> None:
        """Add ``count`` to ``outcome`` of ``stream``."""
        if outcome not in OUTCOMES:
            msg = f"unknown outcome {outcome!r}"
            raise ValueError(msg)
        with self._lock:
            self._counts[stream][outcome] += count

    def as_dict(self) -> dict[str, dict[str, int]]:
        """A copy of the counters, by stream."""
        with self._lock:
            return {stream: dict(counts) for stream, counts in sorted(self._counts.items())}

    def total(self, *outcomes: str) -> int:
        """Sum of ``outcomes`` over every stream."""
        with self._lock:
            return sum(c[o] for c in self._counts.values() for o in outcomes)

    def records(self) -> int:
        """Records that reached a verdict (``retried`` is a flag, not a verdict)."""
        verdicts = [o for o in OUTCOMES if o != "retried"]
        return self.total(*verdicts)

    def lines(self) -> list[str]:
        """One readable line per stream: its non-zero outcomes, e.g. ``patients: 25 created``."""
        lines = []
        for stream, counts in self.as_dict().items():
            parts = [f"{n} {outcome.replace('_', ' ')}" for outcome, n in counts.items() if n]
            lines.append(f"{stream}: {', '.join(parts) or 'no records'}")
        return lines

    def to_json(self) -> str:
        """The summary as one JSON line."""
        return json.dumps(self.as_dict(), sort_keys=True)
