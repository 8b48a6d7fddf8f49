"""Finding this instance's Welkin id of a patient, user or event a record points at.

The id map answers first (no call). When the resource's index is complete
(read from Welkin's export this run) an absent key is an unknown parent, with
no call either; otherwise one lookup, whose answer is kept in the id map.
Records whose parent is unknown wait in :class:`Deferred` for one more try
after the input ends (the parent may come later in the input).
"""

from __future__ import annotations

import threading
import typing as t

from target_welkin.client import ResourceApi
from target_welkin.idmap import IdMap
from target_welkin.references import PLANNED, lock_key, unknown
from target_welkin.rejects import Code, Operation, RecordRejected

if t.TYPE_CHECKING:
    from target_welkin.index import MatchIndex
    from target_welkin.writers import Writes


class ReferenceResolver:
    """``resolve(resource, key_field, value, field_name)`` -> Welkin id (see the module)."""

    def __init__(
        self,
        idmap: IdMap,
        apis: t.Mapping[str, ResourceApi],
        writes: Writes,
        index: MatchIndex | None = None,
    ) -> None:
        """Look ``apis`` up when ``idmap`` and ``index`` do not know; ``writes`` knows plans."""
        self.idmap = idmap
        self.apis = apis
        self.writes = writes
        self.index = index

    def resolve(self, resource: str, key_field: str, value: str, field_name: str) -> str:
        """The Welkin id, in this instance, of the resource a record points at.

        Raises:
            RecordRejected: nothing matches (unknown parent), or more than one does.
        """
        identity = f"{key_field}={value}"
        entries = self.idmap.find(resource, [identity])
        if key_field == "id" and not entries and self.idmap.item(resource, value) is not None:
            return value  # an id of this instance, read from its export
        if entries:
            if len({e.welkin_id for e in entries}) > 1:
                raise self._ambiguous(field_name, resource, len(entries))
            return entries[0].welkin_id
        if self.writes.planned(lock_key(resource, key_field, value)):
            return PLANNED
        if self.index is not None and self.index.complete(resource):
            raise unknown(field_name, "patient" if resource == "patients" else "user")
        api = self.apis[resource]
        if key_field == "id":
            item = api.get(value, None)
            found = [item] if item is not None else []
        else:
            found = api.find(key_field, value, None)
        ids = {api.welkin_id(item) for item in found}
        if len(ids) > 1:
            raise self._ambiguous(field_name, resource, len(ids))
        if not ids:
            raise unknown(field_name, "patient" if resource == "patients" else "user")
        welkin_id = ids.pop()
        self.idmap.record(resource, [identity], welkin_id)
        return welkin_id

    @staticmethod
    def _ambiguous(field_name: str, resource: str, count: int) -> RecordRejected:
        return RecordRejected(
            f"field '{field_name}': {count} Welkin {resource} match it",
            operation=Operation.RESOLVE,
            error_code=Code.AMBIGUOUS_MATCH,
        )

    def remember(self, resource: str, source_id: str, welkin_id: str) -> None:
        """Map a source id to a Welkin id made along with another write."""
        self.idmap.record(resource, [f"id={source_id}"], welkin_id)


class Deferred:
    """Records whose parent is unknown, kept for one more try after the input ends.

    Until then no STATE goes out (a deferred record is not written yet), and
    later records of the same keys wait with it, so input order is kept.
    """

    def __init__(self) -> None:
        """Nothing waits."""
        self._lock = threading.Lock()
        self._waiting: list[t.Callable[[], None]] = []
        self._keys: set[str] = set()

    def add(self, retry: t.Callable[[], None], keys: t.Iterable[str]) -> None:
        """Keep ``retry`` (it submits the record again) and its keys."""
        with self._lock:
            self._waiting.append(retry)
            self._keys.update(keys)

    def holds(self, keys: t.Iterable[str]) -> bool:
        """Whether an earlier record with one of ``keys`` waits."""
        with self._lock:
            return not self._keys.isdisjoint(keys)

    @property
    def pending(self) -> bool:
        """Whether any record waits."""
        with self._lock:
            return bool(self._waiting)

    def take(self) -> list[t.Callable[[], None]]:
        """Every waiting retry, in input order; nothing waits afterwards."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
            self._keys.clear()
            return waiting
