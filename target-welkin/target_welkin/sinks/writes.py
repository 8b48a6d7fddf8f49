"""The write steps shared by every sink: find the Welkin resource, then create, patch or skip.

Runs on a writer thread, after every earlier write sharing one of the record's
keys. The id map answers first (an unchanged record costs no call); otherwise
the record's Welkin id (when valid in this instance) and its external keys are
looked up; more than one match is ambiguous and rejected, never guessed.
"""

from __future__ import annotations

import typing as t

from welkin_client.errors import WelkinAPIError, WelkinNotFound, WelkinRejected

from target_welkin.client import Attempts, ResourceApi
from target_welkin.payload import FieldSpec, plain, same_value
from target_welkin.references import Reference
from target_welkin.rejects import Code, Operation, RecordRejected

if t.TYPE_CHECKING:
    import logging

    from target_welkin.settings import StreamRoute
    from target_welkin.sinks.base import Prepared
    from target_welkin.target import TargetWelkin

Json = dict[str, t.Any]


def refusal(error: WelkinAPIError, operation: str) -> RecordRejected:
    """The reject for a record Welkin refused (its status, errorCode and PHI-safe message)."""
    return RecordRejected(
        str(error), operation=operation, error_code=error.error_code, status=error.status
    )


class WriteFlow:
    """Matching and writing of prepared records; mixed into :class:`WelkinSink`."""

    resource: str
    api: ResourceApi | None
    welkin: TargetWelkin
    route: StreamRoute
    fields: t.Mapping[str, FieldSpec]
    create_only: t.ClassVar[frozenset[str]] = frozenset()
    """Fields only sent when creating (Welkin does not patch them)."""
    patch_only: t.ClassVar[frozenset[str]] = frozenset()
    """Fields Welkin sets on create; a differing value is patched right after."""
    references: t.ClassVar[tuple[Reference, ...]] = ()
    stream_name: str
    logger: logging.Logger

    def identities(self, prepared: Prepared, parent_id: str | None) -> list[str]:
        """Id-map keys of the record (external keys scoped by the Welkin patient id)."""
        scope = f"{parent_id}/" if parent_id else ""
        keys = [f"{name}={scope}{value}" for name, value in prepared.key_values]
        if prepared.source_id:
            keys.append(f"id={prepared.source_id}")
        return keys

    def check_map(self) -> None:
        """Once per run: drop the resource's id map when Welkin no longer has what it maps."""
        api = self.api
        assert api is not None
        dropped = self.welkin.map_check.ensure(
            self.resource, lambda entry: api.get(entry.welkin_id, entry.parent_id) is not None
        )
        if dropped:
            self.logger.warning(
                "Welkin no longer has the %s last written (instance reset or deleted): "
                "%d id-map entries dropped; records are looked up and written again",
                self.resource,
                dropped,
            )

    def find_by_keys(self, prepared: Prepared, parent_id: str | None) -> dict[str, Json]:
        """Welkin resources matching any external key of the record, by Welkin id."""
        assert self.api is not None
        found: dict[str, Json] = {}
        for name, value in prepared.key_values:
            for item in self.api.find(name, value, parent_id):
                found[self.api.welkin_id(item)] = item
        return found

    def match(self, prepared: Prepared, parent_id: str | None) -> tuple[str, Json] | None:
        """Find the record's Welkin resource: its id if valid here, else its external keys."""
        assert self.api is not None
        found: dict[str, Json] = {}
        if prepared.source_id and self.route.match_by_id:
            item = self.api.get(prepared.source_id, parent_id)
            if item is not None:
                found[self.api.welkin_id(item)] = item
        found.update(self.find_by_keys(prepared, parent_id))
        if len(found) > 1:
            names = ", ".join(name for name, _ in prepared.key_values) or "id"
            raise RecordRejected(
                f"{len(found)} Welkin {self.resource} match the record's keys ({names})",
                operation=Operation.MATCH,
                error_code=Code.AMBIGUOUS_MATCH,
            )
        return next(iter(found.items()), None)

    def upsert(
        self, prepared: Prepared, payload: Json, parent_id: str | None, *, again: bool = False
    ) -> None:
        """Decide create, patch or skip, and do it."""
        assert self.api is not None
        idmap, mode = self.welkin.idmap, self.route.write_mode
        self.check_map()
        identities = self.identities(prepared, parent_id)
        entries = idmap.find(self.resource, identities)
        if len({e.welkin_id for e in entries}) > 1:
            raise RecordRejected(
                f"the record's keys map to {len({e.welkin_id for e in entries})} different "
                f"Welkin {self.resource} in the id map",
                operation=Operation.MATCH,
                error_code=Code.AMBIGUOUS_MATCH,
            )
        entry = entries[0] if entries else None
        if entry and entry.payload_hash == idmap.payload_hash(payload, parent_id):
            self.welkin.count(self.stream_name, "unchanged")
            return
        current: Json | None = None
        welkin_id = entry.welkin_id if entry else None
        if welkin_id is not None and entry is not None and entry.field_hashes is None:
            current = self.api.get(welkin_id, parent_id)
            if current is None:
                idmap.forget(self.resource, welkin_id)
                welkin_id = None
        if welkin_id is None:
            matched = self.match(prepared, parent_id)
            if matched is not None:
                welkin_id, current = matched
        if welkin_id is None:
            self.create(prepared, payload, parent_id, identities)
            return
        if mode == "insert":
            self.welkin.count(self.stream_name, "skipped")
            return
        if current is not None:
            values = self.api.values(current)
            changed = {
                k: v
                for k, v in payload.items()
                if k not in self.create_only
                and not same_value(self.fields.get(k), v, values.get(k))
            }
        else:
            assert entry is not None
            hashes = entry.field_hashes or {}
            changed = {
                k: v
                for k, v in payload.items()
                if k not in self.create_only and hashes.get(k) != idmap.hash(v)
            }
        try:
            self.patch(prepared, welkin_id, changed, payload, parent_id, identities)
        except WelkinNotFound as gone:
            if again:
                raise refusal(gone, Operation.UPDATE) from None
            # Deleted in Welkin since it was mapped: forgotten by patch(); find or create anew.
            self.upsert(prepared, payload, parent_id, again=True)

    def patch(  # noqa: PLR0917 - one step of upsert, called once
        self,
        prepared: Prepared,
        welkin_id: str,
        changed: Json,
        payload: Json,
        parent_id: str | None,
        identities: list[str],
    ) -> None:
        """PATCH only ``changed`` (nothing when nothing changed) and remember the payload."""
        assert self.api is not None
        if not changed:
            if not self.welkin.dry_run:
                self.welkin.idmap.record(
                    self.resource, identities, welkin_id, parent_id=parent_id, payload=payload
                )
            self.welkin.count(self.stream_name, "unchanged")
            return
        if self.welkin.dry_run:
            self.welkin.count(self.stream_name, "would_update")
            return
        attempts = Attempts()
        api = self.api
        try:
            self.welkin.writer.counted(
                lambda: api.update(welkin_id, plain(changed), parent_id, payload), attempts
            )
        except WelkinNotFound:
            # Deleted in Welkin since it was mapped: forget the mapping (upsert goes on).
            self.welkin.idmap.forget(self.resource, welkin_id)
            raise
        except WelkinRejected as refused:
            raise refusal(refused, Operation.UPDATE) from None
        self.welkin.idmap.record(
            self.resource, identities, welkin_id, parent_id=parent_id, payload=payload
        )
        self.welkin.count(self.stream_name, "updated")
        if attempts.count > 1:
            self.welkin.count(self.stream_name, "retried")

    def create(
        self, prepared: Prepared, payload: Json, parent_id: str | None, identities: list[str]
    ) -> None:
        """POST the record (looking its key up again before any retry) and map it."""
        assert self.api is not None
        if self.route.write_mode == "update":
            raise RecordRejected(
                f"no Welkin {self.resource} matches the record (write mode update)",
                operation=Operation.MATCH,
                error_code=Code.NOT_FOUND,
            )
        if not prepared.key_values:
            # Without a key, a create that fails ambiguously could not be checked
            # before a retry: no create without one (source_id_as_key is off).
            raise RecordRejected(
                "no match key to create the record with (set one, or source_id_as_key)",
                operation=Operation.CREATE,
                error_code=Code.MISSING_KEY,
            )
        if self.welkin.dry_run:
            self.welkin.plan_created(self.resource, identities)
            self.welkin.count(self.stream_name, "would_create")
            return
        body = plain({k: v for k, v in payload.items() if k not in self.patch_only})
        if prepared.stamp:
            body[prepared.stamp[0]] = prepared.stamp[1]
        attempts = Attempts()

        def recheck() -> Json | None:
            return next(iter(self.find_by_keys(prepared, parent_id).values()), None)

        try:
            created, _ = self.welkin.writer.create_with_recheck(
                self.api, body, parent_id, recheck, attempts
            )
        except (WelkinRejected, WelkinNotFound) as refused:
            raise refusal(refused, Operation.CREATE) from None
        welkin_id = self.api.welkin_id(created)
        values = self.api.values(created)
        late = {
            k: v
            for k, v in payload.items()
            if k not in self.create_only and not same_value(self.fields.get(k), v, values.get(k))
        }
        if late:
            # Fields Welkin sets itself on create (an encounter's status), or a create
            # found by a recheck that carried older values. Map the id first, so a
            # refused patch cannot lead to a second create.
            self.welkin.idmap.record(self.resource, identities, welkin_id, parent_id=parent_id)
            self.logger.debug("Patching %s right after create.", sorted(late))
            api, patch_attempts = self.api, Attempts()
            try:
                self.welkin.writer.counted(
                    lambda: api.update(welkin_id, plain(late), parent_id, payload), patch_attempts
                )
            except (WelkinRejected, WelkinNotFound) as refused:
                raise refusal(refused, Operation.UPDATE) from None
            attempts.count += patch_attempts.count - 1  # a patch that took one attempt is no retry
        self.welkin.idmap.record(
            self.resource, identities, welkin_id, parent_id=parent_id, payload=payload
        )
        for reference in self.references:
            reference.created(prepared.payload, created, self.welkin.remember)
        self.welkin.count(self.stream_name, "created")
        if attempts.count > 1:
            self.welkin.count(self.stream_name, "retried")
