"""CDT records of a patient: named-page list, get, flat create, partial and bulk update, delete."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..errors import ApiError, cdt_not_found, dt_record_not_found, validation_errors
from ..formations import CDTS_BY_NAME
from ..http import Ctx, Reply, Router, empty_reply, json_reply, raw_reply
from ..pages import named_page
from ..records import cdt_envelope, cdt_json_body
from ..timeutil import normalize_instant
from ..validation import validate_cdt_values
from .audit import record_event
from .common import actor, fetch_page, get_patient_row, require_patient, sort_clause

_SORT_COLUMNS = {"updated_at": "updated_at", "created_at": "created_at", "id": "id"}


def _cdt(ctx: Ctx) -> dict[str, Any]:
    cdt = CDTS_BY_NAME.get(ctx.params["cdtName"])
    if cdt is None:
        raise cdt_not_found()
    return cdt


def insert_record(
    conn: sqlite3.Connection, ctx: Ctx, kind: str, env: dict[str, Any], owner: str | None = None
) -> str:
    """Insert a CDT-envelope record (CDT, ENCOUNTER or DISPOSITION); returns its JSON text."""
    body = env["jsonBody"]
    text = orjson.dumps(env).decode()
    conn.execute(
        "INSERT INTO records(tenant, instance, kind, id, patient_id, cdt_name, owner_user_id, "
        "external_id, external_guid, created_at, updated_at, body) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
        (ctx.tenant, ctx.instance, kind, env["id"], env["patientId"], env["cdtName"], owner,
         body.get("external_id"), body.get("external_guid"), body["created_at"],
         body["updated_at"], text),
    )  # fmt: skip
    return text


def save_record(
    conn: sqlite3.Connection, ctx: Ctx, env: dict[str, Any], owner: str | None = None
) -> str:
    """Write back an updated CDT-envelope record; returns its JSON text."""
    body = env["jsonBody"]
    text = orjson.dumps(env).decode()
    conn.execute(
        "UPDATE records SET external_id=?, external_guid=?, updated_at=?, body=?, "
        "owner_user_id=COALESCE(?, owner_user_id) WHERE tenant=? AND instance=? AND id=?",
        (body.get("external_id"), body.get("external_guid"), body["updated_at"], text, owner,
         ctx.tenant, ctx.instance, env["id"]),
    )  # fmt: skip
    return text


def load_record(
    conn: sqlite3.Connection, ctx: Ctx, rid: str, patient_id: str, cdt_name: str
) -> dict[str, Any]:
    """The decoded record ``rid`` of this patient and CDT, or 404 ``DT_RECORD_NOT_FOUND``."""
    row = conn.execute(
        "SELECT body FROM records WHERE tenant=? AND instance=? AND id=? AND patient_id=? "
        "AND cdt_name=?",
        (ctx.tenant, ctx.instance, rid, patient_id, cdt_name),
    ).fetchone()
    if row is None:
        raise dt_record_not_found()
    result: dict[str, Any] = orjson.loads(row[0])
    return result


def _date_param(ctx: Ctx, name: str) -> str | None:
    raw = ctx.q(name)
    if not raw:
        return None
    norm = normalize_instant(raw)
    if norm is None:
        raise validation_errors("CDT", [(name, "expected an ISO-8601 date-time")])
    return norm


def list_records(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/cdts/{cdtName}``: named page of one patient's records.

    ``dateStart``/``dateEnd`` filter on ``jsonBody.updated_at`` (start inclusive, end
    exclusive); ``sort`` works on any field.
    """
    cdt = _cdt(ctx)
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    require_patient(conn, ctx, pid)
    page, size = ctx.page_params()
    where = "tenant=? AND instance=? AND patient_id=? AND cdt_name=?"
    params: list[Any] = [ctx.tenant, ctx.instance, pid, cdt["name"]]
    start, end = _date_param(ctx, "dateStart"), _date_param(ctx, "dateEnd")
    if start:
        where += " AND updated_at>=?"
        params.append(start)
    if end:
        where += " AND updated_at<?"
        params.append(end)
    order, sorted_ = sort_clause(ctx, _SORT_COLUMNS, json_root="$.jsonBody")
    items, total = fetch_page(
        conn, "records", where, params, (order + ", rowid") if order else "rowid", page, size
    )
    return raw_reply(named_page(cdt["name"], items, page, size, total, sorted_))


def get_record(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/cdts/{cdtName}/{recordId}``."""
    cdt = _cdt(ctx)
    row = ctx.state.db.conn.execute(
        "SELECT body FROM records WHERE tenant=? AND instance=? AND id=? AND patient_id=? "
        "AND cdt_name=?",
        (ctx.tenant, ctx.instance, ctx.params["recordId"], ctx.params["patientId"], cdt["name"]),
    ).fetchone()
    if row is None:
        raise dt_record_not_found()
    return raw_reply(row[0])


def create_record(ctx: Ctx) -> Reply:
    """``POST patients/{pid}/cdts/{cdtName}`` with a flat field map → 201 envelope."""
    cdt = _cdt(ctx)
    # The wrapper also sends "cdtName" in the body; the real API accepts it.
    values = validate_cdt_values(
        cdt, ctx.json_object(), creating=True, ignore=frozenset({"cdtName"})
    )
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        require_patient(conn, ctx, pid)
        rid = str(uuid.uuid4())
        body = cdt_json_body(cdt, rid, clock.tick(), actor_id, actor_name, values)
        env = cdt_envelope(rid, pid, cdt["id"], cdt["version"], cdt["name"], body)
        text = insert_record(conn, ctx, "CDT", env)
        audit_record(conn, ctx, "CDT_CREATED", env["jsonBody"]["updated_at"], env)
    return raw_reply(text, 201)


def audit_record(
    conn: sqlite3.Connection, ctx: Ctx, subtype: str, sent_at: str, env: dict[str, Any]
) -> None:
    """Add the change of a CDT-envelope record (CDT, encounter, disposition) to the audit feed."""
    try:
        patient: dict[str, Any] | None = get_patient_row(conn, ctx, env["patientId"])
    except ApiError:
        patient = None
    record = {k: env[k] for k in ("patientId", "jsonBody", "id", "cdtName", "cdtId", "version")}
    record_event(conn, ctx, subtype=subtype, sent_at=sent_at, patient=patient, record=record,
                 cdt_name=env["cdtName"])  # fmt: skip


def _apply(
    env: dict[str, Any], values: dict[str, Any], ts: str, actor_id: str, actor_name: str
) -> None:
    body = env["jsonBody"]
    body.update(values)
    body.update(updated_at=ts, updated_by=actor_id, updated_by_name=actor_name)


def update_record(ctx: Ctx) -> Reply:
    """``PATCH …/cdts/{cdtName}/{recordId}``: flat partial update, bumps ``updated_at``."""
    cdt = _cdt(ctx)
    values = validate_cdt_values(
        cdt, ctx.json_object(), creating=False, ignore=frozenset({"cdtName"})
    )
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        env = load_record(conn, ctx, ctx.params["recordId"], ctx.params["patientId"], cdt["name"])
        _apply(env, values, clock.tick(), actor_id, actor_name)
        text = save_record(conn, ctx, env)
        audit_record(conn, ctx, "CDT_UPDATED", env["jsonBody"]["updated_at"], env)
    return raw_reply(text)


def bulk_update(ctx: Ctx) -> Reply:
    """``PATCH …/cdts/{cdtName}`` with ``{"rows": [{"id", "jsonBody"}]}`` (all or nothing)."""
    cdt = _cdt(ctx)
    data = ctx.json_object()
    rows = data.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise validation_errors("CDT", [("rows", "expected a list of {id, jsonBody} objects")])
    staged: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        if not isinstance(row.get("id"), str):
            raise validation_errors("CDT", [("rows.id", "expected a record id")])
        body = row.get("jsonBody") or {}
        if not isinstance(body, dict):
            raise validation_errors("CDT", [("rows.jsonBody", "expected an object")])
        staged.append((row["id"], validate_cdt_values(cdt, body, creating=False)))
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    out = []
    with ctx.state.db.write() as (conn, clock):
        for rid, values in staged:
            env = load_record(conn, ctx, rid, pid, cdt["name"])
            _apply(env, values, clock.tick(), actor_id, actor_name)
            save_record(conn, ctx, env)
            audit_record(conn, ctx, "CDT_UPDATED", env["jsonBody"]["updated_at"], env)
            out.append(
                {
                    "id": rid,
                    "jsonBody": env["jsonBody"],
                    "result": {"status": "OK", "content": None},
                }
            )
    return json_reply({"rows": out})


def delete_record(ctx: Ctx) -> Reply:
    """``DELETE …/cdts/{cdtName}/{recordId}`` → 200 with an empty body; later GETs → 404."""
    cdt = _cdt(ctx)
    with ctx.state.db.write() as (conn, clock):
        env = load_record(conn, ctx, ctx.params["recordId"], ctx.params["patientId"], cdt["name"])
        cur = conn.execute(
            "DELETE FROM records WHERE tenant=? AND instance=? AND id=? AND patient_id=? "
            "AND cdt_name=?",
            (
                ctx.tenant,
                ctx.instance,
                ctx.params["recordId"],
                ctx.params["patientId"],
                cdt["name"],
            ),
        )
        if cur.rowcount == 0:
            raise dt_record_not_found()
        audit_record(conn, ctx, "CDT_DELETED", clock.tick(), env)
    return empty_reply(200)


def register(r: Router) -> None:
    """Add the CDT record routes."""
    base = "/{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}"
    r.add("GET", base, list_records)
    r.add("POST", base, create_record)
    r.add("PATCH", base, bulk_update)
    r.add("GET", f"{base}/{{recordId}}", get_record)
    r.add("PATCH", f"{base}/{{recordId}}", update_record)
    r.add("DELETE", f"{base}/{{recordId}}", delete_record)
