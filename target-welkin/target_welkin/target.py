"""target-welkin: creates or patches Welkin resources from Singer records, without duplicates."""

from __future__ import annotations

import json
import re
import threading
import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.target_base import Target
from typing_extensions import override
from welkin_client.config_check import check_config
from welkin_client.naming import cdt_stream_name
from welkin_client.settings import check_connection_settings, connection_problems

from target_welkin.client import (
    CalendarEventsApi,
    PatientsApi,
    ResourceApi,
    UsersApi,
    WelkinWriter,
)
from target_welkin.idmap import IdMap, MapCheck
from target_welkin.reader import DEFAULT_MAX_LINE_BYTES, MalformedLine, WelkinMessageReader
from target_welkin.reasons import missing_key
from target_welkin.references import PLANNED, lock_key, unknown
from target_welkin.rejects import Code, Operation, RecordRejected, Reject, RejectsFile
from target_welkin.scheduler import KeyedScheduler
from target_welkin.settings import (
    CONFIG_SCHEMA,
    ConfigurationError,
    RejectRatioExceeded,
    StreamRoute,
    make_route,
)
from target_welkin.sinks import (
    CalendarEventsSink,
    CdtRecordsSink,
    EncountersSink,
    PatientsSink,
    UnknownStreamSink,
    UsersSink,
    WelkinSink,
)
from target_welkin.sinks.base import Prepared, record_key
from target_welkin.summary import RunSummary

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink

SINKS: dict[str, type[WelkinSink]] = {
    "patients": PatientsSink,
    "users": UsersSink,
    "calendar_events": CalendarEventsSink,
    "encounters": EncountersSink,
    "cdt": CdtRecordsSink,
}


class TargetWelkin(Target):
    """Singer target for Welkin Health: upsert by key, only changes sent, rejects reported."""

    name = "target-welkin"
    message_reader_class = WelkinMessageReader
    default_sink_class = UnknownStreamSink

    config_jsonschema = CONFIG_SCHEMA

    @override
    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, t.Any]) -> None:
        """The SDK's built-in settings but ``load_method``: writes are always upserts by key."""
        super().append_builtin_config(config_jsonschema)
        config_jsonschema["properties"].pop("load_method", None)

    def __init__(self, *, validate_config: bool = True, **kwargs: t.Any) -> None:
        """Check every setting (one line each, no value) and set up counters; no request yet."""
        # The SDK's own check quotes values (the secret among them): it only warns here.
        super().__init__(validate_config=False, **kwargs)
        if validate_config:
            check_config(self.config, self.config_jsonschema, (connection_problems,))
        check_connection_settings(self.config)
        self.summary = RunSummary()
        self._lock = threading.Lock()
        self._started = False
        self._planned: set[str] = set()
        self._broken_schemas: set[str] = set()
        self._last_state_json: str | None = None
        self._routes: dict[str, StreamRoute] = {}
        self._deferred: list[tuple[WelkinSink, Prepared]] = []
        self._deferred_keys: set[str] = set()
        if isinstance(self.message_reader, WelkinMessageReader):
            self.message_reader.on_malformed = self._malformed_line
            self.message_reader.on_stop = self._log_stopped
            self.message_reader.known_stream = lambda name: name in self.mapper.stream_maps
            self.message_reader.max_line_bytes = int(
                self.config.get("max_line_bytes") or DEFAULT_MAX_LINE_BYTES
            )

    # -- shared services -----------------------------------------------------------------------

    @cached_property
    def writer(self) -> WelkinWriter:
        """The one Welkin client of the run."""
        return WelkinWriter(
            self.config, user_agent=f"{self.name}/0.1.0", pool_size=self.max_workers + 2
        )

    @cached_property
    def idmap(self) -> IdMap:
        """The durable id map of this tenant and instance."""
        name = f"idmap-{self.config['tenant']}-{self.config['instance']}.sqlite"
        path = self.state_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        return IdMap(path, secret=self.config["secret_key"])

    @cached_property
    def map_check(self) -> MapCheck:
        """The once-per-resource check that the id map still matches the instance."""
        return MapCheck(self.idmap)

    @cached_property
    def rejects(self) -> RejectsFile:
        """The rejects file."""
        path = self.config.get("rejects_path") or self.state_dir / "rejects.jsonl"
        return RejectsFile(Path(path))

    @cached_property
    def scheduler(self) -> KeyedScheduler:
        """The writer threads."""
        return KeyedScheduler(self.max_workers)

    @cached_property
    def parent_apis(self) -> dict[str, ResourceApi]:
        """Lookups of the resources other records point at."""
        client = self.writer.client
        return {
            "patients": PatientsApi(client),
            "users": UsersApi(client),
            "calendar_events": CalendarEventsApi(client),
        }

    @property
    def state_dir(self) -> Path:
        """Folder of the id map."""
        return Path(self.config.get("state_dir") or ".target-welkin")

    @property
    def max_workers(self) -> int:
        """Writer threads."""
        return max(1, int(self.config.get("max_workers") or 4))

    @property
    def dry_run(self) -> bool:
        """Lookups only."""
        return bool(self.config.get("dry_run"))

    def start(self) -> None:
        """Fetch a token once, before the first record: wrong credentials stop the run here."""
        with self._lock:
            if not self._started:
                self.writer.check_credentials()
                self._started = True

    # -- routing -------------------------------------------------------------------------------

    def route(self, stream_name: str) -> StreamRoute:
        """Where ``stream_name`` goes, from ``streams`` or its name."""
        if stream_name not in self._routes:
            self._routes[stream_name] = make_route(self.config, stream_name)
        return self._routes[stream_name]

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """The sink of the stream's Welkin resource (unknown streams reject their records).

        A ``cdt_*`` stream named for a CDT this instance does not have is unknown too
        (a copy from an instance with more CDTs goes on); a CDT named in ``streams``
        must exist (see :meth:`cdt_formation`).
        """
        route = self.route(stream_name)
        if route.kind == "cdt" and route.cdt is None:
            self.start()
            names = list(self.writer.cdt_formations())
            if not any(cdt_stream_name(n, names) == stream_name for n in names):
                return UnknownStreamSink
        return SINKS.get(str(route.kind), UnknownStreamSink)

    def cdt_formation(self, stream_name: str) -> tuple[str, dict[str, t.Any]]:
        """The CDT a stream writes and its formation.

        Raises:
            ConfigurationError: no such CDT in this instance.
        """
        formations = self.writer.cdt_formations()
        wanted = self.route(stream_name).cdt
        if wanted is None:
            wanted = next(
                (n for n in formations if cdt_stream_name(n, formations) == stream_name), None
            )
        if wanted is None or wanted not in formations:
            msg = f"stream '{stream_name}': this Welkin instance has no such CDT"
            raise ConfigurationError(msg)
        return wanted, formations[wanted]

    # -- shared by the sinks -------------------------------------------------------------------

    def resolve(self, resource: str, key_field: str, value: str, field_name: str) -> str:
        """The Welkin id, in this instance, of a patient or user a record points at.

        The id map answers first (no call), then a lookup.

        Raises:
            RecordRejected: nothing matches (unknown parent), or more than one does.
        """
        identity = f"{key_field}={value}"
        entries = self.idmap.find(resource, [identity])
        if entries:
            return entries[0].welkin_id
        if self.dry_run and lock_key(resource, key_field, value) in self._planned:
            return PLANNED
        api = self.parent_apis[resource]
        if key_field == "id":
            item = api.get(value, None)
            found = [item] if item is not None else []
        else:
            found = api.find(key_field, value, None)
        ids = {api.welkin_id(item) for item in found}
        if len(ids) > 1:
            raise RecordRejected(
                f"field '{field_name}': {len(ids)} Welkin {resource} match it",
                operation=Operation.RESOLVE,
                error_code=Code.AMBIGUOUS_MATCH,
            )
        if not ids:
            raise unknown(field_name, "patient" if resource == "patients" else "user")
        welkin_id = ids.pop()
        if not self.dry_run:
            self.idmap.record(resource, [identity], welkin_id)
        return welkin_id

    def plan_created(self, resource: str, identities: t.Iterable[str]) -> None:
        """Remember what a dry run would create, so its children count as creates too."""
        with self._lock:
            for identity in identities:
                key_field, _, value = identity.partition("=")
                self._planned.add(lock_key(resource, key_field, value))

    def remember(self, resource: str, source_id: str, welkin_id: str) -> None:
        """Map a source id to a Welkin id made along with another write."""
        if not self.dry_run:
            self.idmap.record(resource, [f"id={source_id}"], welkin_id)

    def defer(self, sink: WelkinSink, prepared: Prepared, keys: t.Iterable[str]) -> None:
        """Keep a record whose parent is unknown for one more try after the input ends.

        Until then no STATE goes out (a deferred record is not written yet), and
        later records of the same keys wait with it, so input order is kept.
        """
        with self._lock:
            self._deferred.append((sink, prepared._replace(final=True)))
            self._deferred_keys.update(keys)

    def is_deferred(self, keys: t.Iterable[str]) -> bool:
        """Whether an earlier record with one of ``keys`` waits for the end of the input."""
        with self._lock:
            return not self._deferred_keys.isdisjoint(keys)

    def _retry_deferred(self) -> None:
        with self._lock:
            deferred, self._deferred = self._deferred, []
            self._deferred_keys.clear()
        if deferred:
            self.logger.info("Retrying %d records whose parent came later.", len(deferred))
        for sink, prepared in deferred:
            sink.submit(prepared)
        self.scheduler.wait()

    def count(self, stream: str, outcome: str) -> None:
        """Tally one outcome."""
        self.summary.add(stream, outcome)

    def reject(self, stream: str | None, key: str | None, rejected: RecordRejected) -> None:
        """Write a reject and count it; the run goes on."""
        self.rejects.write(
            Reject(
                stream=stream,
                key=key,
                operation=rejected.operation,
                status=rejected.status,
                errorCode=rejected.error_code,
                reason=rejected.reason,
            )
        )
        self.summary.add(stream or "(input)", "invalid" if rejected.invalid else "rejected")

    def _log_stopped(self) -> None:
        self.logger.error("Run stopped early; summary so far: %s", self.summary.to_json())

    def _malformed_line(self, number: int, malformed: MalformedLine) -> None:
        if malformed.kind == "SCHEMA" and malformed.stream is not None:
            self._broken_schemas.add(malformed.stream)  # its records are rejected, named so
        self.reject(
            malformed.stream,
            f"line {number}",
            RecordRejected(
                malformed.reason,
                operation=Operation.READ,
                error_code=Code.MALFORMED_LINE,
                invalid=True,
            ),
        )

    def _key_of(self, stream: str, record: dict[str, t.Any]) -> str | None:
        sink = self._sinks_active.get(stream)
        if isinstance(sink, WelkinSink):
            return sink.describe_key(record)
        sink_class = self.get_sink_class(stream)
        keys = sink_class.key_fields if issubclass(sink_class, WelkinSink) else ()
        return record_key(record, self.route(stream).match_keys(keys))

    # -- Singer messages -----------------------------------------------------------------------

    @override
    def _process_record_message(self, message_dict: dict[str, t.Any]) -> None:
        stream, record = message_dict.get("stream"), message_dict.get("record")
        if not isinstance(stream, str) or not isinstance(record, dict):
            self.reject(
                stream if isinstance(stream, str) else None,
                None,
                RecordRejected(
                    "the RECORD message lacks a stream name or a record object",
                    operation=Operation.READ,
                    error_code=Code.MALFORMED_LINE,
                    invalid=True,
                ),
            )
            return
        if stream in self._broken_schemas or stream not in self.mapper.stream_maps:
            broken = stream in self._broken_schemas
            self.reject(
                stream,
                self._key_of(stream, record),
                RecordRejected(
                    "the stream's SCHEMA message is invalid"
                    if broken
                    else "a RECORD came before its stream's SCHEMA",
                    operation=Operation.READ,
                    error_code=Code.INVALID_SCHEMA if broken else Code.NO_SCHEMA,
                    invalid=True,
                ),
            )
            return
        try:
            super()._process_record_message(message_dict)
        except RecordRejected as rejected:
            self.reject(stream, self._key_of(stream, record), rejected)
        except MissingKeyPropertiesError:
            keys = self._sinks_active[stream].key_properties
            self.reject(stream, self._key_of(stream, record), missing_key(keys, record))

    @override
    def _process_schema_message(self, message_dict: dict[str, t.Any]) -> None:
        stream = message_dict.get("stream")
        try:
            super()._process_schema_message(message_dict)
        except InvalidInputLine:
            # The SDK's message quotes the line; a schema holds no record values,
            # but the reject keeps to the same rule as every other.
            if not isinstance(stream, str):
                raise
            self._broken_schemas.add(stream)
            self.logger.warning("Stream %r: invalid SCHEMA; its records are rejected.", stream)
            return
        if isinstance(stream, str):
            self._broken_schemas.discard(stream)

    @override
    def _process_state_message(self, message_dict: dict[str, t.Any]) -> None:
        # STATE goes out once every record before it is durably written.
        changed = message_dict.get("value") != self._latest_state
        super()._process_state_message(message_dict)
        if changed:
            self.drain_all()

    @override
    def _write_state_message(self, state: dict[str, t.Any]) -> None:
        with self._lock:
            if self._deferred:
                return  # records before it still wait for a parent; sent at the end
        state_json = json.dumps(state, sort_keys=True)
        if state_json == self._last_state_json:
            return  # the end-of-input drain repeats the last state
        self._last_state_json = state_json
        super()._write_state_message(state)

    @override
    def process_endofpipe(self) -> None:
        """Drain every write, emit the last STATE, log the summary, apply ``max_reject_ratio``."""
        try:
            if "scheduler" in self.__dict__:
                self.scheduler.wait()
                self._retry_deferred()
            super().process_endofpipe()
        except Exception:
            self._log_stopped()
            raise
        for name in ("scheduler", "writer", "idmap", "rejects"):
            if name in self.__dict__:  # only what this run opened
                self.__dict__.pop(name).close()
        counts = self.summary.as_dict()
        self.logger.info("Run summary: %s", self.summary.to_json())
        if self.dry_run:
            plan = {
                stream: {k: c[k] for k in ("would_create", "would_update", "unchanged")}
                for stream, c in counts.items()
            }
            self.logger.info("Dry run plan (nothing was written): %s", plan)
        bad = self.summary.total("rejected", "invalid")
        total = self.summary.records()
        limit = float(self.config.get("max_reject_ratio", 0.5))
        if total and bad / total > limit:
            msg = (
                f"{bad} of {total} records were rejected ({bad / total:.0%}), more than "
                f"max_reject_ratio {limit:g}; see the rejects file"
            )
            raise RejectRatioExceeded(msg)


if __name__ == "__main__":
    TargetWelkin.cli()
