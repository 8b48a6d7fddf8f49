"""The one write flow every Welkin sink shares; domain sinks only declare their fields and routes.

Per record, on the main thread (no call to Welkin): check the record against
its SCHEMA and the resource's fields, build the payload in Welkin's formats,
work out its keys, and queue it. Up to ``LOOKAHEAD`` queued records tell the
match index how large the input is before it chooses how to read Welkin
(``index.py``). Then a writer thread, after any earlier write sharing one of
those keys: resolve parents, find the Welkin resource, and create it, patch
what changed, skip it, or delete it.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override
from welkin_client.errors import WelkinAPIError, WelkinAuthError, WelkinForbidden

from target_welkin.client import ResourceApi
from target_welkin.decision import Action, decide
from target_welkin.index import IndexSpec
from target_welkin.limits import check_record, shown_key
from target_welkin.payload import FieldSpec, normalize
from target_welkin.reasons import field_names, patient_reference
from target_welkin.references import (
    NO_REFERENCES,
    PLANNED,
    Reference,
    lock_key,
    reference_keys,
    resolve_all,
)
from target_welkin.rejects import Code, Operation, RecordRejected
from target_welkin.sdk_compat import CompatSink
from target_welkin.settings import ConfigurationError
from target_welkin.sinks.writes import WriteFlow, refusal
from target_welkin.validation import validator_for

if t.TYPE_CHECKING:
    from singer_sdk.sinks.core import BaseJSONSchemaValidator
    from singer_sdk.target_base import Target

    from target_welkin.context import RunContext
    from target_welkin.settings import StreamRoute

Json = dict[str, t.Any]
LOOKAHEAD = 1000
"""Records queued (all streams) before writes start: the input size the index sees."""


class HasRunContext(t.Protocol):
    """What a sink needs of its target: the run's services."""

    run: RunContext


class Prepared(t.NamedTuple):
    """A record checked and shaped on the main thread, ready for a writer thread."""

    key: str | None
    source_id: str | None
    payload: Json
    key_values: tuple[tuple[str, str], ...]
    parent: tuple[str, str] | None  # (key field, value) of the patient reference
    stamp: tuple[str, str] | None = None  # (key field, source id) written on create only
    final: bool = False  # an unknown parent rejects (else the record waits for the end)
    deleted: bool = False  # marked deleted at the source (``_sdc_deleted_at``)


def flatten(record: t.Mapping[str, t.Any]) -> Json:
    """A record with a CDT-style ``jsonBody`` merged to the top level."""
    body = record.get("jsonBody")
    if isinstance(body, dict):
        merged = {k: v for k, v in record.items() if k != "jsonBody"}
        merged.update(body)
        return merged
    return dict(record)


def record_key(record: t.Mapping[str, t.Any], key_fields: t.Iterable[str]) -> str | None:
    """A record's key as the rejects file shows it: its first match key, else its ``id``."""
    flat = flatten(record)
    for name in (*key_fields, "id"):
        value = flat.get(name)
        usable = isinstance(value, (str, int)) and not isinstance(value, bool) and value != ""
        if usable and shown_key(str(value)):  # a key breaking the limits is not shown
            return f"{name}={value}"
    return None


class WelkinSink(WriteFlow, CompatSink):
    """Base sink: declare ``resource``, ``api_class``, ``fields``, ``read_only``, ``key_fields``."""

    resource: str
    """Namespace in the id map and the name used in messages (``patients``)."""
    api_class: t.ClassVar[type[ResourceApi] | None] = None
    fields: t.Mapping[str, FieldSpec]
    """Writable fields and what they accept."""
    read_only: frozenset[str] | set[str]
    """Fields Welkin sets itself (ids, audit, enrichment): dropped from payloads."""
    key_fields: t.ClassVar[tuple[str, ...]]
    """External keys a record is matched by, in order."""
    source_id_field: t.ClassVar[str | None] = None
    """Key field that receives a foreign source id on create when a record has no key."""
    aliases: t.ClassVar[t.Mapping[str, str]] = {}
    """Source field -> writable field it fills when that one is absent."""
    parent_resource: t.ClassVar[str | None] = None
    """``patients`` for resources that live under a patient."""
    references: t.ClassVar[tuple[Reference, ...]] = NO_REFERENCES

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, t.Any],
        key_properties: t.Sequence[str] | None,
    ) -> None:
        """Take the run's services from the target, and this stream's settings."""
        self.run: RunContext = t.cast("HasRunContext", target).run
        super().__init__(target, stream_name, schema, key_properties)
        self.route: StreamRoute = self.run.route(stream_name)
        self.api: ResourceApi | None = None
        self.queued: list[Prepared] = []
        unusable = set(self.route.keys or ()) - set(self.key_fields)
        if unusable and self.api_class is not None:
            msg = (
                f"streams.{stream_name}.match_keys: {sorted(unusable)} cannot match Welkin "
                f"{self.resource}; use {list(self.key_fields)}"
            )
            raise ConfigurationError(msg)

    # -- SDK hooks ---------------------------------------------------------------------------

    @override
    def setup(self) -> None:
        """Connect (a wrong secret stops the run here, before any record)."""
        if self.api_class is not None:
            self.run.start()
            self.api = self.api_class(self.run.connection.client)
            self.register()

    def register(self) -> None:
        """Tell the match index how this resource is keyed and valued."""
        api = self.api
        assert api is not None
        self.run.index.register(
            IndexSpec(
                self.resource,
                self.route.match_keys(self.key_fields),
                scoped=self.parent_resource is not None,
                values=api.values,
                fields=self.fields,
                exists=lambda welkin_id, parent: api.get(welkin_id, parent) is not None,
            )
        )

    @property
    @override
    def include_sdc_metadata_properties(self) -> bool:
        """Always: otherwise the SDK strips ``_sdc_deleted_at`` before the sink sees it.

        The ``_sdc_`` fields are never written to Welkin (see ``prepare``).
        """
        return True

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """A validator whose rejects name the field, never the value (the SDK's quotes it)."""
        return validator_for(self.schema, enabled=self.validate_schema)

    @override
    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        """Check and shape the record, then queue it.

        A record marked deleted at the source is never upserted: it is deleted
        in Welkin (``allow_deletes``, where the API can) or counted as a skipped delete.
        """
        deleted = record.get("_sdc_deleted_at") is not None
        deletable = self.api is not None and self.api.deletable
        if deleted and decide(
            exists=True, changed={}, deleted=True,
            allow_deletes=self.run.allow_deletes, deletable=deletable,
        ) is Action.SKIP_DELETE:  # fmt: skip
            self.run.count(self.stream_name, "skipped_delete")
            return
        self.queued.append(self.prepare(record)._replace(deleted=deleted))

    def flush(self) -> None:
        """Let the index read Welkin (knowing how many records wait), then queue their writes."""
        queued, self.queued = self.queued, []
        if not queued or self.api is None:
            for prepared in queued:
                self.submit(prepared)
            return
        if self.parent_resource:
            self.run.index.ensure(self.parent_resource, len(queued))
        self.run.index.ensure(self.resource, len(queued))
        for prepared in queued:
            self.submit(prepared)

    def own_keys(self, prepared: Prepared) -> list[str]:
        """Scheduler keys of the record's own identities."""
        keys = [self.lock_key(prepared, k, v) for k, v in prepared.key_values]
        if prepared.source_id:
            keys.append(lock_key(self.resource, "id", prepared.source_id))
        return keys

    def submit(self, prepared: Prepared) -> None:
        """Queue the write behind every earlier write sharing one of its keys."""
        keys = self.own_keys(prepared)
        if prepared.parent:
            keys.append(lock_key(str(self.parent_resource), *prepared.parent))
        keys += reference_keys(prepared.payload, self.references)
        self.run.scheduler.submit(keys, lambda: self.write(prepared), owner=self.stream_name)

    @override
    def process_batch(self, context: dict[str, t.Any]) -> None:
        """Write every queued record of this stream and wait for them (before STATE goes out)."""
        self.flush()  # the target flushed every sink, parents first; anything left goes now
        if self.run.opened("scheduler"):
            self.run.scheduler.wait(self.stream_name)

    # -- main thread: check and shape --------------------------------------------------------

    def lock_key(self, prepared: Prepared, key_field: str, value: str) -> str:
        """Scheduler key of one external key (scoped by the patient reference when nested)."""
        scope = f"{prepared.parent[0]}={prepared.parent[1]}/" if prepared.parent else ""
        return lock_key(self.resource, key_field, scope + value)

    def describe_key(self, record: t.Mapping[str, t.Any]) -> str | None:
        """The record's key as the rejects file shows it (``externalId=…`` or ``id=…``)."""
        return record_key(record, self.route.match_keys(self.key_fields))

    def prepare(self, record: t.Mapping[str, t.Any]) -> Prepared:
        """Payload, keys and parent reference of a record (no call to Welkin).

        Raises:
            RecordRejected: wrong types, unknown fields, no key, no parent reference.
        """
        flat = flatten(record)
        for source, target_field in self.aliases.items():
            if flat.get(target_field) is None and flat.get(source) is not None:
                flat[target_field] = flat[source]
        parent_field = self.route.patient_field
        keys = {*self.route.match_keys(self.key_fields), "id", parent_field}
        flat = check_record(self.config, self.fields, flat, keys)
        stamp = None
        source_id = flat.get("id") if isinstance(flat.get("id"), str) and flat.get("id") else None
        payload: Json = {}
        for name, value in flat.items():
            if name == "id" or name in self.read_only or name.startswith("_sdc_"):
                continue
            if self.parent_resource and name == parent_field:
                continue
            if name in self.aliases and name not in self.fields:
                continue
            spec = self.fields.get(name)
            if spec is None:
                shown = field_names([name])  # the name comes from the record: maybe unprintable
                raise RecordRejected(
                    f"field '{shown}': not a writable field of Welkin {self.resource}",
                    operation=Operation.VALIDATE,
                    error_code=Code.UNKNOWN_FIELD,
                    invalid=True,
                )
            converted = normalize(name, spec, value)
            if converted is None and self.route.null_handling == "omit":
                continue
            payload[name] = converted
        key_values = tuple(
            (name, str(payload[name]))
            for name in self.route.match_keys(self.key_fields)
            if isinstance(payload.get(name), str) and payload[name]
        )
        if not key_values and source_id and self.source_id_field and self.route.source_id_as_key:
            # No key of its own: the source id becomes one, written on create only
            # (so a reload into the source instance itself patches nothing), and
            # reruns and retries after an ambiguous failure find the record by it.
            stamp = (self.source_id_field, source_id)
            key_values = (stamp,)
        if not key_values and not source_id:
            names = ", ".join(self.route.match_keys(self.key_fields))
            raise RecordRejected(
                f"record has none of the match keys ({names}) and no id",
                operation=Operation.VALIDATE,
                error_code=Code.MISSING_KEY,
                invalid=True,
            )
        parent = None
        if self.parent_resource:
            value = patient_reference(parent_field, flat.get(parent_field))
            parent = (self.route.patient_key, value)
        named = key_values and not stamp
        key = f"{key_values[0][0]}={key_values[0][1]}" if named else f"id={source_id}"
        return Prepared(key, source_id, payload, key_values, parent, stamp)

    # -- writer thread: resolve, match, write ------------------------------------------------

    def write(self, prepared: Prepared) -> None:
        """Write one record; rejects are recorded here, anything else is fatal for the run."""
        operation = Operation.RESOLVE
        own_keys = self.own_keys(prepared)
        deferred = self.run.deferred
        if not prepared.final and deferred.holds(own_keys):
            # An earlier record of this key waits for its parent: keep the input order.
            deferred.add(lambda: self.submit(prepared._replace(final=True)), own_keys)
            return
        try:
            parent_id = None
            if prepared.parent:
                field = self.route.patient_field
                parent_id = self.run.resolver.resolve("patients", *prepared.parent, field)
                if parent_id == PLANNED:  # a dry run would create the patient first
                    self.run.count(self.stream_name, self.run.writes.created)
                    return
            payload = resolve_all(prepared.payload, self.references, self.run.resolver.resolve)
            operation = Operation.MATCH
            self.upsert(prepared, payload, parent_id)
        except RecordRejected as rejected:
            if rejected.error_code == Code.UNKNOWN_PARENT and not prepared.final:
                # The parent may come later in the input (tap-welkin sends patients
                # after their CDT records): try again once the input is read.
                deferred.add(lambda: self.submit(prepared._replace(final=True)), own_keys)
                return
            self.run.reject(self.stream_name, prepared.key, rejected)
        except (WelkinAuthError, WelkinForbidden):
            raise  # credentials or permissions: nothing later can succeed
        except WelkinAPIError as refused:  # a lookup's 4xx: this record only
            self.run.reject(self.stream_name, prepared.key, refusal(refused, operation))
