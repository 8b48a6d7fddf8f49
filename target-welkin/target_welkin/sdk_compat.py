"""The one place target-welkin relies on singer-sdk internals (pinned by tests/test_sdk_compat.py).

singer-sdk 0.54 handles each Singer message in a private method of ``Target``
(``_process_record_message``, ``_process_schema_message``,
``_process_state_message``, ``_write_state_message``) and keeps the last
STATE in ``_latest_state`` and the sinks in ``_sinks_active``. A sink parses
date-times in ``_parse_timestamps_in_record``, whose warnings quote the value
(PHI), so it is turned off: the payload builder converts formats itself.

:class:`CompatTarget` and :class:`CompatSink` override those members and hand
each to a public hook of the same meaning, so the rest of the target uses
public names only. A hook receives the SDK's own handling as ``sdk`` and calls
it when the message should go the SDK's way.
"""

from __future__ import annotations

import typing as t

from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target
from typing_extensions import override

Message = dict[str, t.Any]
Handle = t.Callable[[], None]


class CompatTarget(Target):
    """A ``Target`` whose message handling goes through public hooks."""

    @override
    def _process_record_message(self, message_dict: Message) -> None:
        self.on_record_message(
            message_dict, lambda: super(CompatTarget, self)._process_record_message(message_dict)
        )

    @override
    def _process_schema_message(self, message_dict: Message) -> None:
        self.on_schema_message(
            message_dict, lambda: super(CompatTarget, self)._process_schema_message(message_dict)
        )

    @override
    def _process_state_message(self, message_dict: Message) -> None:
        self.on_state_message(
            message_dict, lambda: super(CompatTarget, self)._process_state_message(message_dict)
        )

    @override
    def _write_state_message(self, state: Message) -> None:
        self.on_write_state(state, lambda: super(CompatTarget, self)._write_state_message(state))

    @property
    def latest_state(self) -> Message | None:
        """The last STATE value read (the SDK emits it once the sinks are drained)."""
        return t.cast("Message | None", self._latest_state)

    def active_sink(self, stream_name: str) -> Sink | None:
        """The sink already made for ``stream_name``, if any (no sink is made here)."""
        return self._sinks_active.get(stream_name)

    def active_sinks(self) -> list[Sink]:
        """Every sink made so far."""
        return list(self._sinks_active.values())

    def on_record_message(self, message: Message, sdk: Handle) -> None:
        """A RECORD message; ``sdk()`` validates it and hands it to its sink."""
        sdk()

    def on_schema_message(self, message: Message, sdk: Handle) -> None:
        """A SCHEMA message; ``sdk()`` registers the stream (raises ``InvalidInputLine``)."""
        sdk()

    def on_state_message(self, message: Message, sdk: Handle) -> None:
        """A STATE message; ``sdk()`` keeps it as the latest state."""
        sdk()

    def on_write_state(self, state: Message, sdk: Handle) -> None:
        """A STATE about to be written to stdout; ``sdk()`` writes it."""
        sdk()


class CompatSink(Sink):
    """A ``Sink`` that leaves date-time strings as they come (never logging a value)."""

    @override
    def _parse_timestamps_in_record(
        self,
        record: dict[str, t.Any],
        schema: dict[str, t.Any],
        treatment: t.Any,  # noqa: ANN401
    ) -> None:
        # The SDK's parser logs the value it cannot parse; formats are the payload builder's job.
        return
