"""A malformed input line is a reject, never the end of the run.

Each kind of malformed line is fed to the real target process, between good
records, against the suite's emulator: the run ends well, the good records land,
the last STATE goes out, one reject names the line and the problem, and no part
of the bad line's values (each carries the marker) reaches stderr, stdout or any
file the target wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import read_rejects
from .helpers import PATIENT_SCHEMA, run_cli

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


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_malformed_line_is_a_reject(kind, emu, config, key, singer, welkin, test_log_dir):
    line, words, stream = KINDS[kind]
    good = [
        {"externalId": f"{key}-g{i}", "firstName": "Good", "lastName": "Lexample"} for i in (1, 2)
    ]
    state = {"bookmarks": {"patients": f"{key}-end"}}
    messages = [
        singer.schema("patients", PATIENT_SCHEMA, keys=["externalId"]),
        singer.record("patients", good[0]),
        singer.state({"bookmarks": {"patients": f"{key}-mid"}}),
        line,
        singer.record("patients", good[1]),
        singer.state(state),
    ]
    run = run_cli(config, messages, test_log_dir, f"bad-line-{kind}")

    assert run.returncode == 0, run.stderr[-2000:]
    for patient in good:
        assert welkin.patient_by("EID", patient["externalId"]) is not None
    assert run.states[-1] == state
    [reject] = read_rejects(config)
    assert reject["key"] == "line 4"
    assert reject["errorCode"] == "MALFORMED_LINE"
    assert reject["operation"] == "read"
    assert reject["stream"] == stream
    assert words in reject["reason"], reject
    # No part of the bad line's values anywhere the target wrote.
    assert MARK not in run.stderr
    assert MARK not in json.dumps(run.states)
    for path in _written_files(config):
        assert MARK.encode() not in path.read_bytes(), path


def test_corpus_is_wide():
    assert len(KINDS) >= 15
