"""Without export permission the tap reads the list endpoints by itself, with the same output."""

from __future__ import annotations

import re
from typing import Any

import tap_welkin_testkit as kit
from welkin_emulator.testing import EmulatorProcess

EXPORT_STREAMS = (
    "calendar_events", "cdt_records", "encounters", "patients",
    "assessment_records", "encounter_dispositions", "encounter_comments", "patient_programs",
    "care_plans", "tasks", "sms_messages", "emails", "voice_calls", "chat_messages",
    "patient_contacts",
)  # fmt: skip
#: Streams whose list endpoint shows less than the export (see same_records).
NARROWER_LISTS = {"chat_messages", "patient_programs"}


def same_records(rest: kit.TapRun, export: kit.TapRun) -> None:
    """The fallback gives the export's records, but where the list endpoint shows less.

    A patient's chat list leaves out each message's ``id``, ``receiver`` and ``updatedAt``
    (recorded list shape), and the program list leaves out finished enrolments (the
    emulator, like Welkin's ``current/{programName}``, shows only unfinished ones).
    """
    assert {s: r for s, r in rest.records.items() if s not in NARROWER_LISTS} == {
        s: r for s, r in export.records.items() if s not in NARROWER_LISTS
    }
    chats = export.records["chat_messages"]
    assert rest.records["chat_messages"].keys() == chats.keys()
    for key, message in rest.records["chat_messages"].items():
        assert message.items() <= chats[key].items()
    programs = export.records["patient_programs"]
    assert rest.records["patient_programs"].keys() <= programs.keys()
    for key, program in rest.records["patient_programs"].items():
        assert program == programs[key]
    assert all(
        programs[k]["status"] == "FINISHED"
        for k in programs.keys() - rest.records["patient_programs"].keys()
    )


def _export_requests(emu: EmulatorProcess) -> int:
    return sum(n for route, n in emu.requests().items() if "/export/" in route)


def test_export_403_falls_back_with_the_same_records(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    run = kit.run_tap(kit.tap_config(shared, export=False), catalog=catalog, name="fallback")
    same_records(run, baseline)
    # One refused export probe per export stream, then only list endpoints.
    assert _export_requests(shared) == len(EXPORT_STREAMS)
    assert shared.requests()["POST /{tenant}/{instance}/by-filter/patients"] >= 1
    for stream in EXPORT_STREAMS:
        assert run.stderr.count(f"Stream '{stream}' reads ") == 1
    assert "reads POST /{tenant}/{instance}/by-filter/patients (the API client may not" in (
        run.stderr
    )
    # The fallback keeps one bookmark per stream, not one per patient.
    for stream, bookmark in run.state["bookmarks"].items():  # type: ignore[index]
        assert "partitions" not in bookmark, stream


def test_extraction_path_rest_never_touches_export(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    run = kit.run_tap(
        kit.tap_config(shared, extraction_path="rest"), catalog=catalog, name="forced-rest"
    )
    same_records(run, baseline)
    assert _export_requests(shared) == 0
    assert "(forced by extraction_path=rest)" in run.stderr


def test_extraction_path_export_without_permission_fails_clearly(shared: EmulatorProcess) -> None:
    run = kit.run_tap(
        kit.tap_config(shared, export=False, extraction_path="export"),
        name="forced-export-403",
        check=False,
    )
    assert run.returncode != 0
    assert "403 ACCESS_FOR_API_CLIENT_RESTRICTED on GET /{tenant}/{instance}/export/{type}" in (
        run.stderr
    )


def test_patient_deleted_mid_sync_is_skipped_and_counted(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    route = "/{tenant}/{instance}/patients/{patientId}/encounters"
    shared.script_faults([{"action": "error", "status": 404, "method": "GET", "route": route}])
    # Only encounters may take the one 404: other streams that list a patient's encounters
    # (dispositions, comments) would race it for the fault.
    only = kit.select_only(catalog, {"patients", "encounters"})
    run = kit.run_tap(kit.tap_config(shared, export=False), catalog=only, name="deleted-patient")
    assert "Skipped a patient that no longer exists: Welkin API 404" in run.stderr
    # Every stream read per encounter lists the patient's encounters on this route, each
    # in its own feed thread: the first to ask gets the 404.
    readers = "encounters|encounter_dispositions|encounter_comments|encounter_assessment_links"
    skipped = rf"Stream '({readers})' skipped 1 patient\(s\) deleted during the sync\."
    assert len(re.findall(skipped, run.stderr)) == 1
    assert set(run.records["encounters"]) <= set(baseline.records["encounters"])
    assert len(run.records["patients"]) == len(baseline.records["patients"])


def test_export_type_answering_404_falls_back_for_that_stream_only(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    # The feeds start together, so the fault names the patients export's own path.
    route = f"/{shared.tenant}/{shared.instance}/export/PATIENT"
    shared.script_faults([{"action": "error", "status": 404, "route": route}])
    run = kit.run_tap(kit.tap_config(shared), catalog=catalog, name="export-404")
    assert run.records == baseline.records
    assert "Stream 'patients' reads POST /{tenant}/{instance}/by-filter/patients" in run.stderr
    assert (
        "Stream 'calendar_events' reads GET /{tenant}/{instance}/export/CALENDAR_EVENT"
        in run.stderr
    )
