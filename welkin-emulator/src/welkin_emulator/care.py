"""Builders for care records: patient programs, assessment records, care plans, goals, tasks,
encounter comments and patient contacts (shared by the routes and the seeder).

Recorded shapes: patient programs (2023), assessment records and care plans (2022). Goals,
tasks, comments and contacts were never recorded: their shapes are the emulator's own, built
from the field names of Welkin's V8 documentation, with the usual camelCase audit fields.
"""

from __future__ import annotations

from typing import Any

from .designer import PROGRAM_VERSION, answer_keys
from .items import ItemKeys
from .records import cdt_json_body
from .timeutil import format_local, format_ms, parse_instant

PATIENT_PROGRAM, ASSESSMENT, CARE_PLAN = "PATIENT_PROGRAM", "ASSESSMENT", "CARE_PLAN"
GOAL, TASK, COMMENT, CONTACT = "GOAL", "TASK", "ENCOUNTER_COMMENT", "PATIENT_CONTACT"
PROGRAM_KEYS = ItemKeys(name="programName")
PLAIN_KEYS = ItemKeys()
GOAL_KEYS = ItemKeys(parent="carePlanId")
COMMENT_KEYS = ItemKeys(parent="encounterId")


def phase_entry(phase: dict[str, Any], ts: str, actor_id: str, actor_name: str) -> dict[str, Any]:
    """One ``currentPhase``/``pathHistory`` entry (recorded key set)."""
    return {
        "timestamp": ts,
        "createdBy": actor_id,
        "createdByName": actor_name,
        "name": phase["name"],
        "title": phase["title"],
        "description": phase["description"],
        "currentVersion": PROGRAM_VERSION,
        "deleted": False,
    }


def patient_program(  # noqa: PLR0917
    ppid: str,
    patient_id: str,
    program: dict[str, Any],
    phase: dict[str, Any],
    ts: str,
    actor_id: str,
    actor_name: str,
) -> dict[str, Any]:
    """A program newly assigned to a patient, in ``phase``."""
    entry = phase_entry(phase, ts, actor_id, actor_name)
    return {
        "id": ppid,
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedByName": actor_name,
        "updatedAt": ts,
        "programName": program["name"],
        "programTitle": program["title"],
        "programDescription": program["description"],
        "assigned": True,
        "patientId": patient_id,
        "currentPhase": entry,
        "status": "IN_PROGRESS",
        "compatibleWithCurrentVersion": True,
        "pathHistory": [entry],
    }


def unassigned_program(program: dict[str, Any]) -> dict[str, Any]:
    """A program the patient is not in, as the patient's program list shows it (recorded)."""
    return {
        "id": None,
        "createdByName": None,
        "createdAt": None,
        "updatedByName": None,
        "updatedAt": None,
        "programName": program["name"],
        "programTitle": program["title"],
        "programDescription": program["description"],
        "assigned": False,
        "patientId": None,
        "currentPhase": None,
        "status": None,
        "compatibleWithCurrentVersion": False,
        "pathHistory": [],
    }


def assessment_record(  # noqa: PLR0917
    rid: str,
    patient_id: str,
    assessment: dict[str, Any],
    ts_ms: int,
    answers_id: str,
    actor_id: str,
    actor_name: str,
) -> dict[str, Any]:
    """A new assessment record (status ``NEW``); ``answers`` is the record of its CDT
    (``_asm-<name>``): the shared CDT system fields plus one ``<cdt>__<field>`` per question.
    """
    ts = format_ms(ts_ms)
    local = format_local(ts_ms, None)
    answers = cdt_json_body({"fields": []}, answers_id, ts, actor_id, actor_name, {})
    answers.update(source_type="ASSESSMENT", source_id=rid, source_name=assessment["name"])
    answers.update(dict.fromkeys(answer_keys(assessment)))
    return {
        "id": rid,
        "createdAt": ts,
        "updatedAt": ts,
        "createdBy": actor_id,
        "updatedBy": actor_id,
        "createdByName": actor_name,
        "updatedByName": actor_name,
        "finalizedDate": None,
        "localFinalizedDate": None,
        "localCreatedDate": local,
        "localUpdatedDate": local,
        "assessmentName": assessment["name"],
        "assessmentTitle": assessment["title"],
        "assessmentCdtName": f"_{assessment['name']}",
        "version": assessment["version"],
        "patientId": patient_id,
        "status": "NEW",
        "answers": answers,
        "scoring": {},
        "folderId": None,
        "expirationDate": None,
        "questions": {},
        "resolvedCdtValues": {},
        "pfa": False,
    }


def touch(rec: dict[str, Any], ts: str, actor_id: str, actor_name: str) -> None:
    """Bump a camelCase-audited record's ``updatedAt`` (and its local copy when it has one)."""
    rec.update(updatedAt=ts, updatedByName=actor_name)
    if "updatedBy" in rec:
        rec["updatedBy"] = actor_id
    if "localUpdatedDate" in rec:
        rec["localUpdatedDate"] = format_local(parse_instant(ts) or 0, None)


def overview(text: str, ts: str, actor_name: str) -> dict[str, Any]:
    """A care plan's ``patientOverview`` (recorded key set)."""
    return {
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedByName": actor_name,
        "updatedAt": ts,
        "overview": text,
    }


def care_plan(
    cpid: str, patient_id: str, ts: str, actor_name: str, text: str | None
) -> dict[str, Any]:
    """A patient's care plan (one per patient; recorded key set)."""
    return {
        "id": cpid,
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedByName": actor_name,
        "updatedAt": ts,
        "patientId": patient_id,
        "patientOverview": overview(text, ts, actor_name) if text is not None else None,
    }


def goal(  # noqa: PLR0917
    gid: str,
    patient_id: str,
    care_plan_id: str,
    template: dict[str, Any],
    ts: str,
    actor_name: str,
    status: str = "IN_PROGRESS",
) -> dict[str, Any]:
    """A care plan goal made from a goal template (the emulator's own shape)."""
    return {
        "id": gid,
        "patientId": patient_id,
        "carePlanId": care_plan_id,
        "goalTemplateName": template["name"],
        "goalName": template["goalName"],
        "type": template["type"],
        "priority": template["priority"],
        "status": status,
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedByName": actor_name,
        "updatedAt": ts,
    }


def task(  # noqa: PLR0917
    tid: str,
    patient_id: str,
    title: str,
    assignee: str | None,
    due: str | None,
    ts: str,
    actor_name: str,
    status: str = "OPEN",
    goal_id: str | None = None,
) -> dict[str, Any]:
    """A task about a patient (the emulator's own shape)."""
    return {
        "id": tid,
        "patientId": patient_id,
        "title": title,
        "description": None,
        "status": status,
        "priority": "MEDIUM",
        "dueDate": due,
        "assigneeUserId": assignee,
        "goalId": goal_id,
        "completedAt": ts if status == "COMPLETED" else None,
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedByName": actor_name,
        "updatedAt": ts,
    }


def encounter_comment(  # noqa: PLR0917
    cid: str,
    patient_id: str,
    encounter_id: str,
    text: str,
    ts: str,
    actor_id: str,
    actor_name: str,
) -> dict[str, Any]:
    """A comment on an encounter (the emulator's own shape)."""
    return {
        "id": cid,
        "patientId": patient_id,
        "encounterId": encounter_id,
        "comment": text,
        "createdBy": actor_id,
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedBy": actor_id,
        "updatedByName": actor_name,
        "updatedAt": ts,
    }


def patient_contact(  # noqa: PLR0917
    cid: str,
    patient_id: str,
    names: tuple[str, str],
    relation: str,
    phone: str | None,
    ts: str,
    actor_name: str,
) -> dict[str, Any]:
    """A patient's contact person (the emulator's own shape)."""
    return {
        "id": cid,
        "patientId": patient_id,
        "firstName": names[0],
        "lastName": names[1],
        "relation": relation,
        "phone": phone,
        "email": None,
        "primary": False,
        "createdByName": actor_name,
        "createdAt": ts,
        "updatedByName": actor_name,
        "updatedAt": ts,
    }
