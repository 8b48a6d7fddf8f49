"""Patient programs and their phases (recorded, 2023).

``GET patients/{pid}/programs`` (metaInfo) lists every program of the formation: the patient's
current enrolment, or an unassigned placeholder (``id: null``). ``PATCH …/programs/{programName}``
with ``{"assigned": true, "phaseName"}`` enrols the patient, ``{"phaseName"}`` moves them to
another phase (appended to ``pathHistory``); ``DELETE …/programs/{patientProgramId}`` removes the
enrolment (its history GET is 404 afterwards, as recorded). A patient's ``patientPrograms`` holds
their enrolments; changing one rewrites the patient and bumps its ``updatedAt`` (a decision: no
recording shows whether the real service does).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..care import (
    PATIENT_PROGRAM,
    PROGRAM_KEYS,
    patient_program,
    phase_entry,
    touch,
    unassigned_program,
)
from ..designer import PROGRAMS, PROGRAMS_BY_NAME
from ..errors import not_found, patient_program_not_found, validation_errors
from ..http import Ctx, Reply, Router, empty_reply, json_reply, raw_reply
from ..items import delete_item, find_item, insert_item, save_item
from ..pages import meta_info_page
from ..storage import Clock
from .audit import record_event
from .common import actor, get_patient_row
from .patients import row_values

_ACTIVE = "json_extract(body, '$.status') != 'FINISHED'"


def _current(conn: sqlite3.Connection, ctx: Ctx, pid: str, name: str) -> dict[str, Any] | None:
    return find_item(
        conn, ctx, PATIENT_PROGRAM, f"patient_id=? AND name=? AND {_ACTIVE}", [pid, name]
    )


def _program(name: str) -> dict[str, Any]:
    program = PROGRAMS_BY_NAME.get(name)
    if program is None:
        raise not_found("PROGRAM_NOT_FOUND", "PROGRAM", "Program not found", {"programName": name})
    return program


def list_programs(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/programs?assignedPrograms``: one entry per program of the formation."""
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    get_patient_row(conn, ctx, pid)
    only_assigned = ctx.q_bool("assignedPrograms", False)
    entries: list[bytes] = []
    for program in PROGRAMS:
        current = _current(conn, ctx, pid, program["name"])
        if current is not None:
            entries.append(orjson.dumps(current))
        elif not only_assigned:
            entries.append(orjson.dumps(unassigned_program(program)))
    page, size = ctx.page_params()
    return raw_reply(
        meta_info_page(entries[page * size : (page + 1) * size], page, size, len(entries))
    )


def get_current(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/programs/current/{programName}``; 404 when not (or no longer) in it."""
    pid, name = ctx.params["patientId"], ctx.params["programName"]
    current = _current(ctx.state.db.conn, ctx, pid, name)
    if current is None:
        raise patient_program_not_found(
            {"programName": name, "patientId": pid, "notStatus": "FINISHED"}
        )
    return json_reply(current)


def get_history(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/programs/history/{patientProgramId}``."""
    pid, ppid = ctx.params["patientId"], ctx.params["id"]
    rec = find_item(ctx.state.db.conn, ctx, PATIENT_PROGRAM, "id=? AND patient_id=?", [ppid, pid])
    if rec is None:
        raise patient_program_not_found({"id": ppid, "patientId": pid})
    return json_reply(rec)


def sync_patient(conn: sqlite3.Connection, ctx: Ctx, clock: Clock, pid: str) -> None:
    """Rewrite the patient's ``patientPrograms`` from its enrolments (bumps ``updatedAt``)."""
    patient = get_patient_row(conn, ctx, pid)
    rows = conn.execute(
        "SELECT body FROM items WHERE tenant=? AND instance=? AND kind=? AND patient_id=? "
        "ORDER BY created_at, rowid",
        (ctx.tenant, ctx.instance, PATIENT_PROGRAM, pid),
    ).fetchall()
    patient["patientPrograms"] = [orjson.loads(r[0]) for r in rows]
    patient["updatedAt"] = clock.tick()
    actor_id, actor_name = actor(ctx)
    patient.update(updatedBy=actor_id, updatedByName=actor_name)
    conn.execute(
        "UPDATE patients SET external_id=?, external_guid=?, mrn=?, search=?, updated_at=?, "
        "body=? WHERE tenant=? AND instance=? AND id=?",
        (
            *row_values(patient),
            patient["updatedAt"],
            orjson.dumps(patient).decode(),
            ctx.tenant,
            ctx.instance,
            pid,
        ),
    )
    record_event(conn, ctx, subtype="PATIENT_UPDATED", sent_at=patient["updatedAt"],
                 patient=patient, record=patient)  # fmt: skip


def _phase(program: dict[str, Any], name: Any) -> dict[str, Any]:
    phases: list[dict[str, Any]] = program["phases"]
    for phase in phases:
        if phase["name"] == name:
            return phase
    raise validation_errors("PATIENT_PROGRAM", [("phaseName", "not a phase of this program")])


def update_program(ctx: Ctx) -> Reply:
    """``PATCH patients/{pid}/programs/{programName}`` (also ``…/{programName}/phases``)."""
    data = ctx.json_object()
    unknown = sorted(set(data) - {"assigned", "phaseName"})
    if unknown:
        raise validation_errors("PATIENT_PROGRAM", [(unknown[0], "unknown field")])
    if data.get("assigned") not in (None, True):
        raise validation_errors("PATIENT_PROGRAM", [("assigned", "unassign with DELETE")])
    program = _program(ctx.params["programName"])
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        patient = get_patient_row(conn, ctx, pid)
        rec = _current(conn, ctx, pid, program["name"])
        if rec is None:
            if data.get("assigned") is not True:
                raise patient_program_not_found(
                    {"programName": program["name"], "patientId": pid, "notStatus": "FINISHED"}
                )
            start = next(p for p in program["phases"] if p["type"] == "START")
            phase = _phase(program, data.get("phaseName") or start["name"])
            rec = patient_program(
                str(uuid.uuid4()), pid, program, phase, clock.tick(), actor_id, actor_name
            )
            text = insert_item(conn, ctx, PATIENT_PROGRAM, rec, PROGRAM_KEYS)
            subtype = "PATIENT_PROGRAM_CREATED"
        else:
            if "phaseName" in data:
                entry = phase_entry(
                    _phase(program, data["phaseName"]), clock.tick(), actor_id, actor_name
                )
                rec["currentPhase"] = entry
                rec["pathHistory"].append(entry)
            touch(rec, clock.tick(), actor_id, actor_name)
            text = save_item(conn, ctx, PATIENT_PROGRAM, rec, PROGRAM_KEYS)
            subtype = "PATIENT_PROGRAM_UPDATED"
        record_event(conn, ctx, subtype=subtype, sent_at=rec["updatedAt"], patient=patient,
                     record=rec, entity="PROGRAM")  # fmt: skip
        sync_patient(conn, ctx, clock, pid)
    return raw_reply(text)


def delete_program(ctx: Ctx) -> Reply:
    """``DELETE patients/{pid}/programs/{patientProgramId}`` → 200, empty body."""
    pid, ppid = ctx.params["patientId"], ctx.params["id"]
    with ctx.state.db.write() as (conn, clock):
        rec = find_item(conn, ctx, PATIENT_PROGRAM, "id=? AND patient_id=?", [ppid, pid])
        if rec is None:
            raise patient_program_not_found({"id": ppid, "patientId": pid})
        delete_item(conn, ctx, PATIENT_PROGRAM, ppid)
        patient = get_patient_row(conn, ctx, pid)
        record_event(conn, ctx, subtype="PATIENT_PROGRAM_DELETED", sent_at=clock.tick(),
                     patient=patient, record=rec, entity="PROGRAM")  # fmt: skip
        sync_patient(conn, ctx, clock, pid)
    return empty_reply(200)


def register(r: Router) -> None:
    """Add the patient program routes (``current``/``history`` before ``{programName}``)."""
    base = "/{tenant}/{instance}/patients/{patientId}/programs"
    r.add("GET", base, list_programs)
    r.add("GET", f"{base}/current/{{programName}}", get_current)
    r.add("GET", f"{base}/history/{{id}}", get_history)
    r.add("PATCH", f"{base}/{{programName}}", update_program)
    r.add("PATCH", f"{base}/{{programName}}/phases", update_program)
    r.add("DELETE", f"{base}/{{id}}", delete_program)
