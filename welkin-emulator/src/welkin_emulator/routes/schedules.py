"""Users' work hours and schedules (bare arrays, no paging; recorded 2022 and 2026).

``GET calendar/work-hours?from&to&psmIds`` (older name ``psm-ids``; without ids: every user) →
``[{"psmId", "details": [rule…]}]`` for the users with a rule overlapping the window, ``[]`` when
none. ``GET calendar/psm-schedules?psmIds&from&to&includeCancelled`` → one
``{"psmId", "workHours", "events"}`` per requested user: their rules and calendar events in the
window (cancelled ones only with ``includeCancelled``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from ..errors import validation_errors
from ..http import Ctx, Reply, Router, json_reply
from ..timeutil import normalize_instant

WORK_HOURS = "WORK_HOURS"


def _window(ctx: Ctx) -> tuple[str, str]:
    problems, out = [], []
    for name in ("from", "to"):
        raw = ctx.q(name)
        norm = normalize_instant(raw) if raw else None
        if norm is None:
            problems.append((name, "expected an ISO-8601 date-time"))
        out.append(norm or "")
    if problems:
        raise validation_errors("CALENDAR", problems)
    return out[0], out[1]


def _psm_ids(ctx: Ctx) -> list[str]:
    return ctx.q_list("psmIds") or ctx.q_list("psm-ids")


def _rules(
    conn: sqlite3.Connection, ctx: Ctx, window: tuple[str, str], ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """``user id → rules`` overlapping the window (of ``ids``, or every user)."""
    where = "tenant=? AND instance=? AND kind=?"
    params: list[Any] = [ctx.tenant, ctx.instance, WORK_HOURS]
    if ids:
        where += f" AND parent_id IN ({','.join('?' * len(ids))})"
        params += ids
    out: dict[str, list[dict[str, Any]]] = {}
    for parent, body in conn.execute(
        f"SELECT parent_id, body FROM items WHERE {where} ORDER BY created_at, rowid",  # noqa: S608 - constant SQL
        params,
    ):
        rule = orjson.loads(body)
        if rule["startDateTime"] <= window[1] and rule["endDateTime"] >= window[0]:
            out.setdefault(parent, []).append(rule)
    return out


def work_hours(ctx: Ctx) -> Reply:
    """``GET calendar/work-hours``."""
    window = _window(ctx)
    ctx.q("viewerTimezone")  # accepted; rules carry their own local times
    rules = _rules(ctx.state.db.conn, ctx, window, _psm_ids(ctx))
    return json_reply([{"psmId": uid, "details": details} for uid, details in rules.items()])


def psm_schedules(ctx: Ctx) -> Reply:
    """``GET calendar/psm-schedules``."""
    window = _window(ctx)
    ids = _psm_ids(ctx)
    if not ids:
        raise validation_errors("CALENDAR", [("psmIds", "required field is missing")])
    cancelled = ctx.q_bool("includeCancelled", False)
    conn = ctx.state.db.conn
    rules = _rules(conn, ctx, window, ids)
    out = []
    for uid in ids:
        rows = conn.execute(
            "SELECT body FROM calendar_events WHERE tenant=? AND instance=? AND start_at<? "
            "AND end_at>? AND instr(participants, ?) > 0 ORDER BY start_at, rowid",
            (ctx.tenant, ctx.instance, window[1], window[0], uid),
        ).fetchall()
        events = [orjson.loads(r[0]) for r in rows]
        if not cancelled:
            events = [e for e in events if (e.get("eventStatus") or "").upper() != "CANCELLED"]
        out.append({"psmId": uid, "workHours": rules.get(uid, []), "events": events})
    return json_reply(out)


def register(r: Router) -> None:
    """Add the work hours and schedule routes (before ``calendar/events/{eventId}``'s kin)."""
    base = "/{tenant}/{instance}/calendar"
    r.add("GET", f"{base}/work-hours", work_hours)
    r.add("GET", f"{base}/psm-schedules", psm_schedules)
