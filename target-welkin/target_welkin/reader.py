"""Singer input with msgspec, where a malformed line is a reject instead of the end of the run.

singer-sdk's msgspec reader logs an unparsable line verbatim and stops the
run; a line of a PHI feed must never reach a log, and one bad line must not
cost the good ones around it. Lines are still parsed with msgspec (fast).
"""

from __future__ import annotations

import typing as t
from collections import Counter, defaultdict

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from typing_extensions import override

KNOWN_TYPES = frozenset({"RECORD", "SCHEMA", "STATE", "ACTIVATE_VERSION", "BATCH"})


class MalformedLine(ValueError):
    """A line that is not a Singer message; the message says why, never what the line held."""


class WelkinMessageReader(MsgSpecReader):
    """msgspec reader that hands malformed lines to ``on_malformed`` and goes on.

    ``on_stop`` is called when handling a message fails (the run is about to stop).
    """

    def __init__(self) -> None:
        """No handler yet: the target sets ``on_malformed``."""
        super().__init__()
        self.on_malformed: t.Callable[[int, str], None] | None = None
        self.on_stop: t.Callable[[], None] | None = None

    @override
    def deserialize_json(self, line: str) -> dict[str, t.Any]:
        """Decode one line.

        Raises:
            MalformedLine: not JSON, or not a JSON object.
        """
        try:
            message = decoder.decode(line)
        except msgspec.DecodeError:
            msg = "the line is not valid JSON"
            raise MalformedLine(msg) from None
        if not isinstance(message, dict):
            msg = "the line is not a JSON object"
            raise MalformedLine(msg)
        return message

    @override
    def process_lines(
        self,
        file_input: t.IO[str] | None,
        callbacks: dict[str, t.Callable[[dict[str, t.Any]], None]],
    ) -> t.Counter[str]:
        """Dispatch each line to its callback; malformed lines go to ``on_malformed``."""
        stats: dict[str, int] = defaultdict(int)
        for number, line in enumerate(file_input or self.default_input, start=1):
            if not line.strip():
                continue
            try:
                message = self.deserialize_json(line)
                kind = message.get("type")
                if kind not in KNOWN_TYPES:
                    msg = "the line has no known Singer message type"
                    raise MalformedLine(msg)
            except MalformedLine as exc:
                if self.on_malformed is None:
                    raise
                self.on_malformed(number, str(exc))
                stats["MALFORMED"] += 1
                continue
            try:
                callbacks[str(kind)](message)
            except Exception:
                if self.on_stop is not None:
                    self.on_stop()  # the run ends here: say how far it got
                raise
            stats[str(kind)] += 1
        return Counter(**stats)
