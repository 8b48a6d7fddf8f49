"""A malformed input line is a reject, never the end of the run.

One run of the real target process, against the suite's emulator, carries every
kind of malformed line, each between two good records and followed by a STATE
(one run for all kinds keeps the suite fast). Per kind: one reject names the line
and the problem, the good records around it land, the STATE after it goes out.
For the run: exit 0, and no part of any bad line's values (each carries the
marker) reaches stderr, stdout or any file the target wrote.
"""

from __future__ import annotations

import json
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import make_config, read_rejects
from .helpers import PATIENT_SCHEMA, Run, Singer, WelkinReader, run_cli

MARK = "QZVMARK"
RECORD_HEAD = '{"type": "RECORD", "stream": "patients", "record": '


def _record_line(body: str) -> bytes:
    return (RECORD_HEAD + body + "}").encode()


def _nested(depth: int) -> bytes:
    value = "[" * depth + f'"{MARK}-deep"' + "]" * depth
    return _record_line(f'{{"externalId": "deep", "firstName": {value}}}')


# kind: (the bad line, words of the reject's reason, the reject's stream)
KINDS: dict[str, tuple[bytes, str, str | None]] = {
    "truncated-json": (
        _record_line(f'{{"externalId": "{MARK}-trunc"')[:-1],
        "not valid JSON",
        None,
    ),
    "bare-string": (f'"{MARK}-bare"'.encode(), "not a JSON object", None),
    "bare-number": (b"31415926", "not a JSON object", None),
    "array": (f'["{MARK}-array", {{"type": "STATE"}}]'.encode(), "not a JSON object", None),
    "nan": (
        _record_line(f'{{"externalId": "n", "firstName": "{MARK}-nan", "mrn": NaN}}'),
        "not valid JSON",
        None,
    ),
    "infinity": (
        _record_line(f'{{"externalId": "i", "firstName": "{MARK}-inf", "mrn": -Infinity}}'),
        "not valid JSON",
        None,
    ),
    "over-max-line-bytes": (
        _record_line(f'{{"externalId": "big", "firstName": "{MARK * 1_400_000}"}}'),
        "longer than max_line_bytes (8388608)",
        None,
    ),
    "nested-1000": (_nested(1000), "deeper than 64 levels", None),
    "nested-66": (_nested(64), "deeper than 64 levels", None),
    "latin-1-byte": (
        (RECORD_HEAD + f'{{"externalId": "l", "firstName": "{MARK}-Ren').encode() + b'\xe9e"}}',
        "not valid UTF-8",
        None,
    ),
    "nul-byte": (
        _record_line(f'{{"externalId": "z", "firstName": "{MARK}-nul\x00x"}}'),
        "not valid JSON",
        None,
    ),
    "bom": (
        b"\xef\xbb\xbf" + _record_line(f'{{"firstName": "{MARK}-bom"}}'),
        "not valid JSON",
        None,
    ),
    "empty-object": (b"{}", "no known Singer message type", None),
    "no-type": (
        json.dumps({"stream": "patients", "record": {"firstName": f"{MARK}-notype"}}).encode(),
        "no known Singer message type",
        None,
    ),
    "unknown-type": (
        json.dumps({"type": f"{MARK}-TYPE", "value": {"v": f"{MARK}-v"}}).encode(),
        "no known Singer message type",
        None,
    ),
    "state-without-value": (b'{"type": "STATE"}', "STATE message: `value` is not an object", None),
    "state-value-string": (
        json.dumps({"type": "STATE", "value": f"{MARK}-state"}).encode(),
        "STATE message: `value` is not an object",
        None,
    ),
    "state-value-list": (
        json.dumps({"type": "STATE", "value": [f"{MARK}-state"]}).encode(),
        "STATE message: `value` is not an object",
        None,
    ),
    "activate-version-unknown-stream": (
        b'{"type": "ACTIVATE_VERSION", "stream": "never_seen", "version": 7}',
        "ACTIVATE_VERSION message: no SCHEMA came for the stream",
        "never_seen",
    ),
    "activate-version-without-version": (
        b'{"type": "ACTIVATE_VERSION", "stream": "patients"}',
        "ACTIVATE_VERSION message: `version` is not an integer",
        "patients",
    ),
    "batch": (
        json.dumps(
            {
                "type": "BATCH",
                "stream": "patients",
                "encoding": {"format": "jsonl"},
                "manifest": [f"file:///{MARK}-batch.jsonl"],
            }
        ).encode(),
        "BATCH message: not supported",
        "patients",
    ),
    "record-without-stream": (
        json.dumps({"type": "RECORD", "record": {"firstName": f"{MARK}-nostream"}}).encode(),
        "RECORD message: `stream` is not a name",
        None,
    ),
    "record-without-record": (
        b'{"type": "RECORD", "stream": "patients"}',
        "RECORD message: `record` is not an object",
        "patients",
    ),
    "record-is-a-string": (
        json.dumps({"type": "RECORD", "stream": "patients", "record": f"{MARK}-rec"}).encode(),
        "RECORD message: `record` is not an object",
        "patients",
    ),
    "stream-name-forges-a-log-line": (
        json.dumps(
            {
                "type": "RECORD",
                "stream": f"patients\nINFO {MARK} forged",
                "record": {"firstName": f"{MARK}-forge"},
            }
        ).encode(),
        "RECORD message: `stream` holds control characters",
        None,
    ),
    "schema-without-properties": (
        b'{"type": "SCHEMA", "stream": "side", "schema": {"type": "object"}}',
        "SCHEMA message: `schema.properties` is not an object",
        "side",
    ),
    "schema-not-an-object": (
        json.dumps({"type": "SCHEMA", "stream": "side", "schema": f"{MARK}-schema"}).encode(),
        "SCHEMA message: `schema` is not an object",
        "side",
    ),
    "key-properties-a-string": (
        json.dumps(
            {
                "type": "SCHEMA",
                "stream": "side",
                "schema": {"type": "object", "properties": {}},
                "key_properties": "externalId",
            }
        ).encode(),
        "SCHEMA message: `key_properties` is not a list of field names",
        "side",
    ),
}


def _written_files(config: dict[str, object]) -> list[Path]:
    roots = {Path(str(config["state_dir"])), Path(str(config["rejects_path"])).parent}
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


@dataclass
class CorpusRun:
    """The one run over every kind: its outcome, its config and where each bad line was."""

    run: Run
    config: dict[str, t.Any]
    key: str
    line_of: dict[str, int]
    rejects: dict[str, dict[str, t.Any]]


def _good(key: str, name: str) -> dict[str, t.Any]:
    return {"externalId": f"{key}-{name}", "firstName": "Good", "lastName": "Lexample"}


@pytest.fixture(scope="module")
def corpus(emulator, tmp_path_factory, test_log_dir) -> CorpusRun:
    config = make_config(emulator, tmp_path_factory.mktemp("bad-lines") / "state")
    key = f"bl-{uuid.uuid4().hex[:8]}"
    singer = Singer()
    messages: list[dict[str, t.Any] | bytes] = [
        singer.schema("patients", PATIENT_SCHEMA, keys=["externalId"]),
        # Well-formed lines that look like the bad ones are no rejects.
        {"type": "ACTIVATE_VERSION", "stream": "patients", "version": 1},
        {"type": "SCHEMA", "stream": "side", "schema": {"properties": {}}, "key_properties": None},
        b'{"type": "STATE", "value": {"bookmarks": {"patients": "\\u00e9[[[{{{"}}}',
    ]
    line_of = {}
    for kind in sorted(KINDS):
        messages.append(singer.record("patients", _good(key, f"before-{kind}")))
        messages.append(KINDS[kind][0])
        line_of[kind] = len(messages)
        messages.append(singer.state({"bookmarks": {"patients": f"after-{kind}"}}))
    messages.append(singer.record("patients", _good(key, "last")))
    messages.append(singer.state({"bookmarks": {"patients": "end"}}))
    run = run_cli(config, messages, test_log_dir, "bad-lines")
    rejects = {str(r["key"]): r for r in read_rejects(config)}
    return CorpusRun(run, config, key, line_of, rejects)


def test_run_goes_on_and_leaks_nothing(corpus: CorpusRun, emulator):
    run = corpus.run
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states[-1] == {"bookmarks": {"patients": "end"}}
    assert WelkinReader(emulator).patient_by("EID", f"{corpus.key}-last") is not None
    assert len(corpus.rejects) == len(KINDS) >= 15
    # No part of a bad line's values anywhere the target wrote.
    assert MARK not in run.stderr
    assert MARK not in json.dumps(run.states)
    files = _written_files(corpus.config)
    assert any(p.name == "rejects.jsonl" for p in files)
    for path in files:
        assert MARK.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_malformed_line_is_a_reject(kind, corpus: CorpusRun, emulator):
    _line, words, stream = KINDS[kind]
    reject = corpus.rejects[f"line {corpus.line_of[kind]}"]
    assert reject["errorCode"] == "MALFORMED_LINE"
    assert reject["operation"] == "read"
    assert reject["stream"] == stream
    assert words in reject["reason"], reject
    # The good record before it landed, and the STATE after it went out.
    welkin = WelkinReader(emulator)
    assert welkin.patient_by("EID", f"{corpus.key}-before-{kind}") is not None
    assert {"bookmarks": {"patients": f"after-{kind}"}} in corpus.run.states


def test_max_line_bytes_setting_bounds_lines(emu, config, key, singer, welkin, test_log_dir):
    config["max_line_bytes"] = 2048
    long_name = f"{MARK}-" + "x" * 2100
    messages = [
        singer.schema("patients", PATIENT_SCHEMA, keys=["externalId"]),
        singer.record("patients", {"externalId": f"{key}-long", "lastName": long_name}),
        singer.record("patients", _good(key, "short")),
        singer.state({"bookmarks": {"patients": "end"}}),
    ]
    run = run_cli(config, messages, test_log_dir, "max-line-bytes")
    assert run.returncode == 0, run.stderr[-2000:]
    [reject] = read_rejects(config)
    assert reject["key"] == "line 2"
    assert "longer than max_line_bytes (2048)" in reject["reason"]
    assert welkin.patient_by("EID", f"{key}-short") is not None
    assert welkin.patient_by("EID", f"{key}-long") is None
    assert run.states[-1] == {"bookmarks": {"patients": "end"}}
    assert MARK not in run.stderr


def test_max_line_bytes_too_small_is_refused(emu, config, singer, test_log_dir):
    config["max_line_bytes"] = 0
    run = run_cli(config, [singer.state({"bookmarks": {}})], test_log_dir, "max-line-bytes-0")
    assert run.returncode != 0
    assert "max_line_bytes" in run.stderr
    assert run.states == []
