"""Unit tests of the reader's pure logic: depth, line bounds, envelope checks, dispatch."""

from __future__ import annotations

import io
import json
import random
import typing as t

import pytest
from singer_sdk.singerlib.exceptions import InvalidInputLine
from target_welkin.reader import (
    MAX_DEPTH,
    MalformedLine,
    WelkinMessageReader,
    check_envelope,
    nesting_depth,
)


def test_nesting_depth_skips_strings():
    assert nesting_depth(b'{"a": "' + b"[" * 500 + b'"}') == 1  # brackets inside a string
    wide = b'"w": ' + b"[" + b"[{}]," * 40 + b"[]]"  # many brackets, 3 deep
    deep = b'{"a": ' + b"[" * 60 + b"]" * 60 + b", " + wide + b"}"
    assert nesting_depth(deep) == 61
    escaped = b'{"a": "\\"[[", "b": ' + b"[" * 62 + b"]" * 62 + b", " + wide + b"}"
    assert nesting_depth(escaped) == 63
    backslash_then_quote = b'{"a": "x\\\\", "b": "[[[", "c": ' + b"[" * 70 + b"]" * 70 + b"}"
    assert nesting_depth(backslash_then_quote) == MAX_DEPTH + 1
    assert nesting_depth(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) == 0  # under the limit: no scan
    assert nesting_depth(b"[" * 1000 + b"]" * 1000) == MAX_DEPTH + 1  # capped: deeper than allowed
    assert nesting_depth(b"]" * 100 + b"[" * 100) == 0  # unbalanced: left to the decoder


def _reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_reference_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_reference_depth, value), default=0)
    return 0


def test_nesting_depth_matches_the_decoded_document():
    rng = random.Random(9)
    alphabet = ['"', "\\", "[", "]", "{", "}", "a", "\u00e9"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))

    def build(level: int) -> object:
        # One deep path, with strings and shallow siblings beside it at every level.
        if level == 0:
            return text()
        items = [build(level - 1), text(), *([[text()], {}] if rng.random() < 0.5 else [])]
        rng.shuffle(items)
        return items if rng.random() < 0.5 else {f"k{i}[": v for i, v in enumerate(items)}

    for _ in range(300):
        document = [build(rng.randrange(1, 90)) for _ in range(rng.randrange(1, 4))]
        line = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode()
        expected = min(_reference_depth(document), MAX_DEPTH + 1)
        brackets = line.count(b"[") + line.count(b"{")
        assert nesting_depth(line) == (expected if brackets > MAX_DEPTH else 0), line


def test_lines_bounds_each_line_and_goes_on():
    reader = WelkinMessageReader()
    reader.max_line_bytes = 10
    source = io.BytesIO(b"short\n" + b"x" * 25 + b"\nafter\nexactly10!\n")
    assert list(reader.lines(source)) == [b"short\n", None, b"after\n", b"exactly10!\n"]


def test_lines_reads_text_input_too():
    reader = WelkinMessageReader()
    assert list(reader.lines(io.StringIO("é\n"))) == ["é\n".encode()]


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"type": "STATE", "value": 1}, "`value` is not an object"),
        ({"type": "RECORD", "stream": "", "record": {}}, "`stream` is not a name"),
        ({"type": "RECORD", "stream": "a\u2028b", "record": {}}, "control characters"),
        ({"type": "SCHEMA", "stream": "s", "schema": {"properties": []}}, "schema.properties"),
        ({"type": "ACTIVATE_VERSION", "stream": "s", "version": True}, "`version`"),
        ({"type": "ACTIVATE_VERSION", "stream": "nope", "version": 1}, "no SCHEMA came"),
        ({"type": "BATCH", "stream": "s"}, "not supported"),
    ],
)
def test_check_envelope_refuses(message, words):
    with pytest.raises(MalformedLine) as raised:
        check_envelope(message, lambda name: name == "s")
    assert words in raised.value.reason


def test_check_envelope_accepts_well_formed_messages():
    for message in (
        {"type": "STATE", "value": {}},
        {"type": "RECORD", "stream": "s", "record": {}},
        {"type": "SCHEMA", "stream": "s", "schema": {"properties": {}}, "key_properties": None},
        {"type": "ACTIVATE_VERSION", "stream": "s", "version": 3},
    ):
        check_envelope(message, lambda name: name == "s")


def test_process_lines_rejects_and_dispatches():
    reader = WelkinMessageReader()
    malformed: list[tuple[int, str]] = []
    reader.on_malformed = lambda number, exc: malformed.append((number, exc.reason))
    seen: list[dict[str, t.Any]] = []
    good = json.dumps({"type": "STATE", "value": {"n": 1}}).encode()
    source = io.BytesIO(b"\n".join([good, b"\xe9", b"", b'{"type": "STATE"}', good]) + b"\n")
    counts = reader.process_lines(source, {"STATE": seen.append})
    assert [m["value"] for m in seen] == [{"n": 1}, {"n": 1}]
    assert malformed == [
        (2, "the line is not valid UTF-8 (byte 1)"),
        (4, "STATE message: `value` is not an object"),
    ]
    assert counts["MALFORMED"] == 2
    assert counts["STATE"] == 2


def test_sdk_errors_about_the_line_become_rejects_without_the_line():
    reader = WelkinMessageReader()
    malformed: list[str] = []
    reader.on_malformed = lambda _number, exc: malformed.append(str(exc))

    def quotes_the_line(message: dict[str, t.Any]) -> None:
        msg = f"bad line: {message}"
        raise InvalidInputLine(msg)

    line = json.dumps({"type": "RECORD", "stream": "s", "record": {"v": "QZVMARK"}})
    reader.process_lines(io.StringIO(line + "\n"), {"RECORD": quotes_the_line})
    assert malformed == ["RECORD message: a required part is missing or malformed"]
