"""Assessment records of a patient (recorded, August 2022).

``POST …/assessment-records {"assessmentName"}`` → 201, status ``NEW``, with ``answers`` (the
record of the assessment's CDT ``_asm-<name>``, shared CDT system fields plus one
``<cdt>__<field>`` per question, null until answered). ``PUT …/{id}`` with the whole record sets
``status`` (``COMPLETED`` fills ``finalizedDate`` and ``questions``) and bumps ``updatedAt``;
``PUT …/{id}/answers {"<cdt>__<field>": value}`` changes answers only: as recorded, the
record's ``updatedAt`` stays, ``answers.updated_at`` moves. ``DELETE`` → 200 empty, then 404
``ASSESSMENT_RECORD_NOT_FOUND``.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..care import ASSESSMENT, PLAIN_KEYS, assessment_record, touch
from ..designer import ASSESSMENTS_BY_NAME, question_labels
from ..errors import assessment_record_not_found, validation_errors
from ..http import Ctx, Reply, Router, empty_reply, raw_reply
from ..items import delete_item, insert_item, save_item
from ..timeutil import format_local, parse_instant
from .audit import record_event
from .common import actor, get_patient_row
from .patient_items import get_one, load_item_text, spring_list

STATUSES = ("NEW", "IN_PROGRESS", "COMPLETED")
# Keys of the whole record a PUT may change; the rest is the server's and ignored.
_PUT_WRITABLE = frozenset({"status", "answers", "folderId", "expirationDate"})


def _not_found(ctx: Ctx, rid: str) -> Any:
    return assessment_record_not_found(ctx.params["patientId"], rid)


def _load(ctx: Ctx) -> dict[str, Any]:
    rec: dict[str, Any] = orjson.loads(
        load_item_text(ctx, ASSESSMENT, ctx.params["id"], _not_found)
    )
    return rec


def _answers(rec: dict[str, Any], values: Any) -> dict[str, Any]:
    """Validated answer values (keys must be the record's ``<cdt>__<field>`` keys)."""
    if not isinstance(values, dict):
        raise validation_errors("ASSESSMENT", [("answers", "expected an object")])
    known = {k for k in rec["answers"] if "__" in k}
    out = {}
    for key, value in values.items():
        if key in known:
            out[key] = value
        elif "__" in key:
            raise validation_errors("ASSESSMENT", [(key, "not a question of this assessment")])
    return out


def _audit(
    conn: sqlite3.Connection, ctx: Ctx, subtype: str, sent_at: str, rec: dict[str, Any]
) -> None:
    patient = get_patient_row(conn, ctx, rec["patientId"])
    record_event(conn, ctx, subtype=subtype, sent_at=sent_at, patient=patient, record=rec,
                 entity="ASSESSMENT")  # fmt: skip


def create_record(ctx: Ctx) -> Reply:
    """``POST patients/{pid}/assessment-records {"assessmentName"}`` → 201."""
    data = ctx.json_object()
    assessment = ASSESSMENTS_BY_NAME.get(data.get("assessmentName") or "")
    if assessment is None:
        raise validation_errors("ASSESSMENT", [("assessmentName", "unknown assessment")])
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        get_patient_row(conn, ctx, pid)
        rec = assessment_record(str(uuid.uuid4()), pid, assessment, clock.tick_ms(),
                                str(uuid.uuid4()), actor_id, actor_name)  # fmt: skip
        text = insert_item(conn, ctx, ASSESSMENT, rec, PLAIN_KEYS)
        _audit(conn, ctx, "ASSESSMENT_RECORD_CREATED", rec["updatedAt"], rec)
    return raw_reply(text, 201)


def put_record(ctx: Ctx) -> Reply:
    """``PUT …/assessment-records/{id}``: the whole record; status, answers and folder change."""
    data = ctx.json_object()
    status = data.get("status")
    if status is not None and status not in STATUSES:
        raise validation_errors("ASSESSMENT", [("status", "not a known status")])
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        rec = _load(ctx)
        answers = _answers(rec, data.get("answers") or {})
        ts = clock.tick()
        if any(rec["answers"].get(k) != v for k, v in answers.items()):
            rec["answers"].update(answers)
            rec["answers"].update(updated_at=ts, updated_by=actor_id, updated_by_name=actor_name)
        for key in ("folderId", "expirationDate"):
            if key in data:
                rec[key] = data[key]
        if status is not None:
            rec["status"] = status
        if status == "COMPLETED" and rec["finalizedDate"] is None:
            rec["finalizedDate"] = ts
            rec["localFinalizedDate"] = format_local(parse_instant(ts) or 0, None)
            rec["questions"] = question_labels(ASSESSMENTS_BY_NAME[rec["assessmentName"]])
        touch(rec, ts, actor_id, actor_name)
        text = save_item(conn, ctx, ASSESSMENT, rec, PLAIN_KEYS)
        _audit(conn, ctx, "ASSESSMENT_RECORD_UPDATED", ts, rec)
    return raw_reply(text)


def put_answers(ctx: Ctx) -> Reply:
    """``PUT …/assessment-records/{id}/answers {"<cdt>__<field>": value}``."""
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        rec = _load(ctx)
        answers = _answers(rec, ctx.json_object())
        ts = clock.tick()
        rec["answers"].update(answers)
        rec["answers"].update(updated_at=ts, updated_by=actor_id, updated_by_name=actor_name)
        text = save_item(conn, ctx, ASSESSMENT, rec, PLAIN_KEYS)
        # The answers are a CDT record: their change is a CDT update in the audit feed.
        patient = get_patient_row(conn, ctx, rec["patientId"])
        record_event(conn, ctx, subtype="CDT_UPDATED", sent_at=ts, patient=patient,
                     record=rec["answers"], cdt_name=rec["assessmentCdtName"])  # fmt: skip
    return raw_reply(text)


def delete_record(ctx: Ctx) -> Reply:
    """``DELETE …/assessment-records/{id}`` → 200, empty body."""
    with ctx.state.db.write() as (conn, clock):
        rec = _load(ctx)
        delete_item(conn, ctx, ASSESSMENT, rec["id"])
        _audit(conn, ctx, "ASSESSMENT_RECORD_DELETED", clock.tick(), rec)
    return empty_reply(200)


def register(r: Router) -> None:
    """Add the assessment record routes."""
    base = "/{tenant}/{instance}/patients/{patientId}/assessment-records"
    r.add("GET", base, spring_list(ASSESSMENT, "assessment records"))
    r.add("POST", base, create_record)
    r.add("GET", f"{base}/{{id}}", get_one(ASSESSMENT, "assessment records", _not_found))
    r.add("PUT", f"{base}/{{id}}", put_record)
    r.add("PUT", f"{base}/{{id}}/answers", put_answers)
    r.add("DELETE", f"{base}/{{id}}", delete_record)
