"""Patients: list, create, get (by id or external key), update, and the recorded 403 on delete."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..errors import bad_request, patient_not_found
from ..http import Ctx, Reply, Router, raw_reply
from ..pages import spring_page
from ..records import PATIENT_KEYS, PATIENT_READ_ONLY, patient_record
from ..validation import validate_patient
from .audit import record_event
from .common import actor, fetch_page, forbidden, sort_clause

_SORT_COLUMNS = {"updatedAt": "updated_at", "id": "id"}
_LOOKUP_COLUMNS = {"ID": "id", "EID": "external_id", "EGUID": "external_guid", "MRN": "mrn"}


def search_text(rec: dict[str, Any]) -> str:
    """Lower-cased text the ``query`` parameter searches (names, email, phone; spec §4.1)."""
    parts = (rec.get("firstName"), rec.get("lastName"), rec.get("email"), rec.get("phone"))
    return " ".join(p for p in parts if isinstance(p, str)).lower()


def row_values(rec: dict[str, Any]) -> tuple[Any, ...]:
    """Indexed column values of a patient record."""
    return (rec.get("externalId"), rec.get("externalGuid"), rec.get("mrn"), search_text(rec))


def _list(ctx: Ctx, filters: dict[str, Any]) -> Reply:
    page, size = ctx.page_params()
    where = "tenant=? AND instance=?"
    params: list[Any] = [ctx.tenant, ctx.instance]
    query = filters.get("query") or filters.get("search")
    if isinstance(query, str) and query:
        where += " AND search LIKE ?"
        params.append(f"%{query.lower()}%")
    for key, column in (("externalId", "external_id"), ("externalGuid", "external_guid"),
                        ("mrn", "mrn"), ("email", None)):  # fmt: skip
        value = filters.get(key)
        if isinstance(value, str) and value:
            if column:
                where += f" AND {column}=?"
            else:
                where += " AND json_extract(body, '$.email')=?"
            params.append(value)
    order, sorted_ = sort_clause(ctx, _SORT_COLUMNS, allowed=frozenset(PATIENT_KEYS))
    items, total = fetch_page(
        ctx.state.db.conn, "patients", where, params, (order + ", rowid") if order else "rowid",
        page, size,
    )  # fmt: skip
    return raw_reply(spring_page(items, page, size, total, sorted_))


def by_filter(ctx: Ctx) -> Reply:
    """``POST by-filter/patients``: the wrapper's list call; body is a filter object (``{}``)."""
    body = ctx.json()
    if body is not None and not isinstance(body, dict):
        raise bad_request("PATIENT", "Filter body must be a JSON object")
    return _list(ctx, body or {})


def list_patients(ctx: Ctx) -> Reply:
    """``GET patients`` with ``query``/``email`` filters (documented, Spring page)."""
    return _list(ctx, {"query": ctx.q("query"), "email": ctx.q("email")})


def get_patient(ctx: Ctx) -> Reply:
    """``GET patients/{id}``, or by ``?type=EID|EGUID|MRN`` (first match if several)."""
    key = ctx.params["patientId"]
    kind = (ctx.q("type") or "ID").upper()
    column = _LOOKUP_COLUMNS.get(kind)
    if column is None:
        raise bad_request("PATIENT", "Unknown lookup type", {"field": "type"})
    row = ctx.state.db.conn.execute(
        f"SELECT body FROM patients WHERE tenant=? AND instance=? AND {column}=? "  # noqa: S608 - table/column names are constants
        "ORDER BY rowid LIMIT 1",
        (ctx.tenant, ctx.instance, key),
    ).fetchone()
    if row is None:
        raise patient_not_found()
    return raw_reply(row[0])


def insert_patient(conn: sqlite3.Connection, ctx: Ctx, rec: dict[str, Any]) -> str:
    """Insert a rendered patient record; returns its JSON text."""
    text = orjson.dumps(rec).decode()
    conn.execute(
        "INSERT INTO patients(tenant, instance, id, external_id, external_guid, mrn, search, "
        "updated_at, body) VALUES(?,?,?,?,?,?,?,?,?)",
        (ctx.tenant, ctx.instance, rec["id"], *row_values(rec), rec["updatedAt"], text),
    )
    return text


def create_patient(ctx: Ctx) -> Reply:
    """``POST patients`` → 201 with server defaults; duplicates are allowed (spec §11.6)."""
    values = validate_patient(ctx.json_object(), creating=True, read_only=PATIENT_READ_ONLY)
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        rec = patient_record(str(uuid.uuid4()), clock.tick(), actor_id, actor_name, values)
        text = insert_patient(conn, ctx, rec)
        record_event(conn, ctx, subtype="PATIENT_CREATED", sent_at=rec["updatedAt"], patient=rec,
                     record=rec)  # fmt: skip
    return raw_reply(text, 201)


def update_patient(ctx: Ctx) -> Reply:
    """``PATCH patients/{id}``: partial update that bumps ``updatedAt``."""
    values = validate_patient(ctx.json_object(), creating=False, read_only=PATIENT_READ_ONLY)
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        row = conn.execute(
            "SELECT body FROM patients WHERE tenant=? AND instance=? AND id=?",
            (ctx.tenant, ctx.instance, pid),
        ).fetchone()
        if row is None:
            raise patient_not_found()
        rec = orjson.loads(row[0])
        rec.update(values)
        rec.update(updatedAt=clock.tick(), updatedBy=actor_id, updatedByName=actor_name)
        text = orjson.dumps(rec).decode()
        conn.execute(
            "UPDATE patients SET external_id=?, external_guid=?, mrn=?, search=?, updated_at=?, "
            "body=? WHERE tenant=? AND instance=? AND id=?",
            (*row_values(rec), rec["updatedAt"], text, ctx.tenant, ctx.instance, pid),
        )
        record_event(conn, ctx, subtype="PATIENT_UPDATED", sent_at=rec["updatedAt"], patient=rec,
                     record=rec)  # fmt: skip
    return raw_reply(text)


def delete_patient(ctx: Ctx) -> Reply:
    """``DELETE patients/{id}`` → 403 ``ACCESS_FOR_API_CLIENT_RESTRICTED`` (recorded)."""
    raise forbidden(ctx)


def register(r: Router) -> None:
    """Add the patient routes."""
    base = "/{tenant}/{instance}"
    r.add("POST", f"{base}/by-filter/patients", by_filter)
    r.add("GET", f"{base}/patients", list_patients)
    r.add("POST", f"{base}/patients", create_patient)
    r.add("GET", f"{base}/patients/{{patientId}}", get_patient)
    r.add("PATCH", f"{base}/patients/{{patientId}}", update_patient)
    r.add("DELETE", f"{base}/patients/{{patientId}}", delete_patient)
