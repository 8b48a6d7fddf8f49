"""An encounter's assessment links and comments.

Assessment links (recorded): CDT-envelope records of ``__encounter_assessment__`` whose
``jsonBody`` names the assessment, the assessment record filled for it (``assessmentRecordId``)
and whether the encounter template added it (``fromTemplate``). ``GET …/assessments`` is a bare
array; POST → 201; PATCH ``{"assessmentRecordId"}`` → 200; DELETE → 200 empty, then 404
``DT_RECORD_NOT_FOUND``. Creating an encounter links its template's assessments.

Comments (``…/encounters/{eid}/comments``): readable (metaInfo list, single GET); creating one is
refused with 403, as recorded for an API client (HIST:test_encounter_comment_create).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..care import COMMENT
from ..designer import ASSESSMENTS_BY_NAME, ENCOUNTER_ASSESSMENT_CDT
from ..errors import dt_record_not_found, not_found, validation_errors
from ..events import assessment_link
from ..formations import TEMPLATES_BY_NAME
from ..http import Ctx, Reply, Router, empty_reply, raw_reply
from ..pages import json_array
from .cdts import audit_record, insert_record, load_record, save_record
from .common import actor, forbidden
from .patient_items import get_one, meta_list

LINK = ENCOUNTER_ASSESSMENT_CDT["name"]
ENCOUNTER = "__encounter__"


def link_template_assessments(  # noqa: PLR0917
    conn: sqlite3.Connection,
    ctx: Ctx,
    env: dict[str, Any],
    ts: str,
    actor_id: str,
    actor_name: str,
) -> None:
    """Create the links of a new encounter's template assessments (``fromTemplate: true``)."""
    template = TEMPLATES_BY_NAME.get(env["jsonBody"].get("templateName") or "")
    for name in (template or {}).get("assessmentNames", []):
        assessment = ASSESSMENTS_BY_NAME.get(name)
        if assessment is None:
            continue
        link = assessment_link(
            str(uuid.uuid4()),
            env["patientId"],
            env["id"],
            assessment,
            ts,
            actor_id,
            actor_name,
            from_template=True,
        )
        insert_record(conn, ctx, "ENCOUNTER_ASSESSMENT", link)
        audit_record(conn, ctx, "CDT_CREATED", ts, link)


def links_of(conn: sqlite3.Connection, ctx: Ctx, patient_id: str, encounter_id: str) -> list[bytes]:
    """Stored JSON texts of an encounter's links, oldest first."""
    rows = conn.execute(
        "SELECT CAST(body AS BLOB) FROM records WHERE tenant=? AND instance=? AND patient_id=? "
        "AND cdt_name=? AND json_extract(body, '$.jsonBody.source_id')=? ORDER BY rowid",
        (ctx.tenant, ctx.instance, patient_id, LINK, encounter_id),
    ).fetchall()
    return [r[0] for r in rows]


def delete_links(conn: sqlite3.Connection, ctx: Ctx, patient_id: str, encounter_id: str) -> None:
    """Delete an encounter's links (with the encounter), each with its audit event."""
    for text in links_of(conn, ctx, patient_id, encounter_id):
        env = orjson.loads(text)
        conn.execute(
            "DELETE FROM records WHERE tenant=? AND instance=? AND id=?",
            (ctx.tenant, ctx.instance, env["id"]),
        )
        audit_record(conn, ctx, "CDT_DELETED", env["jsonBody"]["updated_at"], env)


def _encounter(conn: sqlite3.Connection, ctx: Ctx) -> dict[str, Any]:
    return load_record(conn, ctx, ctx.params["encounterId"], ctx.params["patientId"], ENCOUNTER)


def _link(conn: sqlite3.Connection, ctx: Ctx) -> dict[str, Any]:
    env = load_record(conn, ctx, ctx.params["id"], ctx.params["patientId"], LINK)
    if env["jsonBody"].get("source_id") != ctx.params["encounterId"]:
        raise dt_record_not_found()
    return env


def list_links(ctx: Ctx) -> Reply:
    """``GET …/encounters/{eid}/assessments``: bare array (a ``page`` parameter is ignored)."""
    conn = ctx.state.db.conn
    enc = _encounter(conn, ctx)
    return raw_reply(json_array(links_of(conn, ctx, enc["patientId"], enc["id"])))


def get_link(ctx: Ctx) -> Reply:
    """``GET …/encounters/{eid}/assessments/{id}``."""
    return raw_reply(orjson.dumps(_link(ctx.state.db.conn, ctx)))


def create_link(ctx: Ctx) -> Reply:
    """``POST …/encounters/{eid}/assessments {"assessmentName"}`` → 201, not from a template."""
    data = ctx.json_object()
    assessment = ASSESSMENTS_BY_NAME.get(data.get("assessmentName") or "")
    if assessment is None:
        raise validation_errors("ENCOUNTER", [("assessmentName", "unknown assessment")])
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        enc = _encounter(conn, ctx)
        link = assessment_link(
            str(uuid.uuid4()),
            enc["patientId"],
            enc["id"],
            assessment,
            clock.tick(),
            actor_id,
            actor_name,
            from_template=False,
        )
        text = insert_record(conn, ctx, "ENCOUNTER_ASSESSMENT", link)
        audit_record(conn, ctx, "CDT_CREATED", link["jsonBody"]["updated_at"], link)
    return raw_reply(text, 201)


def update_link(ctx: Ctx) -> Reply:
    """``PATCH …/encounters/{eid}/assessments/{id} {"assessmentRecordId"}``."""
    data = ctx.json_object()
    unknown = sorted(set(data) - {"assessmentRecordId"})
    if unknown:
        raise validation_errors("ENCOUNTER", [(unknown[0], "unknown field")])
    record_id = data.get("assessmentRecordId")
    if record_id is not None and not isinstance(record_id, str):
        raise validation_errors("ENCOUNTER", [("assessmentRecordId", "expected a string")])
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        env = _link(conn, ctx)
        env["jsonBody"].update(
            assessmentRecordId=record_id,
            updated_at=clock.tick(),
            updated_by=actor_id,
            updated_by_name=actor_name,
        )
        text = save_record(conn, ctx, env)
        audit_record(conn, ctx, "CDT_UPDATED", env["jsonBody"]["updated_at"], env)
    return raw_reply(text)


def delete_link(ctx: Ctx) -> Reply:
    """``DELETE …/encounters/{eid}/assessments/{id}`` → 200, empty body."""
    with ctx.state.db.write() as (conn, clock):
        env = _link(conn, ctx)
        conn.execute(
            "DELETE FROM records WHERE tenant=? AND instance=? AND id=?",
            (ctx.tenant, ctx.instance, env["id"]),
        )
        audit_record(conn, ctx, "CDT_DELETED", clock.tick(), env)
    return empty_reply(200)


def create_comment(ctx: Ctx) -> Reply:
    """``POST …/encounters/{eid}/comments`` → 403 for an API client (recorded in 2022)."""
    raise forbidden(ctx)


def register(r: Router) -> None:
    """Add the assessment link and comment routes."""
    base = "/{tenant}/{instance}/patients/{patientId}/encounters/{encounterId}"
    r.add("GET", f"{base}/assessments", list_links)
    r.add("POST", f"{base}/assessments", create_link)
    r.add("GET", f"{base}/assessments/{{id}}", get_link)
    r.add("PATCH", f"{base}/assessments/{{id}}", update_link)
    r.add("DELETE", f"{base}/assessments/{{id}}", delete_link)
    r.add("GET", f"{base}/comments", meta_list(COMMENT, "encounter comments", "encounterId"))
    r.add("POST", f"{base}/comments", create_comment)
    r.add(
        "GET",
        f"{base}/comments/{{id}}",
        get_one(
            COMMENT,
            "encounter comments",
            lambda ctx, i: not_found(
                "COMMENT_NOT_FOUND", "ENCOUNTER", "Comment not found", {"id": i}
            ),
        ),
    )
