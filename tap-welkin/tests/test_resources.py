"""The resource streams of issue 13: discovery, row counts, incremental runs, tombstones.

Every count is checked against what the emulator's own API reports (its exports,
its per-patient lists, its formations), over a real HTTP socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import tap_welkin_testkit as kit
from tap_welkin.streams import RESOURCE_STREAMS, cdt_stream_name
from welkin_emulator.testing import EmulatorProcess

#: stream → (key properties, replication key or None for full table)
KEYS: dict[str, tuple[list[str], str | None]] = {
    "assessment_records": (["id"], "updatedAt"),
    "encounter_dispositions": (["id"], "updatedAt"),
    "encounter_comments": (["id"], "updatedAt"),
    "encounter_assessment_links": (["id"], "updatedAt"),
    "patient_programs": (["id"], "updatedAt"),
    "care_plans": (["id"], "updatedAt"),
    "care_plan_goals": (["id"], "updatedAt"),
    "tasks": (["id"], "updatedAt"),
    "document_summaries": (["id"], "updatedAt"),
    "sms_messages": (["id"], "updatedAt"),
    "emails": (["id"], "updatedAt"),
    "voice_calls": (["id"], "updatedAt"),
    "chat_messages": (["externalId"], "createdAt"),
    "patient_contacts": (["id"], "updatedAt"),
    "assessment_templates": (["id"], None),
    "programs": (["name"], None),
    "encounter_templates": (["id"], None),
    "document_types": (["id"], None),
    "goal_templates": (["name"], None),
    "custom_data_types": (["id"], None),
    "encounter_disposition_definition": (["id"], None),
    "work_hours": (["workHoursId"], None),
    "data_audit": ([], "sentAt"),
    "webhook_audit": (["id"], "sentAt"),
}
EXPORTED = {
    "assessment_records": "ASSESSMENT",
    "encounter_dispositions": "ENCOUNTER_DISPOSITION",
    "encounter_comments": "ENCOUNTER_COMMENT",
    "patient_programs": "PATIENT_PROGRAM",
    "care_plans": "CARE_PLAN",
    "tasks": "TASK",
    "sms_messages": "SMS",
    "emails": "EMAIL",
    "voice_calls": "VOICE_CALL",
    "chat_messages": "CHAT_MESSAGE",
    "patient_contacts": "PATIENT_CONTACT",
}
DESIGNER = {
    "assessment_templates": "assessments",
    "programs": "programs",
    "encounter_templates": "encounters",
    "document_types": "document-types",
    "goal_templates": "goal-templates",
    "custom_data_types": "cdts",
}
# The audit feeds, and the streams with no export feed (a request per patient or encounter).
OPTIONAL = {
    "data_audit",
    "webhook_audit",
    "encounter_assessment_links",
    "care_plan_goals",
    "document_summaries",
}
#: The emulator's own record counts (``EmulatorProcess.counts``) per resource stream.
EMULATOR_KINDS = {
    **EXPORTED,
    "encounter_assessment_links": "ENCOUNTER_ASSESSMENT",
    "care_plan_goals": "GOAL",
    "document_summaries": "DOCUMENT_SUMMARY",
    "work_hours": "WORK_HOURS",
}


@pytest.fixture(scope="module")
def own() -> Iterator[EmulatorProcess]:
    """An emulator this module may change."""
    emu = kit.start_emulator(patients=12, seed=31)
    emu.set_faults(token_limit=0)
    yield emu
    emu.stop()


def _total(api: kit.WelkinApi, path: str, **params: Any) -> int:  # noqa: ANN401
    body = api.call("GET", path, params={"size": 1, **params})
    page = body.get("data", body) if "name" in body else body
    return int((page.get("metaInfo") or page).get("totalElements"))


def emulator_counts(emu: EmulatorProcess) -> dict[str, int]:
    """What the emulator holds for each resource stream, through its own API."""
    api = kit.WelkinApi(emu)
    counts = {stream: len(api.export(kind)) for stream, kind in EXPORTED.items()}
    for stream, kind in DESIGNER.items():
        counts[stream] = len(api.call("GET", f"formations/current/{kind}"))
    counts["encounter_disposition_definition"] = 1
    patients = [p["id"] for p in api.export("PATIENT")]
    counts["document_summaries"] = sum(
        _total(api, f"patients/{p}/document-summary") for p in patients
    )
    counts["care_plan_goals"] = sum(_total(api, f"patients/{p}/care-plan/goals") for p in patients)
    counts["encounter_assessment_links"] = sum(
        len(api.call("GET", f"patients/{e['patientId']}/encounters/{e['id']}/assessments"))
        for e in api.export("ENCOUNTER")
    )
    users = api.session.get(f"{emu.admin_url}/users", params={"size": 1000}, timeout=30).json()[
        "data"
    ]
    rules = api.call(
        "GET",
        "calendar/work-hours",
        params={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z",
                "psmIds": ",".join(u["id"] for u in users)},
    )  # fmt: skip
    counts["work_hours"] = sum(len(user["details"]) for user in rules)
    counts["data_audit"] = _admin_total(emu, "audit-data")
    counts["webhook_audit"] = _admin_total(emu, "audit-webhook")
    return counts


def _admin_total(emu: EmulatorProcess, path: str) -> int:
    """``metaInfo.totalElements`` of a tenant-level list."""
    response = requests.get(
        f"{emu.admin_url}/{path}",
        params={"size": 1},
        headers={"Authorization": f"Bearer {emu.token()}"},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["metaInfo"]["totalElements"])


def test_discovery_lists_every_resource_stream(catalog: dict[str, Any]) -> None:
    entries = {e["tap_stream_id"]: e for e in catalog["streams"]}
    assert {cls.name for cls in RESOURCE_STREAMS} == set(KEYS)
    for stream, (keys, replication_key) in KEYS.items():
        entry = entries[stream]
        assert entry["key_properties"] == keys, stream
        root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        if replication_key is None:
            assert entry.get("replication_key") is None, stream
        else:
            assert entry["replication_key"] == replication_key, stream
            assert entry["replication_method"] == "INCREMENTAL", stream
        assert root.get("selected-by-default") is (stream not in OPTIONAL), stream


@pytest.mark.parametrize("export", [True, False], ids=["export", "rest"])
def test_full_sync_counts_equal_the_emulators(own: EmulatorProcess, export: bool) -> None:
    catalog = kit.select_all(kit.discover(kit.tap_config(own), name="resources-catalog"))
    run = kit.run_tap(kit.tap_config(own, export=export), catalog=catalog, name="resources-full")
    expected = emulator_counts(own)
    if not export:
        # A patient's program list shows no finished enrolment: only the export has those.
        programs = kit.WelkinApi(own).export("PATIENT_PROGRAM")
        expected["patient_programs"] = sum(p["status"] != "FINISHED" for p in programs)
        assert expected["patient_programs"] < len(programs)
    got = {stream: len(run.records.get(stream, {})) for stream in KEYS}
    assert got == expected
    if export:  # and what the emulator says it holds
        held = own.counts()
        assert {s: got[s] for s in EMULATOR_KINDS} == {
            s: held[k] for s, k in EMULATOR_KINDS.items()
        }
    assert all(n > 0 for s, n in expected.items() if s not in OPTIONAL), expected
    # Each record once (the kit keys records by id; chat by externalId below).
    counts = run.counts()
    assert all(counts.get(s, 0) == n for s, n in got.items() if s != "data_audit")


@pytest.mark.parametrize("export", [True, False], ids=["export", "rest"])
def test_second_run_emits_only_changes_and_tombstones(own: EmulatorProcess, export: bool) -> None:
    config = kit.tap_config(own, export=export)
    catalog = kit.select_all(kit.discover(config, name="resources-catalog-2"))
    first = kit.run_tap(config, catalog=catalog, name="resources-first")
    quiet = kit.run_tap(config, catalog=catalog, state=first.state, name="resources-quiet")
    incremental = {s for s, (_, rk) in KEYS.items() if rk} - OPTIONAL
    assert not set(quiet.counts()) & incremental, quiet.counts()

    api = kit.WelkinApi(own)
    record = api.export("CDT_RECORD")[0]
    api.call("DELETE", f"patients/{record['patientId']}/cdts/{record['cdtName']}/{record['id']}")
    document = next(iter(first.records["document_summaries"].values()))
    api.call("DELETE", f"patients/{document['patientId']}/document-summary/{document['id']}")
    disposition = api.export("ENCOUNTER_DISPOSITION")[0]
    encounter_id = disposition["jsonBody"]["source_id"]
    api.call(
        "PATCH",
        f"patients/{disposition['patientId']}/encounters/{encounter_id}/disposition",
        json={},
    )
    plan = api.export("CARE_PLAN")[0]
    api.call(
        "PUT", f"patients/{plan['patientId']}/care-plan/overview", json={"overview": "changed"}
    )
    second = kit.run_tap(config, catalog=catalog, state=quiet.state, name="resources-second")

    stream = cdt_stream_name(record["cdtName"])
    tombstones = {stream: record["id"], "document_summaries": document["id"]}
    # cdt_records reads from the oldest CDT bookmark (README): the tombstone is among them.
    assert second.records["cdt_records"][record["id"]]["_sdc_deleted_at"]
    for name, key in tombstones.items():
        assert set(second.records[name]) == {key}, name
        tombstone = second.records[name][key]
        assert tombstone["_sdc_deleted_at"] == tombstone["updatedAt"]
        assert tombstone["patientId"] in {record["patientId"], document["patientId"]}
    assert set(second.records["encounter_dispositions"]) == {disposition["id"]}
    assert second.records["care_plans"][plan["id"]]["patientOverview"]["overview"] == "changed"
    changed = {"encounter_dispositions", "care_plans", *tombstones}
    assert set(second.counts()) & incremental == changed & incremental
    assert all(n == 1 for s, n in second.counts().items() if s in changed)
    # The audit feed has the deletes; the next run repeats neither them nor the changes.
    subtypes = [e["eventSubtype"] for e in second.records["data_audit"].values()]
    assert subtypes.count("CDT_DELETED") == 2
    third = kit.run_tap(config, catalog=catalog, state=second.state, name="resources-third")
    assert not set(third.counts()) & (incremental | {stream})


def test_users_are_versioned_for_activate_version(baseline: kit.TapRun) -> None:
    activations = [m for m in baseline.messages if m["type"] == "ACTIVATE_VERSION"]
    assert [m["stream"] for m in activations] == ["users"]
    version = activations[0]["version"]
    users = [m for m in baseline.messages if m["type"] == "RECORD" and m["stream"] == "users"]
    assert users and all(m.get("version") == version for m in users)
