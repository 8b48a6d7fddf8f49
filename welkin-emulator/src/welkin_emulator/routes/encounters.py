"""Encounters: patient and user lists (metaInfo), get, create, update, delete, disposition."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..errors import ApiError, dt_record_not_found, validation_errors
from ..events import (
    disposition_envelope,
    embed_event,
    encounter_body,
    encounter_envelope,
    person_name,
)
from ..formations import DISPOSITION_CDT_NAME, DISPOSITION_FORMATION, TEMPLATES_BY_NAME
from ..http import Ctx, Reply, Router, empty_reply, json_reply, raw_reply
from ..pages import meta_info_page
from ..records import ENCOUNTER_STATUSES, USER_SCOPED_DROPPED, cdt_envelope
from ..timeutil import format_local, format_ms
from ..validation import validate_cdt_values, validate_simple
from .calendar import insert_event, link_encounter, load_event, validate_event
from .cdts import audit_record, insert_record, load_record, save_record
from .common import actor, fetch_page, get_patient_row, require_patient, sort_clause
from .encounter_links import delete_links, link_template_assessments, links_of

ENCOUNTER = "__encounter__"
_WRITABLE = frozenset(
    {"title", "description", "notes", "status", "templateName", "calendarEventId",
     "startDatetime", "endDatetime", "activeUserId", "ownerUserId", "instruction",
     "external_id", "external_guid", "currentScheduledAppointment"}
)  # fmt: skip
_STRINGS = _WRITABLE - {"currentScheduledAppointment", "startDatetime", "endDatetime"}
_INSTANTS = frozenset({"startDatetime", "endDatetime"})
_READ_ONLY = frozenset(
    {"id", "type", "templateTitle", "ownerUserName", "activeUserName", "calendarEvent",
     "dispositionId", "created_at", "created_by", "created_by_name", "updated_at", "updated_by",
     "updated_by_name", "local_created_at", "local_updated_at", "localStartDatetime",
     "localEndDatetime", "calendarEventStartDatetime", "localCalendarEventStartDatetime",
     "source_type", "source_name", "source_id", "patientId", "cdtName"}
)  # fmt: skip
_SORT_COLUMNS = {"updated_at": "updated_at", "created_at": "created_at", "id": "id"}


def _validate(values: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = validate_simple(
        "ENCOUNTER", values, writable=_WRITABLE, read_only=_READ_ONLY,
        required=("templateName",) if creating else (), strings=_STRINGS, instants=_INSTANTS,
    )  # fmt: skip
    problems = []
    if "templateName" in out and out["templateName"] not in TEMPLATES_BY_NAME:
        problems.append(("templateName", "unknown encounter template"))
    if out.get("status") is not None and out["status"] not in ENCOUNTER_STATUSES:
        problems.append(("status", "not a known encounter status"))
    appt = out.get("currentScheduledAppointment")
    if appt is not None and not isinstance(appt, dict):
        problems.append(("currentScheduledAppointment", "expected an object"))
    if problems:
        raise validation_errors("ENCOUNTER", problems)
    return out


def _user(conn: sqlite3.Connection, ctx: Ctx, uid: str | None) -> dict[str, Any] | None:
    if not uid:
        return None
    row = conn.execute(
        "SELECT body FROM users WHERE tenant=? AND id=?", (ctx.tenant, uid)
    ).fetchone()
    return orjson.loads(row[0]) if row else None


def _list_where(ctx: Ctx, where: str, params: list[Any]) -> tuple[str, list[Any]]:
    statuses = ctx.q_list("statuses")
    if statuses:
        where += (
            f" AND json_extract(body, '$.jsonBody.status') IN ({','.join('?' * len(statuses))})"
        )
        params.extend(statuses)
    if ctx.q_bool("onlyWithCalendarEvent", False):
        where += " AND json_extract(body, '$.jsonBody.calendarEventId') IS NOT NULL"
    # withCareTeam is accepted (the wrapper sends it) but has no effect: there are no care teams.
    ctx.q_bool("withCareTeam", False)
    return where, params


def list_patient_encounters(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/encounters``: metaInfo page, ``statuses`` filter, ``sort``."""
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    require_patient(conn, ctx, pid)
    page, size = ctx.page_params()
    where, params = _list_where(
        ctx, "tenant=? AND instance=? AND patient_id=? AND cdt_name=?",
        [ctx.tenant, ctx.instance, pid, ENCOUNTER],
    )  # fmt: skip
    order, _ = sort_clause(ctx, _SORT_COLUMNS, json_root="$.jsonBody")
    items, total = fetch_page(
        conn, "records", where, params, f"{order or 'rowid'}, rowid", page, size
    )
    return raw_reply(meta_info_page(items, page, size, total))


def list_user_encounters(ctx: Ctx) -> Reply:
    """``GET users/{uid}/encounters``: metaInfo page in the reduced user-scoped shape."""
    conn = ctx.state.db.conn
    page, size = ctx.page_params()
    where, params = _list_where(
        ctx, "tenant=? AND instance=? AND owner_user_id=? AND cdt_name=?",
        [ctx.tenant, ctx.instance, ctx.params["userId"], ENCOUNTER],
    )  # fmt: skip
    items, total = fetch_page(conn, "records", where, params, "rowid", page, size)
    reduced = []
    for text in items:
        env = orjson.loads(text)
        body = {k: v for k, v in env["jsonBody"].items() if k not in USER_SCOPED_DROPPED}
        try:
            patient = get_patient_row(conn, ctx, env["patientId"])
        except Exception:  # the patient vanished: keep the encounter, without names
            patient = {}
        body["patientInfo"] = {"patientId": env["patientId"], "firstName": patient.get("firstName"),
                               "lastName": patient.get("lastName")}  # fmt: skip
        reduced.append(orjson.dumps(cdt_envelope(env["id"], env["patientId"], None, None, None,
                                                 body)))  # fmt: skip
    return raw_reply(meta_info_page(reduced, page, size, total))


def get_encounter(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/encounters/{eid}``; 404 ``DT_RECORD_NOT_FOUND`` when absent."""
    env = load_record(
        ctx.state.db.conn, ctx, ctx.params["encounterId"], ctx.params["patientId"], ENCOUNTER
    )
    return json_reply(env)


def create_encounter(ctx: Ctx) -> Reply:
    """``POST patients/{pid}/encounters`` → 201, status DRAFT, event and disposition created."""
    values = _validate(ctx.json_object(), creating=True)
    appt = values.pop("currentScheduledAppointment", None)
    event_values = None
    if appt is not None:
        event_values = validate_event({"eventType": "ENCOUNTER", **appt}, creating=True)
        event_values.setdefault("eventStatus", "SCHEDULED")
        event_values.setdefault("eventMode", "VIDEO")
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        require_patient(conn, ctx, pid)
        event = insert_event(conn, clock, ctx, event_values) if event_values else None
        if event is None and values.get("calendarEventId"):
            # Linking an existing event instead of scheduling a new one (what a copy does).
            event = _existing_event(conn, ctx, values["calendarEventId"])
        owner = _user(conn, ctx, values.get("ownerUserId") or (event or {}).get("hostId"))
        enc_id, disp_id = str(uuid.uuid4()), str(uuid.uuid4())
        ts = clock.tick_ms()
        body = encounter_body(enc_id, ts, actor_id, actor_name, values, event, owner, disp_id)
        if owner is None and values.get("ownerUserId"):
            body["ownerUserId"] = values["ownerUserId"]
        for key in ("startDatetime", "endDatetime", "activeUserId", "instruction"):
            if values.get(key) is not None:
                body[key] = values[key]
        if values.get("activeUserId"):
            body["activeUserName"] = person_name(_user(conn, ctx, values["activeUserId"]))
        env = encounter_envelope(enc_id, pid, body)
        text = insert_record(conn, ctx, "ENCOUNTER", env, owner=body["ownerUserId"])
        link_encounter(conn, ctx, enc_id, body["calendarEventId"])
        disp = disposition_envelope(disp_id, pid, enc_id, clock.tick(), actor_id, actor_name)
        insert_record(conn, ctx, "DISPOSITION", disp)
        audit_record(conn, ctx, "CDT_CREATED", body["updated_at"], env)
        audit_record(conn, ctx, "CDT_CREATED", disp["jsonBody"]["updated_at"], disp)
        link_template_assessments(conn, ctx, env, clock.tick(), actor_id, actor_name)
    return raw_reply(text, 201)


def update_encounter(ctx: Ctx) -> Reply:
    """``PATCH patients/{pid}/encounters/{eid}``: partial, bumps ``jsonBody.updated_at``."""
    values = _validate(ctx.json_object(), creating=False)
    values.pop("currentScheduledAppointment", None)
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        env = load_record(conn, ctx, ctx.params["encounterId"], ctx.params["patientId"], ENCOUNTER)
        body = env["jsonBody"]
        body.update(values)
        if "templateName" in values:
            body["type"] = values["templateName"]
        if "ownerUserId" in values:
            body["ownerUserName"] = person_name(_user(conn, ctx, values["ownerUserId"]))
        if "activeUserId" in values:
            body["activeUserName"] = person_name(_user(conn, ctx, values["activeUserId"]))
        if "calendarEventId" in values:
            event_id = values["calendarEventId"]
            embed_event(body, _existing_event(conn, ctx, event_id) if event_id else None)
            link_encounter(conn, ctx, body["id"], event_id)
        ts = clock.tick_ms()
        body.update(updated_by=actor_id, updated_by_name=actor_name)
        body["updated_at"] = format_ms(ts)
        body["local_updated_at"] = format_local(ts, None)
        text = save_record(conn, ctx, env, owner=body.get("ownerUserId"))
        audit_record(conn, ctx, "CDT_UPDATED", body["updated_at"], env)
    return raw_reply(text)


def _existing_event(conn: sqlite3.Connection, ctx: Ctx, event_id: str) -> dict[str, Any]:
    """The calendar event ``event_id``, or 400 naming ``calendarEventId``."""
    try:
        return load_event(conn, ctx, event_id)
    except ApiError:
        raise validation_errors(
            "ENCOUNTER", [("calendarEventId", "unknown calendar event")]
        ) from None


def delete_encounter(ctx: Ctx) -> Reply:
    """``DELETE patients/{pid}/encounters/{eid}`` → 200 empty; its disposition goes too."""
    with ctx.state.db.write() as (conn, clock):
        env = load_record(conn, ctx, ctx.params["encounterId"], ctx.params["patientId"], ENCOUNTER)
        conn.execute(
            "DELETE FROM records WHERE tenant=? AND instance=? AND id IN (?, ?)",
            (ctx.tenant, ctx.instance, env["id"], env["jsonBody"].get("dispositionId")),
        )
        link_encounter(conn, ctx, env["id"], None)
        delete_links(conn, ctx, env["patientId"], env["id"])
        audit_record(conn, ctx, "CDT_DELETED", clock.tick(), env)
    return empty_reply(200)


def _disposition(conn: sqlite3.Connection, ctx: Ctx) -> dict[str, Any]:
    env = load_record(conn, ctx, ctx.params["encounterId"], ctx.params["patientId"], ENCOUNTER)
    disp_id = env["jsonBody"].get("dispositionId")
    if not disp_id:
        raise dt_record_not_found()
    return load_record(conn, ctx, disp_id, ctx.params["patientId"], DISPOSITION_CDT_NAME)


def get_disposition(ctx: Ctx) -> Reply:
    """``GET …/encounters/{eid}/disposition``."""
    return json_reply(_disposition(ctx.state.db.conn, ctx))


def update_disposition(ctx: Ctx) -> Reply:
    """``PATCH …/encounters/{eid}/disposition`` with disposition fields (flat)."""
    values = validate_cdt_values(DISPOSITION_FORMATION, ctx.json_object(), creating=False)
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        env = _disposition(conn, ctx)
        env["jsonBody"].update(values)
        env["jsonBody"].update(
            updated_at=clock.tick(), updated_by=actor_id, updated_by_name=actor_name
        )
        text = save_record(conn, ctx, env)
        audit_record(conn, ctx, "CDT_UPDATED", env["jsonBody"]["updated_at"], env)
    return raw_reply(text)


def full_encounter(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/full-encounters/{eid}``: encounter with its related objects."""
    conn = ctx.state.db.conn
    env = load_record(conn, ctx, ctx.params["encounterId"], ctx.params["patientId"], ENCOUNTER)
    try:
        disp: dict[str, Any] | None = _disposition(conn, ctx)
    except Exception:
        disp = None
    event = env["jsonBody"].get("calendarEvent")
    host = _user(conn, ctx, (event or {}).get("hostId"))
    if host is not None:
        host.pop("applicationAccess", None)  # recorded: an embedded user has none
    links = [orjson.loads(t) for t in links_of(conn, ctx, env["patientId"], env["id"])]
    comments = [
        orjson.loads(r[0])
        for r in conn.execute(
            "SELECT body FROM items WHERE tenant=? AND instance=? AND kind='ENCOUNTER_COMMENT' "
            "AND parent_id=? ORDER BY created_at, rowid",
            (ctx.tenant, ctx.instance, env["id"]),
        )
    ]
    return json_reply({"encounter": env, "disposition": disp, "calendarEvent": event,
                       "userRelatedToCalendarEvent": host, "assessmentLinks": links,
                       "comments": comments})  # fmt: skip


def register(r: Router) -> None:
    """Add the encounter routes."""
    base = "/{tenant}/{instance}/patients/{patientId}"
    r.add("GET", f"{base}/encounters", list_patient_encounters)
    r.add("POST", f"{base}/encounters", create_encounter)
    r.add("GET", f"{base}/encounters/{{encounterId}}", get_encounter)
    r.add("PATCH", f"{base}/encounters/{{encounterId}}", update_encounter)
    r.add("DELETE", f"{base}/encounters/{{encounterId}}", delete_encounter)
    r.add("GET", f"{base}/encounters/{{encounterId}}/disposition", get_disposition)
    r.add("PATCH", f"{base}/encounters/{{encounterId}}/disposition", update_disposition)
    r.add("GET", f"{base}/full-encounters/{{encounterId}}", full_encounter)
    r.add("GET", "/{tenant}/{instance}/users/{userId}/encounters", list_user_encounters)
