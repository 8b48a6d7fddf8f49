"""Singer input with msgspec, where a malformed line is a reject instead of the end of the run.

singer-sdk's msgspec reader logs an unparsable line verbatim and stops the
run; a line of a PHI feed must never reach a log, and one bad line must not
cost the good ones around it. Lines are read as bytes (any byte may arrive),
bounded in size and nesting depth, decoded as UTF-8 one by one, and their
envelope is checked before dispatch, so the SDK's handlers (whose errors quote
the line) only ever see well-formed messages. Reasons name the message part,
never a value.
"""

from __future__ import annotations

import re
import sys
import typing as t
from collections import Counter, defaultdict

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from singer_sdk.singerlib.exceptions import InvalidInputLine
from typing_extensions import override

KNOWN_TYPES = frozenset({"RECORD", "SCHEMA", "STATE", "ACTIVATE_VERSION", "BATCH"})
MAX_DEPTH = 64
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
# Quotes and brackets only, brackets all of one kind (depth does not depend on the kind).
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
# C0, DEL and C1 controls, and the Unicode line separators: a stream name holding
# one could forge or break a log line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class MalformedLine(ValueError):
    """A line that is not a usable Singer message; the message says why, never what the line held.

    ``kind`` and ``stream`` are the message type and stream name when the line got that far.
    """

    def __init__(self, reason: str, *, kind: str | None = None, stream: str | None = None) -> None:
        """Keep the reason and what is known of the message."""
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.stream = stream


def _as_bytes(line: str | bytes) -> bytes:
    # Text input (tests, the SDK's file_input) is re-encoded; stdin is read as bytes.
    return line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line


def nesting_depth(line: bytes) -> int:
    """How deeply the JSON in ``line`` nests arrays and objects (strings skipped).

    Exact up to ``MAX_DEPTH``; ``MAX_DEPTH + 1`` for any line nested deeper. 0 when
    the line holds too few brackets to nest deeper than the limit (no scan).
    """
    if line.count(b"[") + line.count(b"{") <= MAX_DEPTH:
        return 0  # cannot be deeper than the limit: skip the scan (the common case)
    if b"\\" in line:
        # Escapes go first, escaped backslashes before escaped quotes (as the JSON
        # reader pairs them, from the left): then every quote opens or closes a string.
        line = line.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = line.translate(_ONE_KIND, _NOT_STRUCTURE)  # quotes and brackets
    brackets = kept.replace(b'""', b"")  # the strings without brackets
    if b'"' in brackets:  # some string holds brackets: keep what is outside strings
        brackets = b"".join(kept.split(b'"')[::2])
    # Each pass removes the innermost pairs, one level: all in C, at most MAX_DEPTH + 1 passes.
    depth = 0
    while brackets and depth <= MAX_DEPTH:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            break  # unbalanced: not JSON, the decoder says so
        brackets = inner
        depth += 1
    return depth


def _require(condition: bool, kind: str, stream: str | None, reason: str) -> None:
    if not condition:
        raise MalformedLine(f"{kind} message: {reason}", kind=kind, stream=stream)


def check_envelope(message: dict[str, t.Any], known_stream: t.Callable[[str], bool]) -> None:
    """Check the parts of a Singer message the SDK's handlers rely on.

    Raises:
        MalformedLine: a part is missing or of the wrong type, or the message
            cannot be handled (BATCH, ACTIVATE_VERSION for a stream never seen).
    """
    kind = message.get("type")
    if kind not in KNOWN_TYPES:
        msg = "the line has no known Singer message type (`type`)"
        raise MalformedLine(msg)
    kind = str(kind)
    raw_stream = message.get("stream")
    stream = raw_stream if isinstance(raw_stream, str) else None
    if kind != "STATE":
        _require(stream is not None and stream != "", kind, None, "`stream` is not a name")
        _require(not _CONTROL.search(str(stream)), kind, None, "`stream` holds control characters")
    if kind == "STATE":
        _require(isinstance(message.get("value"), dict), kind, None, "`value` is not an object")
    elif kind == "RECORD":
        _require(isinstance(message.get("record"), dict), kind, stream, "`record` is not an object")
    elif kind == "SCHEMA":
        schema = message.get("schema")
        _require(isinstance(schema, dict), kind, stream, "`schema` is not an object")
        properties = t.cast("dict[str, t.Any]", schema).get("properties")
        _require(isinstance(properties, dict), kind, stream, "`schema.properties` is not an object")
        keys = message.get("key_properties", [])
        _require(
            keys is None or (isinstance(keys, list) and all(isinstance(k, str) for k in keys)),
            kind,
            stream,
            "`key_properties` is not a list of field names",
        )
    elif kind == "ACTIVATE_VERSION":
        version = message.get("version")
        _require(
            isinstance(version, int) and not isinstance(version, bool),
            kind,
            stream,
            "`version` is not an integer",
        )
        _require(known_stream(str(stream)), kind, stream, "no SCHEMA came for the stream")
    else:  # BATCH
        _require(False, kind, stream, "not supported: run the tap without batch_config")


class WelkinMessageReader(MsgSpecReader):
    """msgspec reader that hands malformed lines to ``on_malformed`` and goes on.

    ``on_stop`` is called when handling a message fails (the run is about to stop).
    ``known_stream`` tells whether a SCHEMA came for a stream; ``max_line_bytes``
    bounds one line.
    """

    def __init__(self) -> None:
        """No handler yet: the target sets ``on_malformed``."""
        super().__init__()
        self.on_malformed: t.Callable[[int, MalformedLine], None] | None = None
        self.on_stop: t.Callable[[], None] | None = None
        self.known_stream: t.Callable[[str], bool] = lambda _stream: True
        self.max_line_bytes = DEFAULT_MAX_LINE_BYTES

    @override
    def deserialize_json(self, line: str | bytes) -> dict[str, t.Any]:
        """Decode one line.

        Raises:
            MalformedLine: not UTF-8, nested too deep, not JSON, or not a JSON object.
        """
        raw = _as_bytes(line)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"the line is not valid UTF-8 (byte {exc.start + 1})"
            raise MalformedLine(msg) from None
        if nesting_depth(raw) > MAX_DEPTH:
            msg = f"the line nests arrays or objects deeper than {MAX_DEPTH} levels"
            raise MalformedLine(msg)
        try:
            message = decoder.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            msg = "the line is not valid JSON"
            raise MalformedLine(msg) from None
        if not isinstance(message, dict):
            msg = "the line is not a JSON object"
            raise MalformedLine(msg)
        return message

    def lines(self, file_input: t.IO[t.Any] | None) -> t.Iterator[bytes | None]:
        """Each line as bytes, or None for a line longer than ``max_line_bytes`` (skipped)."""
        source = file_input if file_input is not None else sys.stdin.buffer
        limit = self.max_line_bytes
        while raw := _as_bytes(source.readline(limit + 1)):
            if len(raw.rstrip(b"\r\n")) <= limit:
                yield raw
                continue
            while raw and not raw.endswith(b"\n"):  # drop the rest, a chunk at a time
                raw = _as_bytes(source.readline(_CHUNK))
            yield None

    @override
    def process_lines(
        self,
        file_input: t.IO[t.Any] | None,
        callbacks: dict[str, t.Callable[[dict[str, t.Any]], None]],
    ) -> t.Counter[str]:
        """Dispatch each line to its callback; malformed lines go to ``on_malformed``."""
        stats: dict[str, int] = defaultdict(int)
        for number, line in enumerate(self.lines(file_input), start=1):
            if line is not None and not line.strip():
                continue
            try:
                if line is None:
                    msg = f"the line is longer than max_line_bytes ({self.max_line_bytes})"
                    raise MalformedLine(msg)
                message = self.deserialize_json(line)
                check_envelope(message, self.known_stream)
                kind = str(message["type"])
                try:
                    callbacks[kind](message)
                except InvalidInputLine:
                    # The SDK's message quotes the line: keep only which part it was.
                    msg = f"{kind} message: a required part is missing or malformed"
                    raise MalformedLine(msg, kind=kind) from None
            except MalformedLine as exc:
                if self.on_malformed is None:
                    raise
                self.on_malformed(number, exc)
                stats["MALFORMED"] += 1
                continue
            except Exception:
                if self.on_stop is not None:
                    self.on_stop()  # the run ends here: say how far it got
                raise
            stats[kind] += 1
        return Counter(**stats)
