"""Calendar events: list (Spring page, ``from``/``to`` required), get, create, update, delete."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..errors import ApiError, calendar_event_not_found, validation_errors
from ..events import calendar_event, embed_event
from ..http import Ctx, Reply, Router, empty_reply, raw_reply
from ..pages import spring_page
from ..records import CALENDAR_WRITABLE, participant
from ..storage import Clock
from ..timeutil import format_local, format_ms, now_ms, parse_instant
from ..validation import validate_simple
from .audit import record_event
from .cdts import save_record
from .common import actor, fetch_page, get_patient_row, sort_clause

_READ_ONLY = frozenset(
    {"id", "createdBy", "createdAt", "updatedBy", "updatedAt", "externalIdUpdatedAt",
     "localStartDateTime", "localEndDateTime", "duration"}
)  # fmt: skip
_STRINGS = frozenset(
    {"externalId", "eventTitle", "eventDescription", "eventType", "eventStatus", "eventMode",
     "eventColor", "hostId", "timezone", "additionalInfo"}
)  # fmt: skip
_INSTANTS = frozenset({"startDateTime", "endDateTime"})
_SORT_COLUMNS = {"startDateTime": "start_at", "updatedAt": "updated_at", "id": "id"}


def validate_event(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validate a calendar event body (create or partial update)."""
    out = validate_simple(
        "CALENDAR",
        values,
        writable=CALENDAR_WRITABLE,
        read_only=_READ_ONLY,
        required=("startDateTime", "endDateTime") if creating else (),
        strings=_STRINGS,
        instants=_INSTANTS,
    )
    if "allDayEvent" in out and not isinstance(out["allDayEvent"], bool):
        raise validation_errors("CALENDAR", [("allDayEvent", "expected true or false")])
    parts = out.get("participants")
    if parts is not None:
        ok = isinstance(parts, list) and all(
            isinstance(p, dict)
            and isinstance(p.get("participantId"), str)
            and p.get("participantRole", "psm") in ("psm", "patient")
            for p in parts
        )
        if not ok:
            raise validation_errors(
                "CALENDAR",
                [("participants", "expected a list of {participantId, participantRole}")],
            )
    return out


def _person(
    conn: sqlite3.Connection, ctx: Ctx, pid: str, is_patient: bool
) -> dict[str, Any] | None:
    if is_patient:
        row = conn.execute(
            "SELECT body FROM patients WHERE tenant=? AND instance=? AND id=?",
            (ctx.tenant, ctx.instance, pid),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT body FROM users WHERE tenant=? AND id=?", (ctx.tenant, pid)
        ).fetchone()
    return orjson.loads(row[0]) if row else None


def enrich(conn: sqlite3.Connection, ctx: Ctx, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Participants with name/email/phone/timezone filled in from users and patients."""
    out = []
    for p in parts:
        role = p.get("participantRole") or "psm"
        is_patient = role == "patient"
        person = _person(conn, ctx, p["participantId"], is_patient)
        out.append(participant(str(uuid.uuid4()), p["participantId"], role, person, is_patient))
    return out


def _row_args(event: dict[str, Any]) -> tuple[Any, ...]:
    ids = ",".join(p["participantId"] for p in event["participants"])
    return (event["externalId"], event["startDateTime"], event["endDateTime"],
            event["eventStatus"], event["eventType"], ids, event["updatedAt"])  # fmt: skip


def audit_event(
    conn: sqlite3.Connection, ctx: Ctx, subtype: str, sent_at: str, event: dict[str, Any]
) -> None:
    """Add a calendar event change to the audit feed, under its patient participant if any."""
    patient = None
    for part in event["participants"]:
        if part.get("participantRole") == "patient":
            try:
                patient = get_patient_row(conn, ctx, part["participantId"])
            except ApiError:
                patient = None
            break
    record_event(conn, ctx, subtype=subtype, sent_at=sent_at, patient=patient, record=event,
                 entity="CALENDAR")  # fmt: skip


def insert_event(
    conn: sqlite3.Connection, clock: Clock, ctx: Ctx, values: dict[str, Any]
) -> dict[str, Any]:
    """Create and store an event from validated ``values``; returns the event."""
    start = parse_instant(values["startDateTime"]) or 0
    end = parse_instant(values["endDateTime"]) or 0
    if end < start:
        raise validation_errors("CALENDAR", [("endDateTime", "must not be before startDateTime")])
    actor_id, _ = actor(ctx)
    parts = enrich(conn, ctx, values.get("participants") or [])
    event = calendar_event(str(uuid.uuid4()), clock.tick(), actor_id, start, end, values, parts)
    conn.execute(
        "INSERT INTO calendar_events(tenant, instance, id, external_id, start_at, end_at, status, "
        "event_type, participants, updated_at, body) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
        (ctx.tenant, ctx.instance, event["id"], *_row_args(event), orjson.dumps(event).decode()),
    )
    audit_event(conn, ctx, "CALENDAR_EVENT_CREATED", event["updatedAt"], event)
    return event


def list_events(ctx: Ctx) -> Reply:
    """``GET calendar/events?from&to``: events overlapping the window, sorted by start."""
    problems = []
    window = []
    for name in ("from", "to"):
        raw = ctx.q(name)
        ms = parse_instant(raw) if raw else None
        if ms is None:
            problems.append((name, "required ISO-8601 date-time parameter"))
        window.append(ms)
    if problems:
        raise validation_errors("CALENDAR", problems)
    page, size = ctx.page_params()
    where = "tenant=? AND instance=? AND end_at>=? AND start_at<=?"
    params: list[Any] = [
        ctx.tenant,
        ctx.instance,
        format_ms(window[0] or 0),
        format_ms(window[1] or 0),
    ]
    if not ctx.q_bool("includeCancelled", False):
        where += " AND UPPER(COALESCE(status, ''))<>'CANCELLED'"
    etype = ctx.q("eventType")
    if etype:
        where += " AND event_type=?"
        params.append(etype)
    ids = ctx.q_list("participantIds")
    if ids:
        where += " AND (" + " OR ".join(["(',' || participants || ',') LIKE ?"] * len(ids)) + ")"
        params.extend(f"%,{i},%" for i in ids)
    order, _ = sort_clause(ctx, _SORT_COLUMNS)
    order = f"{order}, id" if order else "start_at, id"
    items, total = fetch_page(
        ctx.state.db.conn, "calendar_events", where, params, order, page, size
    )
    return raw_reply(spring_page(items, page, size, total, sorted_=True))


def load_event(
    conn: sqlite3.Connection, ctx: Ctx, key: str, by_external: bool = False
) -> dict[str, Any]:
    """The decoded event ``key`` (id, or external id), or 404 ``CALENDAR_EVENT_NOT_FOUND``."""
    column = "external_id" if by_external else "id"
    row = conn.execute(
        f"SELECT body FROM calendar_events WHERE tenant=? AND instance=? AND {column}=? "  # noqa: S608 - fixed column names
        "ORDER BY rowid LIMIT 1",
        (ctx.tenant, ctx.instance, key),
    ).fetchone()
    if row is None:
        raise calendar_event_not_found()
    result: dict[str, Any] = orjson.loads(row[0])
    return result


def get_event(ctx: Ctx) -> Reply:
    """``GET calendar/events/{id}`` or ``{externalId}?type=EXTERNAL_ID``."""
    by_external = (ctx.q("type") or "").upper() == "EXTERNAL_ID"
    event = load_event(ctx.state.db.conn, ctx, ctx.params["eventId"], by_external)
    return raw_reply(orjson.dumps(event))


def create_event(ctx: Ctx) -> Reply:
    """``POST calendar/events`` → 201 with participants enriched."""
    values = validate_event(ctx.json_object(), creating=True)
    with ctx.state.db.write() as (conn, clock):
        event = insert_event(conn, clock, ctx, values)
    return raw_reply(orjson.dumps(event), 201)


def save_event(conn: sqlite3.Connection, ctx: Ctx, event: dict[str, Any]) -> None:
    """Write back an updated event and refresh the encounters that embed it."""
    conn.execute(
        "UPDATE calendar_events SET external_id=?, start_at=?, end_at=?, status=?, event_type=?, "
        "participants=?, updated_at=?, body=? WHERE tenant=? AND instance=? AND id=?",
        (*_row_args(event), orjson.dumps(event).decode(), ctx.tenant, ctx.instance, event["id"]),
    )
    refresh_encounters(conn, ctx, event["id"], event)


def link_encounter(
    conn: sqlite3.Connection, ctx: Ctx, encounter_id: str, event_id: str | None
) -> None:
    """Record that ``encounter_id`` embeds ``event_id`` (replacing any earlier link)."""
    conn.execute(
        "DELETE FROM encounter_events WHERE tenant=? AND instance=? AND encounter_id=?",
        (ctx.tenant, ctx.instance, encounter_id),
    )
    if event_id:
        conn.execute(
            "INSERT INTO encounter_events(tenant, instance, event_id, encounter_id) "
            "VALUES(?,?,?,?)",
            (ctx.tenant, ctx.instance, event_id, encounter_id),
        )


def refresh_encounters(
    conn: sqlite3.Connection, ctx: Ctx, event_id: str, event: dict[str, Any] | None
) -> None:
    """Re-embed ``event`` (None: removed) in every encounter linked to it.

    Welkin joins the event at read time, so the encounter shows the current event; its own
    ``updated_at`` does not change (the encounter record itself was not written).
    """
    rows = conn.execute(
        "SELECT encounter_id FROM encounter_events WHERE tenant=? AND instance=? AND event_id=?",
        (ctx.tenant, ctx.instance, event_id),
    ).fetchall()
    for (encounter_id,) in rows:
        row = conn.execute(
            "SELECT body FROM records WHERE tenant=? AND instance=? AND id=?",
            (ctx.tenant, ctx.instance, encounter_id),
        ).fetchone()
        if row is None:
            continue
        env = orjson.loads(row[0])
        embed_event(env["jsonBody"], event)
        save_record(conn, ctx, env)
    if event is None:
        conn.execute(
            "DELETE FROM encounter_events WHERE tenant=? AND instance=? AND event_id=?",
            (ctx.tenant, ctx.instance, event_id),
        )


def update_event(ctx: Ctx) -> Reply:
    """``PATCH calendar/events/{id}``: partial update, bumps ``updatedAt``."""
    values = validate_event(ctx.json_object(), creating=False)
    with ctx.state.db.write() as (conn, clock):
        event = load_event(conn, ctx, ctx.params["eventId"])
        ts = clock.tick()
        if "participants" in values:
            values["participants"] = enrich(conn, ctx, values["participants"] or [])
        if "externalId" in values and values["externalId"] != event["externalId"]:
            event["externalIdUpdatedAt"] = ts
        event.update(values)
        start = parse_instant(event["startDateTime"]) or 0
        end = parse_instant(event["endDateTime"]) or 0
        if end < start:
            raise validation_errors(
                "CALENDAR", [("endDateTime", "must not be before startDateTime")]
            )
        event.update(
            localStartDateTime=format_local(start, event.get("timezone")),
            localEndDateTime=format_local(end, event.get("timezone")),
            duration=(end - start) // 1000,
            updatedAt=ts,
            updatedBy=actor(ctx)[0],
        )
        save_event(conn, ctx, event)
        audit_event(conn, ctx, "CALENDAR_EVENT_UPDATED", ts, event)
    return raw_reply(orjson.dumps(event))


def delete_event(ctx: Ctx) -> Reply:
    """``DELETE calendar/events/{id}`` → 204; a past event becomes CANCELLED, a future one goes."""
    with ctx.state.db.write() as (conn, clock):
        event = load_event(conn, ctx, ctx.params["eventId"])
        start = parse_instant(event["startDateTime"]) or 0
        if start < now_ms():
            event.update(eventStatus="CANCELLED", updatedAt=clock.tick(), updatedBy=actor(ctx)[0])
            save_event(conn, ctx, event)
        else:
            conn.execute(
                "DELETE FROM calendar_events WHERE tenant=? AND instance=? AND id=?",
                (ctx.tenant, ctx.instance, event["id"]),
            )
            refresh_encounters(conn, ctx, event["id"], None)
        audit_event(conn, ctx, "CALENDAR_EVENT_DELETED", clock.tick(), event)
    return empty_reply(204)


def register(r: Router) -> None:
    """Add the calendar event routes."""
    base = "/{tenant}/{instance}/calendar/events"
    r.add("GET", base, list_events)
    r.add("POST", base, create_event)
    r.add("GET", f"{base}/{{eventId}}", get_event)
    r.add("PATCH", f"{base}/{{eventId}}", update_event)
    r.add("DELETE", f"{base}/{{eventId}}", delete_event)
