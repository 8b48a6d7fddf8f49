"""Contract scenarios: assessments, programs, care plans, goals, documents (Designer and patient data)."""

from __future__ import annotations

from typing import Any

import requests
from contract_encounters import _encounter, _full_encounter
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


@scenario("TestFormation.test_assessments_read")
def _assessments(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/assessments", params={"page": 0})]


@scenario("TestFormation.test_assessment_read")
def _assessment(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/assessments/asm-coaching-notes")]


# Assessment records of asm-hello-form2 were recorded at formation version 8 (2022); the
# emulator's formation is the 2023 one (75).
RECORD_VERSION = frozenset({"version"})


def _new_record(api: Api, pid: str) -> dict[str, Any]:
    r = api.post(f"patients/{pid}/assessment-records", {"assessmentName": "asm-hello-form2"})
    assert r.status_code == 201, r.text
    return r.json()


def _answered(api: Api) -> tuple[str, dict[str, Any]]:
    """A record in progress: one answer given."""
    pid = api.new_patient()["id"]
    rec = _new_record(api, pid)
    r = api.put(f"patients/{pid}/assessment-records/{rec['id']}/answers",
                {"cdt-hello__cdtf-hi": "abc"})  # fmt: skip
    assert r.status_code == 200, r.text
    done = api.put(f"patients/{pid}/assessment-records/{rec['id']}",
                   {**r.json(), "status": "IN_PROGRESS"})  # fmt: skip
    return pid, done.json()


def _completed(api: Api) -> tuple[str, dict[str, Any]]:
    pid, rec = _answered(api)
    r = api.put(f"patients/{pid}/assessment-records/{rec['id']}", {**rec, "status": "COMPLETED"})
    return pid, r.json()


@scenario("test_assessment_record_create", skip=RECORD_VERSION)
def _record_create(api: Api) -> list[requests.Response]:
    pid = api.new_patient()["id"]
    r = api.post(f"patients/{pid}/assessment-records", {"assessmentName": "asm-hello-form2"})
    answers = r.json()["answers"]
    assert answers["source_id"] == r.json()["id"] and answers["source_type"] == "ASSESSMENT"
    return [r]


@scenario("test_assessment_record_get", skip=RECORD_VERSION)
def _record_get(api: Api) -> list[requests.Response]:
    pid, rec = _completed(api)
    return [api.get(f"patients/{pid}/assessment-records/{rec['id']}")]


@scenario("test_assessment_record_get_w_patient_id", skip=RECORD_VERSION)
def _record_get_pid(api: Api) -> list[requests.Response]:
    return _record_get(api)


@scenario("test_assessment_record_update", skip=RECORD_VERSION)
def _record_update(api: Api) -> list[requests.Response]:
    pid, rec = _answered(api)
    path = f"patients/{pid}/assessment-records/{rec['id']}"
    before = api.get(path)
    after = api.put(path, {**before.json(), "status": "COMPLETED"})
    body = after.json()
    assert body["finalizedDate"] == body["updatedAt"] > before.json()["updatedAt"]
    assert body["questions"] == {"cdt-hello__cdtf-hi": "hi there"}
    return [before, after]


@scenario("test_assessment_record_answers_update", skip=RECORD_VERSION)
def _record_answers(api: Api) -> list[requests.Response]:
    pid, rec = _answered(api)
    path = f"patients/{pid}/assessment-records/{rec['id']}"
    before = api.get(path)
    changed = api.put(f"{path}/answers", {"cdt-hello__cdtf-hi": "abc123def"})
    after = api.get(path)
    assert after.json()["answers"]["cdt-hello__cdtf-hi"] == "abc123def"
    # Recorded: answering does not move the record's updatedAt, only the answers'.
    assert after.json()["updatedAt"] == before.json()["updatedAt"]
    assert after.json()["answers"]["updated_at"] > before.json()["answers"]["updated_at"]
    return [before, changed, after]


@scenario("test_assessment_record_delete")
def _record_delete(api: Api) -> list[requests.Response]:
    pid = api.new_patient()["id"]
    rec = _new_record(api, pid)
    path = f"patients/{pid}/assessment-records/{rec['id']}"
    return [api.delete(path), api.get(path)]


def _records_list(api: Api) -> list[requests.Response]:
    pid, _ = _completed(api)
    _answered_on(api, pid)
    r = api.get(f"patients/{pid}/assessment-records", params={"page": 0})
    assert r.json()["totalElements"] == 2
    return [r]


def _answered_on(api: Api, pid: str) -> None:
    rec = _new_record(api, pid)
    api.put(f"patients/{pid}/assessment-records/{rec['id']}/answers", {"cdt-hello__cdtf-hi": "x"})


scenario("test_assessment_records_get")(_records_list)
scenario("test_assessment_records_get_patient_id")(_records_list)


def _planned(api: Api) -> str:
    pid = api.new_patient()["id"]
    r = api.post(f"patients/{pid}/care-plan/overview", {"overview": "A new overview message."})
    assert r.status_code == 200, r.text
    return pid


def _plan_read(api: Api) -> list[requests.Response]:
    pid = _planned(api)
    r = api.get(f"patients/{pid}/care-plan")
    assert r.json()["patientOverview"]["overview"] == "A new overview message."
    return [r]


def _plan_create(api: Api) -> list[requests.Response]:
    pid = api.new_patient()["id"]
    assert api.get(f"patients/{pid}/care-plan").status_code == 404
    r = api.post(f"patients/{pid}/care-plan/overview", {"overview": "A new overview message."})
    assert api.get(f"patients/{pid}/care-plan").json()["patientId"] == pid
    return [r]


def _plan_update(api: Api) -> list[requests.Response]:
    pid = _planned(api)
    before = api.get(f"patients/{pid}/care-plan")
    put = api.put(f"patients/{pid}/care-plan/overview", {"overview": "A new overview message 123"})
    after = api.get(f"patients/{pid}/care-plan")
    assert after.json()["patientOverview"] == put.json()
    assert after.json()["updatedAt"] > before.json()["updatedAt"]
    assert put.json()["createdAt"] == before.json()["patientOverview"]["createdAt"]
    return [before, put, after]


for _suffix in ("", "_passing_patient_id"):
    scenario(f"test_care_plan_read{_suffix}")(_plan_read)
    scenario(f"test_care_plan_create{_suffix}")(_plan_create)
    scenario(f"test_care_plan_update{_suffix}")(_plan_update)


@scenario("TestFormation.test_goals_read")
def _goals(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/goal-templates", params={"page": 0})]


@scenario("TestFormation.test_goal_read")
def _goal(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/goal-templates/eat-fruit")]


@scenario("TestFormation.test_document_types_read")
def _document_types(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/document-types", params={"page": 0})]


@scenario("TestFormation.test_document_type_read")
def _document_type(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/document-types/doc-type-others")]


def _open_encounter(api: Api) -> tuple[str, dict[str, Any]]:
    """An OPEN encounter from etmp-initial-consultation (which links asm-hello-form)."""
    pid, enc = _encounter(api)
    api.patch(f"patients/{pid}/encounters/{enc['id']}", {"status": "OPEN"})
    return pid, enc


def _linked(api: Api) -> tuple[str, str, dict[str, Any]]:
    """(patient, encounter, link) with a link to an asm-hello-form2 record."""
    pid, enc = _open_encounter(api)
    link = api.post(f"patients/{pid}/encounters/{enc['id']}/assessments",
                    {"assessmentName": "asm-hello-form2"}).json()  # fmt: skip
    rec = _new_record(api, pid)
    api.patch(f"patients/{pid}/encounters/{enc['id']}/assessments/{link['id']}",
              {"assessmentRecordId": rec["id"]})  # fmt: skip
    return pid, enc["id"], link


@scenario("test_encounter_assessment_create")
def _link_create(api: Api) -> list[requests.Response]:
    pid, enc = _open_encounter(api)
    r = api.post(f"patients/{pid}/encounters/{enc['id']}/assessments",
                 {"assessmentName": "asm-hello-form2"})  # fmt: skip
    body = r.json()["jsonBody"]
    assert (body["fromTemplate"], body["source_id"]) == (False, enc["id"])
    return [r]


@scenario("test_encounter_assessment_update")
def _link_update(api: Api) -> list[requests.Response]:
    pid, eid, link = _linked(api)
    path = f"patients/{pid}/encounters/{eid}/assessments/{link['id']}"
    before = api.get(path)
    other = _new_record(api, pid)
    after = api.patch(path, {"assessmentRecordId": other["id"]})
    assert after.json()["jsonBody"]["assessmentRecordId"] == other["id"]
    assert after.json()["jsonBody"]["updated_at"] > before.json()["jsonBody"]["updated_at"]
    return [before, after]


@scenario("test_encounter_assessment_delete")
def _link_delete(api: Api) -> list[requests.Response]:
    pid, eid, link = _linked(api)
    path = f"patients/{pid}/encounters/{eid}/assessments/{link['id']}"
    return [api.delete(path), api.get(path)]


def _link_get(api: Api) -> list[requests.Response]:
    pid, eid, link = _linked(api)
    return [api.get(f"patients/{pid}/encounters/{eid}/assessments/{link['id']}")]


# Recorded in July 2022, when the link CDT was at version 4 (6 a week later).
scenario("test_encounter_assessment_get", skip=frozenset({"version"}))(_link_get)
scenario("test_assessment_get")(_link_get)


@scenario("test_encounter_get_assessment_get")
def _encounter_then_link(api: Api) -> list[requests.Response]:
    pid, eid, link = _linked(api)
    return [api.get(f"patients/{pid}/encounters/{eid}"),
            api.get(f"patients/{pid}/encounters/{eid}/assessments/{link['id']}")]  # fmt: skip


# The list was recorded in July 2022, when the link CDT was at version 4 (6 a week later).
@scenario("test_encounter_assessments_get", skip=frozenset({"[].version"}))
def _links_list(api: Api) -> list[requests.Response]:
    pid, enc = _open_encounter(api)
    enc_get = api.get(f"patients/{pid}/encounters/{enc['id']}")
    links = api.get(f"patients/{pid}/encounters/{enc['id']}/assessments", params={"page": 0})
    assert [x["jsonBody"]["assessmentName"] for x in links.json()] == ["asm-hello-form"]
    return [enc_get, links]


@scenario("test_encounter_related_data_assessment_get", optional_keys=True,
          formation_bodies=frozenset({"disposition.jsonBody"}))  # fmt: skip
def _full_then_link(api: Api) -> list[requests.Response]:
    full = _full_encounter(api, "OPEN")
    link = full.json()["assessmentLinks"][0]
    path = f"patients/{link['patientId']}/encounters/{link['jsonBody']['source_id']}"
    return [full, api.get(f"{path}/assessments/{link['id']}")]
