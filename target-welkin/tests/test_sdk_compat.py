"""Pins the singer-sdk internals ``sdk_compat.py`` relies on: a change in the SDK fails here."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import typing as t

from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target
from target_welkin.sdk_compat import CompatSink, CompatTarget, Handle, Message
from typing_extensions import override

SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
}


class Recording(CompatSink):
    """Keeps what reaches ``process_record``."""

    seen: t.ClassVar[list[dict[str, t.Any]]] = []

    @override
    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        self.seen.append(dict(record))

    @override
    def process_batch(self, context: dict[str, t.Any]) -> None:
        return


class Hooked(CompatTarget):
    """Counts every hook."""

    name = "target-compat-probe"
    config_jsonschema: t.ClassVar[dict[str, t.Any]] = {"type": "object", "properties": {}}
    default_sink_class = Recording

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[str] = []

    @override
    def on_record_message(self, message: Message, sdk: Handle) -> None:
        self.calls.append("record")
        sdk()

    @override
    def on_schema_message(self, message: Message, sdk: Handle) -> None:
        self.calls.append("schema")
        sdk()

    @override
    def on_state_message(self, message: Message, sdk: Handle) -> None:
        self.calls.append("state")
        sdk()

    @override
    def on_write_state(self, state: Message, sdk: Handle) -> None:
        self.calls.append("write_state")
        sdk()


def test_private_members_exist_with_the_signatures_used():
    for name in (
        "_process_record_message",
        "_process_schema_message",
        "_process_state_message",
    ):
        assert list(inspect.signature(getattr(Target, name)).parameters) == [
            "self",
            "message_dict",
        ]
    assert list(inspect.signature(Target._write_state_message).parameters) == ["self", "state"]
    assert list(inspect.signature(Sink._parse_timestamps_in_record).parameters) == [
        "self",
        "record",
        "schema",
        "treatment",
    ]
    assert "get_validator" in vars(Sink)


def test_hooks_see_every_message_and_dates_stay_strings():
    Recording.seen.clear()
    target = Hooked(config={})
    lines = [
        {"type": "SCHEMA", "stream": "s", "schema": SCHEMA, "key_properties": ["id"]},
        {"type": "RECORD", "stream": "s", "record": {"id": "1", "at": "2026-01-02T03:04:05Z"}},
        {"type": "STATE", "value": {"b": 1}},
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in lines)))
    assert target.calls[:3] == ["schema", "record", "state"]
    assert "write_state" in target.calls
    assert json.loads(out.getvalue().splitlines()[-1]) == {"b": 1}
    assert target.latest_state == {"b": 1}
    assert isinstance(target.active_sink("s"), Recording)
    assert [type(s) for s in target.active_sinks()] == [Recording]
    # The SDK's timestamp parser is off: the value is the string that came in.
    assert Recording.seen[0]["at"] == "2026-01-02T03:04:05Z"
