"""Issue 13's resources beyond what the recordings replay: export feeds, audit events for every
write (deletes included), seeded data, chat paging, and the 404s no recording shows."""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from emulator_kit import Api
from test_webhooks import Subscriber, hook

from welkin_emulator.testing import EmulatorProcess

# export type → (table, kind) of the rows it walks
EXPORTS = {
    "ENCOUNTER_DISPOSITION": ("records", "DISPOSITION"),
    **{
        t: ("items", t)
        for t in ("ASSESSMENT", "EMAIL", "SMS", "TASK", "VOICE_CALL", "ENCOUNTER_COMMENT",
                  "CARE_PLAN", "GOAL", "PATIENT_PROGRAM", "CHAT_MESSAGE", "PATIENT_CONTACT")
    },
}  # fmt: skip


def _count(db: Path, table: str, kind: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE kind=?", (kind,)).fetchone()  # noqa: S608 - constants
    return int(row[0])


@pytest.mark.parametrize("export_type", sorted(EXPORTS))
def test_export_walks_every_record_once(api: Api, seeded_db: Path, export_type: str) -> None:
    seen: list[str] = []
    stamps: list[str] = []
    start, requests_made = None, 0
    while True:
        params: dict[str, Any] = {"pageSize": 50}
        if start:
            params["start"] = start
        body = api.get(f"export/{export_type}", params=params).json()
        requests_made += 1
        page = [d for d in body["data"] if d["id"] not in seen]  # inclusive start: boundary item
        seen += [d["id"] for d in page]
        stamps += [d["updatedAt"] for d in page]
        if not body["cursor"]["hasNext"]:
            break
        start = body["cursor"]["end"]
    total = _count(seeded_db, *EXPORTS[export_type])
    assert total > 0, "seeding should create some of every kind"
    assert len(seen) == len(set(seen)) == total
    assert stamps == sorted(stamps)
    assert requests_made <= max(1, math.ceil(total / 50)) + 1


def _subtypes(api: Api, pid: str) -> list[tuple[str, str | None, str]]:
    events = api.get("admin/audit-data", params={"patientId": pid, "size": 1000}).json()["data"]
    return [(e["eventEntity"], e["cdtName"], e["eventSubtype"]) for e in events]


def test_program_assessment_and_care_plan_writes_are_audited(api: Api) -> None:
    pid = api.new_patient()["id"]
    pp = api.patch(f"patients/{pid}/programs/prog-target-patient", {"assigned": True}).json()
    api.patch(f"patients/{pid}/programs/prog-target-patient", {"phaseName": "in-treatment"})
    assert api.delete(f"patients/{pid}/programs/{pp['id']}").status_code == 200
    rec = api.post(f"patients/{pid}/assessment-records", {"assessmentName": "asm-hello-form"})
    path = f"patients/{pid}/assessment-records/{rec.json()['id']}"
    api.put(f"{path}/answers", {"cdt-hello__cdtf-hi": "yes"})
    api.put(path, {"status": "COMPLETED"})
    assert api.delete(path).status_code == 200
    api.post(f"patients/{pid}/care-plan/overview", {"overview": "walk daily"})
    api.put(f"patients/{pid}/care-plan/overview", {"overview": "walk twice daily"})
    api.post(f"patients/{pid}/chat/inbound", {"message": "hello"})
    assert _subtypes(api, pid)[1:] == [
        ("PROGRAM", None, "PATIENT_PROGRAM_CREATED"),
        ("PATIENT", None, "PATIENT_UPDATED"),  # the patient's patientPrograms
        ("PROGRAM", None, "PATIENT_PROGRAM_UPDATED"),
        ("PATIENT", None, "PATIENT_UPDATED"),
        ("PROGRAM", None, "PATIENT_PROGRAM_DELETED"),
        ("PATIENT", None, "PATIENT_UPDATED"),
        ("ASSESSMENT", None, "ASSESSMENT_RECORD_CREATED"),
        ("CDT", "_asm-hello-form", "CDT_UPDATED"),
        ("ASSESSMENT", None, "ASSESSMENT_RECORD_UPDATED"),
        ("ASSESSMENT", None, "ASSESSMENT_RECORD_DELETED"),
        ("CARE_PLAN", None, "CARE_PLAN_CREATED"),
        ("CARE_PLAN", None, "CARE_PLAN_UPDATED"),
        ("CHAT", None, "CHAT_MESSAGE_CREATED"),
    ]


def test_cdt_backed_writes_and_deletes_are_audited(api: Api) -> None:
    pid = api.new_patient()["id"]
    doc = api.post(f"patients/{pid}/document-summary", {"type": "medical-records"}).json()
    api.request("POST", f"patients/{pid}/document-summary/{doc['id']}/files",
                files={"files": ("a.pdf", b"%PDF-1.4", "application/pdf")})  # fmt: skip
    api.delete(f"patients/{pid}/document-summary/{doc['id']}")
    enc = api.post(f"patients/{pid}/encounters", {"templateName": "etmp-initial-consultation"})
    eid = enc.json()["id"]
    link = api.post(f"patients/{pid}/encounters/{eid}/assessments",
                    {"assessmentName": "asm-coaching-notes"}).json()  # fmt: skip
    api.delete(f"patients/{pid}/encounters/{eid}/assessments/{link['id']}")
    api.delete(f"patients/{pid}/encounters/{eid}")
    events = _subtypes(api, pid)[1:]
    assert [e for e in events if e[1] == "_document_summary"] == [
        ("CDT", "_document_summary", s) for s in ("CDT_CREATED", "CDT_UPDATED", "CDT_DELETED")
    ]
    links = [e[2] for e in events if e[1] == "__encounter_assessment__"]
    # The template's link (created and deleted with the encounter) and the one added by hand.
    assert links == ["CDT_CREATED", "CDT_CREATED", "CDT_DELETED", "CDT_DELETED"]
    assert events[-1] == ("CDT", "__encounter__", "CDT_DELETED")


def test_deleted_resources_answer_their_recorded_404(api: Api) -> None:
    pid = api.new_patient()["id"]
    pp = api.patch(f"patients/{pid}/programs/prog-non-target-patient", {"assigned": True}).json()
    api.delete(f"patients/{pid}/programs/{pp['id']}")
    gone = api.get(f"patients/{pid}/programs/current/prog-non-target-patient")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "PATIENT_PROGRAM_NOT_FOUND"
    listed = api.get(f"patients/{pid}/programs").json()["data"]
    assert all(p["id"] is None and p["assigned"] is False for p in listed)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("voice-calls/{x}", "VOICE_CALL_NOT_FOUND"),
        ("tasks/{x}", "TASK_NOT_FOUND"),
        ("contacts/{x}", "CONTACT_NOT_FOUND"),
        ("care-plan/goals/{x}", "GOAL_NOT_FOUND"),
        ("care-plan", "CARE_PLAN_NOT_FOUND"),
        ("document-summary/{x}/files/{x}", "DT_RECORD_NOT_FOUND"),
    ],
)
def test_unknown_ids_get_json_404s(api: Api, path: str, code: str) -> None:
    pid = api.new_patient()["id"]
    r = api.get(f"patients/{pid}/" + path.replace("{x}", "7b1e2d4c-0000-4000-8000-000000000001"))
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert r.json()[0]["errorCode"] == code


def test_comment_create_is_refused_like_the_real_api(api: Api) -> None:
    pid = api.new_patient()["id"]
    eid = api.post(f"patients/{pid}/encounters", {"templateName": "etmp-follow-up"}).json()["id"]
    r = api.post(f"patients/{pid}/encounters/{eid}/comments", {"comment": "hi"})
    assert r.status_code == 403
    assert r.json()[0]["errorCode"] == "ACCESS_FOR_API_CLIENT_RESTRICTED"


def test_chat_pages_follow_tokens_newest_first(api: Api) -> None:
    pid = api.new_patient()["id"]
    for i in range(25):
        api.post(f"patients/{pid}/chat/inbound", {"message": f"message {i:02d}"})
    seen: list[str] = []
    params: dict[str, Any] = {"pageSize": 10}
    while True:
        body = api.get(f"patients/{pid}/chat", params=params).json()
        seen += [m["message"] for m in body["content"]]
        token = body["meta"]["nextPageToken"]
        if token is None:
            break
        params = {"pageSize": 10, "pageToken": token}
    assert seen == [f"message {i:02d}" for i in reversed(range(25))]
    hits = api.get(f"patients/{pid}/chat/search", params={"query": "MESSAGE 1"}).json()
    assert [h["message"]["message"] for h in hits["content"]] == [
        f"message {i:02d}" for i in reversed(range(10, 20))
    ]


def test_seeded_programs_match_the_patients(api: Api) -> None:
    enrolments = api.get("export/PATIENT_PROGRAM", params={"pageSize": 1000}).json()["data"]
    current = next(p for p in enrolments if p["status"] == "IN_PROGRESS")
    patient = api.get(f"patients/{current['patientId']}").json()
    assert current in patient["patientPrograms"]
    r = api.get(f"patients/{current['patientId']}/programs/current/{current['programName']}")
    assert r.json() == current
    assert current["pathHistory"][-1] == current["currentPhase"]


def test_work_hours_accept_the_older_parameter_name(api: Api) -> None:
    window = {"from": "2024-01-01T00:00:00.000Z", "to": "2026-12-31T00:00:00.000Z"}
    everyone = api.get("calendar/work-hours", params=window).json()
    one = everyone[0]["psmId"]
    by_old = api.get("calendar/work-hours", params={**window, "psm-ids": one}).json()
    assert by_old == [everyone[0]]
    bad = api.get("calendar/work-hours", params={"psmIds": one})
    assert bad.status_code == 400 and bad.json()[0]["details"]["field"] == "from"


# export type → the per-patient list a client falls back to when export is refused
FALLBACKS = {
    "ASSESSMENT": ("assessment-records", "content"),
    "SMS": ("sms", "content"),
    "EMAIL": ("emails", "content"),
    "VOICE_CALL": ("voice-calls", "content"),
    "TASK": ("tasks", "data"),
    "PATIENT_CONTACT": ("contacts", "data"),
}


@pytest.mark.parametrize("export_type", sorted(FALLBACKS))
def test_per_patient_lists_hold_what_the_export_holds(api: Api, export_type: str) -> None:
    exported = api.get(f"export/{export_type}", params={"pageSize": 1000}).json()["data"]
    by_patient: dict[str, set[str]] = {}
    for item in exported:
        by_patient.setdefault(item["patientId"], set()).add(item["id"])
    path, key = FALLBACKS[export_type]
    for pid in sorted(by_patient)[:5]:
        body = api.get(f"patients/{pid}/{path}", params={"size": 1000}).json()
        listed = {item["id"]: item for item in body[key]}
        assert set(listed) >= by_patient[pid]
        one = next(iter(by_patient[pid]))
        assert api.get(f"patients/{pid}/{path}/{one}").json() == listed[one]


def test_contacts_can_be_added_and_are_audited(api: Api) -> None:
    pid = api.new_patient()["id"]
    r = api.post(f"patients/{pid}/contacts", {"firstName": "Robin", "relation": "SPOUSE"})
    assert r.status_code == 200 and r.json()["updatedAt"]
    listed = api.get(f"patients/{pid}/contacts").json()["data"]
    assert listed == [r.json()]
    assert _subtypes(api, pid)[-1] == ("CONTACT", None, "PATIENT_CONTACT_CREATED")
    bad = api.post(f"patients/{pid}/contacts", {"firstName": "A", "nickname": "B"})
    assert bad.status_code == 400 and bad.json()[0]["details"]["field"] == "nickname"


def test_calendar_and_user_writes_are_audited(api: Api) -> None:
    host = api.active_user()
    pid = api.new_patient()["id"]
    ev = api.post("calendar/events", {
        "startDateTime": "2030-01-01T10:00:00.000Z", "endDateTime": "2030-01-01T11:00:00.000Z",
        "hostId": host["id"], "participants": [{"participantId": host["id"]},
                                               {"participantId": pid, "participantRole": "patient"}],
    }).json()  # fmt: skip
    api.patch(f"calendar/events/{ev['id']}", {"eventTitle": "Check-in"})
    api.delete(f"calendar/events/{ev['id']}")
    assert _subtypes(api, pid)[1:] == [
        ("CALENDAR", None, f"CALENDAR_EVENT_{op}") for op in ("CREATED", "UPDATED", "DELETED")
    ]
    user = api.post("admin/users", {"username": "audited-user", "email": "a@example.com"}).json()
    api.patch("admin/users/audited-user", {"firstName": "Audi"})
    events = api.get("admin/audit-data", params={"entity": "USER", "size": 1000}).json()["data"]
    mine = [e["eventSubtype"] for e in events if e["record"]["id"] == user["id"]]
    assert mine == ["USER_CREATED", "USER_UPDATED"]


def test_care_writes_ping_as_their_own_entities(api: Api, emu: EmulatorProcess) -> None:
    """Programs, documents, assessment links and answers never ping as patients or CDT records
    (a client pulling the touched resource would look in the wrong place)."""
    sub = Subscriber()
    try:
        pid = api.new_patient()["id"]
        emu.set_webhooks([hook(sub)])
        api.patch(f"patients/{pid}/programs/prog-target-patient", {"assigned": True})
        api.post(f"patients/{pid}/document-summary", {"type": "doc-type-others"})
        rec = api.post(f"patients/{pid}/assessment-records", {"assessmentName": "asm-hello-form"})
        api.put(f"patients/{pid}/assessment-records/{rec.json()['id']}/answers",
                {"cdt-hello__cdtf-hi": "yes"})  # fmt: skip
        api.post(f"patients/{pid}/encounters", {"templateName": "etmp-follow-up"})
        sub.wait_for(9)
        time.sleep(0.3)
        got = [(p["eventEntity"], p["eventSubtype"], p["sourceName"]) for p in sub.wait_for(9)]
    finally:
        emu.reset()
        sub.server.shutdown()
    assert got == [
        ("PROGRAM", "PATIENT_PROGRAM_CREATED", None),
        ("PATIENT", "PATIENT_UPDATED", None),  # its patientPrograms changed
        ("DOCUMENT", "CDT_CREATED", None),
        ("ASSESSMENT", "ASSESSMENT_RECORD_CREATED", None),
        ("ASSESSMENT", "CDT_UPDATED", None),
        ("ENCOUNTER", "ENCOUNTER_CREATED", None),
        ("CDT", "CDT_CREATED", "__encounter_disposition__"),
        ("ENCOUNTER_ASSESSMENT", "CDT_CREATED", None),
    ]


def test_counts_name_what_a_full_sync_should_load(api: Api, emu: EmulatorProcess) -> None:
    counts = emu.counts()
    for export_type in [*EXPORTS, "PATIENT", "CDT_RECORD", "ENCOUNTER", "CALENDAR_EVENT"]:
        body = api.get(f"export/{export_type}", params={"pageSize": 1000}).json()
        assert body["cursor"]["hasNext"] is False  # the test seed is small: one page each
        assert counts[export_type] == len(body["data"]), export_type
    users = api.get("admin/users", params={"size": 1000}).json()["metaInfo"]["totalElements"]
    assert counts["USER"] == users
    pid = api.new_patient()["id"]
    api.post(f"patients/{pid}/document-summary", {"type": "doc-type-others"})
    after = emu.counts()
    assert (after["PATIENT"], after["DOCUMENT_SUMMARY"]) == (
        counts["PATIENT"] + 1, counts["DOCUMENT_SUMMARY"] + 1)  # fmt: skip
