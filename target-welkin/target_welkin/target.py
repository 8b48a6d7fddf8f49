"""target-welkin: creates or patches Welkin resources from Singer records, without duplicates.

singer-sdk glue only: the run's services live in :class:`RunContext`
(``context.py``), the write flow in the sinks, SDK internals in ``sdk_compat.py``.
"""

from __future__ import annotations

import json
import typing as t

from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.singerlib.exceptions import InvalidInputLine
from typing_extensions import override
from welkin_client.config_check import check_config
from welkin_client.naming import cdt_stream_name
from welkin_client.settings import check_connection_settings, connection_problems

from target_welkin.context import RunContext
from target_welkin.reader import DEFAULT_MAX_LINE_BYTES, MalformedLine, WelkinMessageReader
from target_welkin.reasons import missing_key
from target_welkin.rejects import Code, Operation, RecordRejected
from target_welkin.sdk_compat import CompatTarget, Handle, Message
from target_welkin.settings import CONFIG_SCHEMA
from target_welkin.sinks import (
    CalendarEventsSink,
    CdtRecordsSink,
    EncountersSink,
    PatientsSink,
    UnknownStreamSink,
    UsersSink,
    WelkinSink,
)
from target_welkin.sinks.base import LOOKAHEAD, record_key

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink

SINKS: dict[str, type[WelkinSink]] = {
    "patients": PatientsSink,
    "users": UsersSink,
    "calendar_events": CalendarEventsSink,
    "encounters": EncountersSink,
    "cdt": CdtRecordsSink,
}

FLUSH_ORDER = {"users": 0, "patients": 1, "calendar_events": 2}


def _invalid(reason: str, code: str, operation: str = Operation.READ) -> RecordRejected:
    return RecordRejected(reason, operation=operation, error_code=code, invalid=True)


class TargetWelkin(CompatTarget):
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
        """Check every setting (one line each, no value); services open when first used."""
        # The SDK's own check quotes values (the secret among them): it only warns here.
        super().__init__(validate_config=False, **kwargs)
        if validate_config:
            check_config(self.config, self.config_jsonschema, (connection_problems,))
        check_connection_settings(self.config)
        self.run = RunContext(self.config, self.logger, user_agent=f"{self.name}/0.1.0")
        self._broken_schemas: set[str] = set()
        self._last_state_json: str | None = None
        if isinstance(self.message_reader, WelkinMessageReader):
            self.message_reader.on_malformed = self._malformed_line
            self.message_reader.on_stop = self._log_stopped
            self.message_reader.known_stream = lambda name: name in self.mapper.stream_maps
            self.message_reader.max_line_bytes = int(
                self.config.get("max_line_bytes") or DEFAULT_MAX_LINE_BYTES
            )

    @property
    def summary(self) -> t.Any:  # noqa: ANN401 - RunSummary (kept for callers of the target)
        """The run's counters."""
        return self.run.summary

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """The sink of the stream's Welkin resource (unknown streams reject their records).

        A ``cdt_*`` stream named for a CDT this instance does not have is unknown too
        (a copy from an instance with more CDTs goes on); a CDT named in ``streams``
        must exist (see :meth:`RunContext.cdt_formation`).
        """
        route = self.run.route(stream_name)
        if route.kind == "cdt" and route.cdt is None:
            names = self.run.cdt_names()
            if not any(cdt_stream_name(n, names) == stream_name for n in names):
                return UnknownStreamSink
        return SINKS.get(str(route.kind), UnknownStreamSink)

    def _key_of(self, stream: str, record: dict[str, t.Any]) -> str | None:
        sink = self.active_sink(stream)
        if isinstance(sink, WelkinSink):
            return sink.describe_key(record)
        sink_class = self.get_sink_class(stream)
        keys = sink_class.key_fields if issubclass(sink_class, WelkinSink) else ()
        return record_key(record, self.run.route(stream).match_keys(keys))

    # -- Singer messages -----------------------------------------------------------------------

    @override
    def on_record_message(self, message: Message, sdk: Handle) -> None:
        """Reject what cannot be written, hand the rest to its sink."""
        stream, record = message.get("stream"), message.get("record")
        if not isinstance(stream, str) or not isinstance(record, dict):
            reason = "the RECORD message lacks a stream name or a record object"
            self.run.reject(
                stream if isinstance(stream, str) else None,
                None,
                _invalid(reason, Code.MALFORMED_LINE),
            )
            return
        if stream in self._broken_schemas or stream not in self.mapper.stream_maps:
            broken = stream in self._broken_schemas
            rejected = (
                _invalid("the stream's SCHEMA message is invalid", Code.INVALID_SCHEMA)
                if broken
                else _invalid("a RECORD came before its stream's SCHEMA", Code.NO_SCHEMA)
            )
            self.run.reject(stream, self._key_of(stream, record), rejected)
            return
        try:
            sdk()
            if sum(len(s.queued) for s in self._all_sinks()) >= LOOKAHEAD:
                self._flush()
        except RecordRejected as rejected:
            self.run.reject(stream, self._key_of(stream, record), rejected)
        except MissingKeyPropertiesError:
            sink = self.active_sink(stream)
            keys = sink.key_properties if sink is not None else []
            self.run.reject(stream, self._key_of(stream, record), missing_key(keys, record))

    @override
    def on_schema_message(self, message: Message, sdk: Handle) -> None:
        """Register the stream; an invalid SCHEMA rejects the stream's records."""
        stream = message.get("stream")
        try:
            sdk()
        except InvalidInputLine:
            # The SDK's message quotes the line: never logged.
            if not isinstance(stream, str):
                raise
            self._broken_schemas.add(stream)
            self.logger.warning("Stream %r: invalid SCHEMA; its records are rejected.", stream)
            return
        if isinstance(stream, str):
            self._broken_schemas.discard(stream)

    @override
    def on_state_message(self, message: Message, sdk: Handle) -> None:
        """STATE goes out once every record before it is durably written."""
        changed = message.get("value") != self.latest_state
        sdk()
        if changed:
            self._flush()
            self.drain_all()

    @override
    def on_write_state(self, state: Message, sdk: Handle) -> None:
        """Write STATE unless records before it still wait for a parent, or it repeats."""
        if self.run.deferred.pending:
            return  # sent at the end, once they are written
        state_json = json.dumps(state, sort_keys=True)
        if state_json != self._last_state_json:
            self._last_state_json = state_json
            sdk()

    def _log_stopped(self) -> None:
        self.logger.error("Run stopped early; summary so far: %s", self.run.summary.to_json())

    def _malformed_line(self, number: int, malformed: MalformedLine) -> None:
        if malformed.kind == "SCHEMA" and malformed.stream is not None:
            self._broken_schemas.add(malformed.stream)  # its records are rejected, named so
        rejected = _invalid(malformed.reason, Code.MALFORMED_LINE)
        self.run.reject(malformed.stream, f"line {number}", rejected)

    @override
    def process_endofpipe(self) -> None:
        """Drain every write, emit the last STATE, log the summary, apply ``max_reject_ratio``."""
        try:
            self._flush()
            self.run.finish()
            super().process_endofpipe()
        except Exception:
            self._log_stopped()
            raise
        finally:
            self.run.close()
        self.run.report(float(self.config.get("max_reject_ratio", 0.5)))

    def _all_sinks(self) -> list[WelkinSink]:
        return [s for s in self.active_sinks() if isinstance(s, WelkinSink)]

    def _flush(self) -> None:
        """Queue the writes of every sink, parents first (users, patients, events, the rest)."""
        for sink in sorted(self._all_sinks(), key=lambda s: FLUSH_ORDER.get(s.resource, 9)):
            sink.flush()


if __name__ == "__main__":
    TargetWelkin.cli()
