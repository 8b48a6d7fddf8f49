"""Incremental runs: only what changed comes out again, and an interrupted run loses nothing."""

from __future__ import annotations

import itertools
import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import tap_welkin_testkit as kit
from tap_welkin.streams import RESOURCE_STREAMS
from welkin_emulator.testing import EmulatorProcess

_counter = itertools.count()
#: Emitted in full on every run: users, and the Designer configuration (no update time).
FULL_TABLE = {"users"} | {c.name for c in RESOURCE_STREAMS if c.replication_key is None}


@pytest.fixture(scope="module")
def own() -> Iterator[EmulatorProcess]:
    """An emulator this module may change."""
    emu = kit.start_emulator(patients=25, seed=21)
    yield emu
    emu.stop()


def _text_field(api: kit.WelkinApi, cdt_name: str) -> str:
    formation = api.call("GET", f"formations/current/cdts/{cdt_name}")
    return next(
        f["name"]
        for f in formation["fields"]
        if f["type"] == "text"
        and f["editable"]
        and f["name"] not in {"external_id", "external_guid"}
    )


def change_one_of_each(emu: EmulatorProcess) -> dict[str, set[str]]:
    """Change one patient, CDT record, encounter and calendar event through the API."""
    api = kit.WelkinApi(emu)
    tag = f"changed-{next(_counter)}"
    patient = api.export("PATIENT")[0]
    api.call("PATCH", f"patients/{patient['id']}", json={"city": tag})
    record = api.export("CDT_RECORD")[-1]
    field = _text_field(api, record["cdtName"])
    api.call(
        "PATCH",
        f"patients/{record['patientId']}/cdts/{record['cdtName']}/{record['id']}",
        json={field: tag},
    )
    encounter = api.export("ENCOUNTER")[0]
    api.call(
        "PATCH",
        f"patients/{encounter['patientId']}/encounters/{encounter['id']}",
        json={"notes": tag},
    )
    event = api.export("CALENDAR_EVENT")[0]
    api.call("PATCH", f"calendar/events/{event['id']}", json={"eventTitle": tag})
    return {
        "patients": {patient["id"]},
        kit_cdt_stream(record["cdtName"]): {record["id"]},
        "encounters": {encounter["id"]},
        "calendar_events": {event["id"]},
    }


def kit_cdt_stream(cdt_name: str) -> str:
    """The stream name of a CDT in the emulator's formation (no clashes there)."""
    from tap_welkin.streams import cdt_stream_name

    return cdt_stream_name(cdt_name)


@pytest.mark.parametrize("export", [True, False], ids=["export", "rest"])
def test_second_run_emits_only_changed_records(own: EmulatorProcess, export: bool) -> None:
    config = kit.tap_config(own, export=export)
    first = kit.run_tap(config, name=f"incremental-first-{export}")
    assert first.counts()["patients"] == 25
    unchanged = kit.run_tap(config, state=first.state, name=f"incremental-noop-{export}")
    # Full-table streams come again; every incremental stream is quiet when nothing changed.
    assert set(unchanged.counts()) == FULL_TABLE
    changed = change_one_of_each(own)
    second = kit.run_tap(config, state=unchanged.state, name=f"incremental-second-{export}")
    emitted = {s: set(r) for s, r in second.records.items() if s not in FULL_TABLE}
    assert emitted == changed
    assert second.counts()["patients"] == 1  # and only once


def test_lookback_window_reemits_recent_records(own: EmulatorProcess) -> None:
    config = kit.tap_config(own)
    first = kit.run_tap(config, name="lookback-first")
    again = kit.run_tap(
        {**config, "lookback_window": "P36500D"}, state=first.state, name="lookback-again"
    )
    assert again.counts()["patients"] == first.counts()["patients"]


def _interrupted_run(config: dict[str, Any], stop_when: Any) -> tuple[list[dict[str, Any]], dict]:  # noqa: ANN401
    """Run the tap and kill it (SIGKILL) at the first STATE message for which ``stop_when`` holds.

    Returns the messages read up to that STATE (what a target would have committed)
    and that state.
    """
    folder = kit.temp_dir("kill-")
    (folder / "config.json").write_text(json.dumps(config))
    log_file = kit.log_dir() / f"tap-welkin-interrupted-{uuid.uuid4().hex[:8]}.stderr.log"
    kept: list[dict[str, Any]] = []
    with log_file.open("w") as err:
        proc = subprocess.Popen(
            [kit.TAP, "--config", str(folder / "config.json")], stdout=subprocess.PIPE, stderr=err
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            kept.append(message)
            if message["type"] == "STATE" and stop_when(message["value"]):
                proc.kill()
                break
        proc.wait()
        proc.stdout.close()
    assert kept[-1]["type"] == "STATE", "the run ended before it could be interrupted"
    return kept, kept[-1]["value"]


def _mid_patients(state: dict[str, Any]) -> bool:
    bookmark = state.get("bookmarks", {}).get("patients", {})
    return bookmark.get("complete") is False and "replication_key_value" in bookmark


def _mid_cdts(state: dict[str, Any]) -> bool:
    return any(
        # Read from the export, a CDT stream is sorted: its bookmark moves record by record.
        name.startswith("cdt_") and b.get("complete") is False and "replication_key_value" in b
        for name, b in state.get("bookmarks", {}).items()
    )


@pytest.mark.parametrize("stop_when", [_mid_patients, _mid_cdts], ids=["patients", "cdts"])
def test_interrupted_run_resumes_without_losing_records(
    own: EmulatorProcess,
    stop_when: Any,  # noqa: ANN401
) -> None:
    config = kit.tap_config(own, page_size=5)
    api = kit.WelkinApi(own)
    truth: dict[str, set[str]] = {
        "calendar_events": {i["id"] for i in api.export("CALENDAR_EVENT")},
        "patients": {i["id"] for i in api.export("PATIENT")},
        "encounters": {i["id"] for i in api.export("ENCOUNTER")},
    }
    for item in api.export("CDT_RECORD"):
        truth.setdefault(kit_cdt_stream(item["cdtName"]), set()).add(item["id"])

    kept, state = _interrupted_run(config, stop_when)
    before = kit.records_by_stream(kept)
    resumed = kit.run_tap(config, state=state, name="resumed")
    for stream, ids in truth.items():
        got = set(before.get(stream, {})) | set(resumed.records.get(stream, {}))
        assert got == ids, f"{stream} lost records"
    cdt_streams = [s for s in truth if s.startswith("cdt_")]
    if stop_when is _mid_cdts:
        assert sum(len(before.get(s, {})) for s in cdt_streams) < sum(
            len(truth[s]) for s in cdt_streams
        ), "the run was not interrupted inside the CDT read"
    if stop_when is _mid_patients:
        assert 0 < len(before["patients"]) < len(truth["patients"])
        # Resumed from the bookmark rather than from scratch (at most one page again).
        assert (
            len(resumed.records["patients"]) <= len(truth["patients"]) - len(before["patients"]) + 5
        )


def test_exclusive_export_start_loses_and_repeats_nothing() -> None:
    # Spec §11 leaves open whether export `start` is inclusive; the tap must cope with both.
    inclusive = kit.start_emulator(patients=25, seed=21)
    exclusive = kit.start_emulator(patients=25, seed=21, extra_args=("--export-exclusive-start",))
    try:
        small_pages = {"page_size": 7}  # many page boundaries
        expected = kit.run_tap(kit.tap_config(inclusive, **small_pages), name="inclusive-start")
        config = kit.tap_config(exclusive, **small_pages)
        first = kit.run_tap(config, name="exclusive-start")
        assert first.records == expected.records
        assert first.counts() == expected.counts()  # each record once
        changed = change_one_of_each(exclusive)
        second = kit.run_tap(config, state=first.state, name="exclusive-start-second")
        assert {s: set(r) for s, r in second.records.items() if s not in FULL_TABLE} == changed
    finally:
        inclusive.stop()
        exclusive.stop()
