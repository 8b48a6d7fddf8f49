"""Contract scenarios: assessments, programs, care plans, goals, documents (Designer and patient data)."""

from __future__ import annotations

from typing import Any

import requests
from contract_registry import scenario
from emulator_kit import Api


def _enrol(api: Api) -> tuple[str, dict[str, Any]]:
    pid = api.new_patient()["id"]
    r = api.patch(f"patients/{pid}/programs/prog-target-patient",
                  {"assigned": True, "phaseName": "start"})  # fmt: skip
    assert r.status_code == 200, r.text
    return pid, r.json()


@scenario("TestFormation.test_programs_read")
def _programs(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/programs", params={"page": 0})]


@scenario("TestFormation.test_program_read")
def _program(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/programs/prog-non-target-patient")]


@scenario("TestPrograms.test_read")
def _patient_programs(api: Api) -> list[requests.Response]:
    r = api.get(f"patients/{api.new_patient()['id']}/programs", params={"page": 0})
    assert [p["programName"] for p in r.json()["data"]] == [
        "prog-target-patient", "prog-target-2-patient", "prog-non-target-patient"]  # fmt: skip
    return [r]


@scenario("TestProgram.test_read[id]")
def _program_history(api: Api) -> list[requests.Response]:
    formation = api.get("formations/current/programs", params={"page": 0})
    pid, pp = _enrol(api)
    return [formation, api.get(f"patients/{pid}/programs/history/{pp['id']}")]


@scenario("TestProgram.test_read[programName]")
def _program_current(api: Api) -> list[requests.Response]:
    formation = api.get("formations/current/programs", params={"page": 0})
    pid, pp = _enrol(api)
    r = api.get(f"patients/{pid}/programs/current/prog-target-patient")
    assert r.json()["id"] == pp["id"]
    return [formation, r]


@scenario("TestProgram.test_update")
def _program_phase(api: Api) -> list[requests.Response]:
    formation = api.get("formations/current/programs", params={"page": 0})
    pid, pp = _enrol(api)
    r = api.patch(f"patients/{pid}/programs/prog-target-patient", {"phaseName": "finish"})
    body = r.json()
    assert body["currentPhase"]["name"] == "finish"
    assert [p["name"] for p in body["pathHistory"]] == ["start", "finish"]
    assert body["updatedAt"] > pp["updatedAt"]
    return [formation, r]


@scenario("TestProgram.test_delete")
def _program_delete(api: Api) -> list[requests.Response]:
    formation = api.get("formations/current/programs", params={"page": 0})
    pid, pp = _enrol(api)
    deleted = api.delete(f"patients/{pid}/programs/{pp['id']}")
    assert api.get(f"patients/{pid}").json()["patientPrograms"] == []
    return [formation, deleted, api.get(f"patients/{pid}/programs/history/{pp['id']}")]


def _current_after_enrol(api: Api) -> list[requests.Response]:
    pid, _ = _enrol(api)
    return [api.get(f"patients/{pid}/programs/current/prog-target-patient")]


for _name in ("test_delete", "test_read[id]", "test_update"):
    scenario(f"fixtures/patient_program__TestProgram.{_name}")(_current_after_enrol)


@scenario("fixtures/patient_program__TestProgram.test_read[programName]")
def _enrol_when_missing(api: Api) -> list[requests.Response]:
    pid = api.new_patient()["id"]
    missing = api.get(f"patients/{pid}/programs/current/prog-target-patient")
    enrolled = api.patch(f"patients/{pid}/programs/prog-target-patient",
                         {"assigned": True, "phaseName": "start"})  # fmt: skip
    return [missing, enrolled]
