"""Welkin, not the id map, decides what exists: an instance reset is detected and everything rewritten."""

from __future__ import annotations

from welkin_emulator.testing import EmulatorProcess

from .conftest import make_config
from .helpers import PATIENT_SCHEMA, WelkinReader, run_target, writes


def test_instance_reset_rewrites_every_record(tmp_path, key, singer):
    patients = [
        {
            "externalId": f"{key}-{i}",
            "firstName": f"F{i}",
            "lastName": "L",
            "birthDate": "1970-01-01",
        }
        for i in range(5)
    ]
    messages = [*singer.stream("patients", patients, PATIENT_SCHEMA), singer.state({"done": 1})]
    state_dir = tmp_path / "state"
    with EmulatorProcess(tmp_path / "before.db") as before:
        first = run_target(make_config(before, state_dir), messages)
    assert first.summary["patients"]["created"] == 5

    # The same tenant and instance, reset: a fresh emulator, the id map kept.
    with EmulatorProcess(tmp_path / "after.db") as after:
        rerun = run_target(make_config(after, state_dir), messages)
        welkin = WelkinReader(after)
        present = {p.get("externalId") for p in welkin.patients()}
        again = run_target(make_config(after, state_dir), messages)
    assert rerun.summary["patients"]["created"] == 5
    assert present >= {p["externalId"] for p in patients}
    assert again.summary["patients"]["unchanged"] == 5
    assert rerun.states == [{"done": 1}]


def test_record_marked_deleted_is_never_upserted(emu, config, key, singer, welkin):
    kept = {"externalId": f"{key}-kept", "firstName": "K", "lastName": "L"}
    gone = {"externalId": f"{key}-gone", "firstName": "G", "lastName": "L"}
    first = run_target(config, singer.stream("patients", [kept], PATIENT_SCHEMA))
    assert first.summary["patients"]["created"] == 1

    emu.reset_requests()
    deleted_at = "2026-01-02T03:04:05Z"
    marked = [
        {**kept, "firstName": "Changed", "_sdc_deleted_at": deleted_at},
        {**gone, "_sdc_deleted_at": deleted_at},
    ]
    run = run_target(config, singer.stream("patients", marked, PATIENT_SCHEMA))
    assert run.summary["patients"]["skipped_delete"] == 2
    assert writes(emu.requests()) == 0
    assert welkin.patient_by("EID", gone["externalId"]) is None
    assert welkin.patients_with("externalId", kept["externalId"])[0]["firstName"] == "K"


def test_record_deleted_in_welkin_is_written_again(emu, config, key, singer, welkin):
    config["streams"] = {"cdt_allergies": {"patient_key": "externalId"}}
    allergies = [
        {"patientId": f"{key}-p", "external_id": f"{key}-a{i}", "allergy": f"A{i}"}
        for i in range(3)
    ]
    messages = [
        *singer.stream(
            "patients",
            [{"externalId": f"{key}-p", "firstName": "F", "lastName": "L"}],
            PATIENT_SCHEMA,
        ),
        *singer.stream("cdt_allergies", allergies),
    ]
    assert run_target(config, messages).summary["cdt_allergies"]["created"] == 3
    patient = welkin.patient_by("EID", f"{key}-p")
    assert patient is not None
    records = welkin.cdt_records(patient["id"], "allergies")
    last = next(r for r in records if r["jsonBody"]["external_id"] == f"{key}-a2")
    welkin.client.request("DELETE", f"patients/{patient['id']}/cdts/allergies/{last['id']}")

    rerun = run_target(config, messages)
    assert rerun.summary["cdt_allergies"]["created"] == 1
    assert rerun.summary["cdt_allergies"]["unchanged"] == 2
    after = [r["jsonBody"]["external_id"] for r in welkin.cdt_records(patient["id"], "allergies")]
    assert sorted(after) == [a["external_id"] for a in allergies]
