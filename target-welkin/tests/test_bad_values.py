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

from .bad_value_kinds import KINDS, LOOSE, STRICT, TEXT_LIMIT, fill
from .conftest import make_config, read_rejects
from .helpers import Run, Singer, WelkinReader, run_cli


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
        messages.append(singer.record(kind.stream, fill(kind.record, key)))
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
