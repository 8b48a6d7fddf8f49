"""How writes reach Welkin: sent (:class:`LiveWrites`) or only recorded (:class:`DryRunWrites`).

The write flow calls the same three verbs either way; a dry run is this one
choice, made when the run starts, and not a branch in the flow.
"""

from __future__ import annotations

import threading
import typing as t
from collections import Counter

from target_welkin.client import Attempts, ResourceApi, WelkinWriter
from target_welkin.references import PLANNED

Json = dict[str, t.Any]
Recheck = t.Callable[[], Json | None]


class Writes:
    """The write verbs and the summary outcomes they count as."""

    created = "created"
    updated = "updated"
    deleted = "deleted"

    def create(  # noqa: PLR0913, PLR0917 - the verbs of every writer
        self,
        api: ResourceApi,
        body: Json,
        parent_id: str | None,
        recheck: Recheck,
        attempts: Attempts,
        plan: t.Iterable[str] = (),
    ) -> Json:
        """Create once, surviving ambiguous failures; ``plan``: scheduler keys it makes."""
        raise NotImplementedError

    def update(  # noqa: PLR0913, PLR0917 - the verbs of every writer
        self,
        api: ResourceApi,
        welkin_id: str,
        body: Json,
        parent_id: str | None,
        payload: Json,
        attempts: Attempts,
    ) -> Json:
        """PATCH ``body`` onto the resource (retried: a patch is idempotent)."""
        raise NotImplementedError

    def delete(
        self, api: ResourceApi, welkin_id: str, parent_id: str | None, attempts: Attempts
    ) -> None:
        """DELETE the resource (retried; a 404 means it is gone already)."""
        raise NotImplementedError

    def planned(self, key: str) -> bool:
        """Whether this run would create the resource of scheduler key ``key`` (dry runs)."""
        return False


class LiveWrites(Writes):
    """Sends every write through the run's one Welkin connection."""

    def __init__(self, connection: WelkinWriter) -> None:
        """Write through ``connection``."""
        self.connection = connection

    def create(  # noqa: D102, PLR0913, PLR0917 - documented on Writes
        self,
        api: ResourceApi,
        body: Json,
        parent_id: str | None,
        recheck: Recheck,
        attempts: Attempts,
        plan: t.Iterable[str] = (),
    ) -> Json:
        created, _ = self.connection.create_with_recheck(api, body, parent_id, recheck, attempts)
        return created

    def update(  # noqa: D102, PLR0913, PLR0917 - documented on Writes
        self,
        api: ResourceApi,
        welkin_id: str,
        body: Json,
        parent_id: str | None,
        payload: Json,
        attempts: Attempts,
    ) -> Json:
        return self.connection.counted(
            lambda: api.update(welkin_id, body, parent_id, payload), attempts
        )

    def delete(  # noqa: D102 - documented on Writes
        self, api: ResourceApi, welkin_id: str, parent_id: str | None, attempts: Attempts
    ) -> None:
        self.connection.counted(lambda: api.delete(welkin_id, parent_id), attempts)


class DryRunWrites(Writes):
    """Records what would be written and sends nothing; lookups still go to Welkin."""

    created = "would_create"
    updated = "would_update"
    deleted = "would_delete"

    def __init__(self) -> None:
        """Nothing recorded yet."""
        self._lock = threading.Lock()
        self._planned: set[str] = set()
        self.calls: Counter[str] = Counter()

    def create(  # noqa: D102, PLR0913, PLR0917 - documented on Writes
        self,
        api: ResourceApi,
        body: Json,
        parent_id: str | None,
        recheck: Recheck,
        attempts: Attempts,
        plan: t.Iterable[str] = (),
    ) -> Json:
        with self._lock:
            self._planned.update(plan)
            self.calls["create"] += 1
        attempts.count += 1
        # Shaped for both kinds of resource: flat (patients) and jsonBody (CDT records).
        return {**body, "id": PLANNED, "jsonBody": dict(body)}

    def update(  # noqa: D102, PLR0913, PLR0917 - documented on Writes
        self,
        api: ResourceApi,
        welkin_id: str,
        body: Json,
        parent_id: str | None,
        payload: Json,
        attempts: Attempts,
    ) -> Json:
        with self._lock:
            self.calls["update"] += 1
        attempts.count += 1
        return {**body, "id": welkin_id, "jsonBody": dict(body)}

    def delete(  # noqa: D102 - documented on Writes
        self, api: ResourceApi, welkin_id: str, parent_id: str | None, attempts: Attempts
    ) -> None:
        with self._lock:
            self.calls["delete"] += 1
        attempts.count += 1

    def planned(self, key: str) -> bool:
        """Whether a create planned in this dry run makes ``key``."""
        with self._lock:
            return key in self._planned
