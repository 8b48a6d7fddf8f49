"""A record with a value past a limit, or of a shape its SCHEMA refuses, is a clear reject.

One run of the real target process, against the suite's emulator, carries every
kind of bad record (values past the limits of limits.py, and the shapes whose
reasons reasons.py makes specific), each between a good record and a STATE.
Per kind: one reject keyed by the record's key names the field and the rule, the
good record before it lands, the STATE after it goes out. For the run: exit 0,
and no part of any bad value (each carries the marker, or is a date no good
record holds) reaches stderr, stdout or any file the target wrote.

With test_bad_lines.py (malformed lines) and test_bad_records.py these make the
bad-input corpus.
"""

from __future__ import annotations

import json
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import make_config, read_rejects
from .helpers import Run, Singer, WelkinReader, run_cli

MARK = "QZVVAL"
LOOSE = {"type": "object", "properties": {}, "additionalProperties": True}
STRICT = {
    "type": "object",
    "properties": {n: {"type": ["string", "null"]} for n in ("externalId", "mrn", "lastName")},
    "additionalProperties": False,
}
TEXT_LIMIT = 4096  # max_text_length of the run (a smaller line than the 65535 default)


@dataclass(frozen=True)
class Kind:
    """One bad record: its stream, body (``{k}`` is the run's key), reject and hidden values."""

    stream: str
    record: dict[str, t.Any]
    key: str  # the reject's key, ``{k}`` for the run's key
    code: str
    words: str
    hidden: tuple[str, ...] = (MARK,)


def _patient(name: str, **fields: t.Any) -> dict[str, t.Any]:
    return {"externalId": f"{{k}}-{name}", "lastName": "Vexample", **fields}


def _cdt(name: str, **fields: t.Any) -> dict[str, t.Any]:
    return {"patientId": "{k}-src", "external_id": f"{{k}}-{name}", **fields}


LIMIT = "VALUE_LIMIT"
CONTROL = "holds control or bidi-override characters"
RANGE = "a date outside min_date..max_date"

KINDS: dict[str, Kind] = {
    "first-name-1mb": Kind(
        "patients",
        _patient("v1", firstName=MARK * 150_000),
        "externalId={k}-v1",
        LIMIT,
        "'firstName': longer than 255 characters (max_name_length)",
    ),
    "last-name-256": Kind(
        "patients",
        {"externalId": "{k}-v2", "lastName": MARK + "x" * 250},
        "externalId={k}-v2",
        LIMIT,
        "'lastName': longer than 255 characters (max_name_length)",
    ),
    "city-over-string-length": Kind(
        "patients",
        _patient("v3", city=MARK + "y" * 1000),
        "externalId={k}-v3",
        LIMIT,
        "'city': longer than 1000 characters (max_string_length)",
    ),
    "nul-in-first-name": Kind(
        "patients", _patient("v4", firstName=f"{MARK}\x00a"), "externalId={k}-v4", LIMIT, CONTROL
    ),
    "esc-in-last-name": Kind(
        "patients",
        {"externalId": "{k}-v5", "lastName": f"\x1b[2J{MARK}"},
        "externalId={k}-v5",
        LIMIT,
        f"'lastName': {CONTROL}",
    ),
    "rlo-in-last-name": Kind(
        "patients",
        {"externalId": "{k}-v6", "lastName": f"\u202e{MARK}"},
        "externalId={k}-v6",
        LIMIT,
        f"'lastName': {CONTROL}",
    ),
    "isolate-in-city": Kind(
        "patients", _patient("v7", city=f"\u2066{MARK}"), "externalId={k}-v7", LIMIT, "'city'"
    ),
    "newline-in-first-name": Kind(
        "patients", _patient("v8", firstName=f"{MARK}\nB"), "externalId={k}-v8", LIMIT, CONTROL
    ),
    "c1-in-address": Kind(
        "patients",
        _patient("v9", addressLine1=f"{MARK}\x9b1m"),
        "externalId={k}-v9",
        LIMIT,
        "'addressLine1'",
    ),
    "del-in-phone": Kind(
        "patients", _patient("v10", phone=f"{MARK}\x7f"), "externalId={k}-v10", LIMIT, "'phone'"
    ),
    "bell-in-phone-capabilities": Kind(
        "patients",
        _patient("v11", primaryPhoneCapabilities=["SMS", f"{MARK}\x07"]),
        "externalId={k}-v11",
        LIMIT,
        "'primaryPhoneCapabilities'",
    ),
    "nul-in-email": Kind(
        "patients",
        _patient("v12", email=f"{MARK}@example.org\x00"),
        "externalId={k}-v12",
        LIMIT,
        "'email'",
    ),
    "birth-date-9999": Kind(
        "patients",
        _patient("v13", birthDate="9999-12-31"),
        "externalId={k}-v13",
        LIMIT,
        f"'birthDate': {RANGE}",
        ("9999-12-31",),
    ),
    "birth-date-1850": Kind(
        "patients",
        _patient("v14", birthDate="1850-03-17"),
        "externalId={k}-v14",
        LIMIT,
        f"'birthDate': {RANGE}",
        ("1850-03-17",),
    ),
    "birth-date-in-the-future": Kind(
        "patients",
        _patient("v15", birthDate="2143-05-17"),
        "externalId={k}-v15",
        LIMIT,
        "'birthDate': a birth date in the future",
        ("2143-05-17",),
    ),
    "birth-date-overflowing-utc": Kind(
        "patients",
        _patient("v16", birthDate="9999-12-31T23:00:00-05:00"),
        "externalId={k}-v16",
        "WRONG_TYPE",
        "'birthDate'",
        ("9999-12-31",),
    ),
    "external-id-with-esc": Kind(
        "patients",
        {"id": "{k}-v17", "externalId": f"{MARK}\x1b", "lastName": "Vexample"},
        "id={k}-v17",
        LIMIT,
        f"'externalId': {CONTROL}",
    ),
    "external-id-too-long": Kind(
        "patients",
        {"id": "{k}-v18", "externalId": MARK * 50, "lastName": "Vexample"},
        "id={k}-v18",
        LIMIT,
        "'externalId': longer than 255 characters",
    ),
    "source-id-too-long": Kind(
        "patients",
        {"id": MARK * 50, "lastName": "Vexample"},
        "None",
        LIMIT,
        "'id': longer than 255 characters",
    ),
    "extra-field-under-additional-properties-false": Kind(
        "strict_patients",
        {"externalId": "{k}-v20", "lastName": "Vexample", "shoeSize": f"{MARK}-44"},
        "externalId={k}-v20",
        "SCHEMA_MISMATCH",
        "field 'shoeSize': does not match the stream's SCHEMA (additionalProperties)",
    ),
    "missing-key-property": Kind(
        "strict_patients",
        {"mrn": "{k}-v21", "lastName": f"{MARK}example"},
        "mrn={k}-v21",
        "MISSING_KEY",
        "field 'externalId': the record lacks this key property",
    ),
    "patient-id-an-object": Kind(
        "cdt_allergies",
        {**_cdt("v22", allergy="Oat"), "patientId": {"id": f"{MARK}-p"}},
        "external_id={k}-v22",
        "WRONG_TYPE",
        "field 'patientId': expected a string (the patient reference)",
    ),
    "patient-id-too-long": Kind(
        "cdt_allergies",
        {**_cdt("v23", allergy="Oat"), "patientId": MARK * 50},
        "external_id={k}-v23",
        LIMIT,
        "'patientId': longer than 255 characters",
    ),
    "rlo-in-cdt-text": Kind(
        "cdt_allergies",
        _cdt("v24", allergy=f"Oat\u202d{MARK}"),
        "external_id={k}-v24",
        LIMIT,
        f"'allergy': {CONTROL}",
    ),
    "cdt-date-out-of-range": Kind(
        "cdt_cdt_insurance",
        _cdt("v25", **{"cdtf-member-id": "M1", "cdtf-start-date": "9998-11-30"}),
        "external_id={k}-v25",
        LIMIT,
        f"'cdtf-start-date': {RANGE}",
        ("9998-11-30",),
    ),
    "cdt-textarea-over-text-length": Kind(
        "cdt_cdt_vitals",
        _cdt("v26", **{"cdtf-notes": MARK * 700}),
        "external_id={k}-v26",
        LIMIT,
        f"'cdtf-notes': longer than {TEXT_LIMIT} characters (max_text_length)",
    ),
    "cdt-textarea-nul": Kind(
        "cdt_cdt_vitals",
        _cdt("v27", **{"cdtf-notes": f"line\n{MARK}\x00"}),
        "external_id={k}-v27",
        LIMIT,
        f"'cdtf-notes': {CONTROL}",
    ),
    "event-in-year-3000": Kind(
        "calendar_events",
        {
            "externalId": "{k}-v28",
            "startDateTime": "3000-01-01T10:00:00Z",
            "endDateTime": "3000-01-01T11:00:00Z",
        },
        "externalId={k}-v28",
        LIMIT,
        f"'startDateTime': {RANGE}",
        ("3000-01-01",),
    ),
    "event-participant-with-esc": Kind(
        "calendar_events",
        {
            "externalId": "{k}-v29",
            "participants": [{"participantId": f"{MARK}\x1b", "participantRole": "host"}],
        },
        "externalId={k}-v29",
        LIMIT,
        f"'participants': {CONTROL}",
    ),
    "event-additional-info-deep-nul": Kind(
        "calendar_events",
        {"externalId": "{k}-v30", "additionalInfo": {"a": [{"b": f"{MARK}\x00"}]}},
        "externalId={k}-v30",
        LIMIT,
        "'additionalInfo'",
    ),
    "encounter-title-with-osc": Kind(
        "encounters",
        _cdt("v31", title=f"\x1b]0;{MARK}\x07"),
        "external_id={k}-v31",
        LIMIT,
        f"'title': {CONTROL}",
    ),
    "encounter-type-alias-with-nul": Kind(
        "encounters",
        _cdt("v32", type=f"{MARK}\x00"),
        "external_id={k}-v32",
        LIMIT,
        f"'templateName': {CONTROL}",
    ),
    "username-with-newline": Kind(
        "users",
        {"id": "{k}-v33", "username": f"{MARK}\nadmin"},
        "id={k}-v33",
        LIMIT,
        f"'username': {CONTROL}",
    ),
    "user-first-name-too-long": Kind(
        "users",
        {"username": "{k}-v34", "firstName": MARK * 50},
        "username={k}-v34",
        LIMIT,
        "'firstName': longer than 255 characters",
    ),
}


def _fill(value: t.Any, key: str) -> t.Any:  # noqa: ANN401
    if isinstance(value, str):
        return value.replace("{k}", key)
    if isinstance(value, list):
        return [_fill(v, key) for v in value]
    if isinstance(value, dict):
        return {_fill(k, key): _fill(v, key) for k, v in value.items()}
    return value


@dataclass
class CorpusRun:
    """The one run over every kind."""

    run: Run
    config: dict[str, t.Any]
    key: str
    rejects: dict[str, dict[str, t.Any]]


@pytest.fixture(scope="module")
def corpus(emulator, tmp_path_factory, test_log_dir) -> CorpusRun:
    config = make_config(emulator, tmp_path_factory.mktemp("bad-values") / "state")
    config.update(
        max_reject_ratio=1.0,
        max_text_length=TEXT_LIMIT,
        streams={"strict_patients": {"resource": "patients"}},
    )
    key = f"bv-{uuid.uuid4().hex[:8]}"
    singer = Singer()
    messages: list[t.Any] = [
        singer.schema(stream, LOOSE)
        for stream in sorted({k.stream for k in KINDS.values()} - {"strict_patients"})
    ]
    messages.append(singer.schema("strict_patients", STRICT, keys=["externalId"]))
    # The patient the CDT records and encounters point at, by its source id.
    good = {"externalId": f"{key}-src-p", "firstName": "Good", "lastName": "Vexample"}
    messages.append(singer.record("patients", {**good, "id": f"{key}-src"}))
    for name in sorted(KINDS):
        kind = KINDS[name]
        messages.append(singer.record("patients", {**good, "externalId": f"{key}-before-{name}"}))
        messages.append(singer.record(kind.stream, _fill(kind.record, key)))
        messages.append(singer.state({"bookmarks": {"patients": f"after-{name}"}}))
    messages.append(singer.state({"bookmarks": {"patients": "end"}}))
    run = run_cli(config, messages, test_log_dir, "bad-values")
    rejects = {str(r["key"]): r for r in read_rejects(config)}
    return CorpusRun(run, config, key, rejects)


def _written_files(config: dict[str, t.Any]) -> list[Path]:
    roots = {Path(str(config["state_dir"])), Path(str(config["rejects_path"])).parent}
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_run_goes_on_and_leaks_nothing(corpus: CorpusRun):
    run = corpus.run
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states[-1] == {"bookmarks": {"patients": "end"}}
    assert len(corpus.rejects) == len(KINDS) >= 30
    hidden = {h for kind in KINDS.values() for h in kind.hidden}
    files = _written_files(corpus.config)
    assert any(p.name == "rejects.jsonl" for p in files)
    for text in (
        run.stderr,
        json.dumps(run.states),
        *(p.read_bytes().decode("latin-1") for p in files),
    ):
        for value in hidden:
            assert value not in text


@pytest.mark.parametrize("name", sorted(KINDS))
def test_bad_value_is_a_reject_naming_the_field(name, corpus: CorpusRun, emulator):
    kind = KINDS[name]
    reject = corpus.rejects[kind.key.replace("{k}", corpus.key)]
    assert reject["stream"] == kind.stream
    assert reject["errorCode"] == kind.code, reject
    assert reject["operation"] == "validate"
    assert reject["status"] is None
    assert kind.words in reject["reason"], reject
    welkin = WelkinReader(emulator)
    assert welkin.patient_by("EID", f"{corpus.key}-before-{name}") is not None
    assert {"bookmarks": {"patients": f"after-{name}"}} in corpus.run.states


def test_strip_mode_writes_the_value_without_its_control_characters(
    emu, config, key, singer, welkin, test_log_dir
):
    config["control_characters"] = "strip"
    record = {"externalId": f"{key}-s", "firstName": "An\x00n\u202e", "lastName": "Lex\x1bample"}
    run = run_cli(config, singer.stream("patients", [record]), test_log_dir, "strip-controls")
    assert run.returncode == 0, run.stderr[-2000:]
    patient = welkin.patient_by("EID", f"{key}-s")
    assert (patient["firstName"], patient["lastName"]) == ("Ann", "Lexample")
    assert read_rejects(config) == []
