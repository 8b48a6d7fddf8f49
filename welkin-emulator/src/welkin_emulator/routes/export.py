"""Bulk export: ``GET /{tenant}/{instance}/export/{type}`` with the cursor envelope (spec §6, §11).

Semantics (spec §11.1): items in ascending ``(updatedAt, id)`` order with ``updatedAt >= start``;
``cursor.end`` is the last item's ``updatedAt``; ``hasNext`` is true while more items follow.
PATIENT and CALENDAR_EVENT items are the single-GET shape; CDT_RECORD and ENCOUNTER items are the
CDT envelope plus top-level ``createdAt``/``updatedAt`` copied from ``jsonBody``, appended to the
stored JSON text rather than decoded and re-encoded.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, validation_errors
from ..http import Ctx, Reply, Router, raw_reply
from ..pages import cursor_page
from ..timeutil import normalize_instant
from .common import forbidden

# type → (table, extra WHERE, whether createdAt/updatedAt must be appended)
_TYPES: dict[str, tuple[str, str, bool]] = {
    "PATIENT": ("patients", "", False),
    "CALENDAR_EVENT": ("calendar_events", "", False),
    "CDT_RECORD": ("records", " AND kind='CDT'", True),
    "ENCOUNTER": ("records", " AND kind='ENCOUNTER'", True),
    "ENCOUNTER_DISPOSITION": ("records", " AND kind='DISPOSITION'", True),
    # Types named by Airbyte's Welkin source (items of the resource's own shape)...
    **{
        name: ("items", f" AND kind='{name}'", False)
        for name in ("ASSESSMENT", "EMAIL", "SMS", "TASK", "VOICE_CALL", "ENCOUNTER_COMMENT")
    },
    # ...and names the emulator gives the categories Welkin's export page lists without a path
    # name (Care Plans, Programs, Chat Messages, Patient Contacts): invented, see the README.
    **{
        name: ("items", f" AND kind='{name}'", False)
        for name in ("CARE_PLAN", "GOAL", "PATIENT_PROGRAM", "CHAT_MESSAGE", "PATIENT_CONTACT")
    },
}
EXPORT_TYPES = tuple(_TYPES)


def export(ctx: Ctx) -> Reply:
    """One export page."""
    client = ctx.client
    if client is None or not client.export_allowed:
        raise forbidden(ctx)
    kind = ctx.params["type"]
    spec = _TYPES.get(kind)
    if spec is None:
        raise ApiError(404, "EXPORT_TYPE_NOT_SUPPORTED", "EXPORT", "Export type is not supported")
    table, extra, append = spec
    _, size = ctx.page_params(("pageSize", "size"))
    raw_start = ctx.q("start")
    start = None
    if raw_start:
        start = normalize_instant(raw_start)
        if start is None:
            raise validation_errors("EXPORT", [("start", "expected an ISO-8601 date-time")])
    where = f"tenant=? AND instance=?{extra}"
    params: list[Any] = [ctx.tenant, ctx.instance]
    if start:
        exclusive = ctx.state.faults.settings.export_exclusive_start
        where += " AND updated_at>?" if exclusive else " AND updated_at>=?"
        params.append(start)
    body = "CAST(body AS BLOB)"
    cols = f"{body}, updated_at, created_at" if append else f"{body}, updated_at, NULL"
    rows = ctx.state.db.conn.execute(
        f"SELECT {cols} FROM {table} WHERE {where} ORDER BY updated_at, id LIMIT ?",  # noqa: S608 - table/column names are constants
        [*params, size + 1],
    ).fetchall()
    has_next = len(rows) > size
    rows = rows[:size]
    if append:
        # The stored envelope ends with "}": splice the two timestamps in before it.
        items = [b[:-1] + f',"createdAt":"{c}","updatedAt":"{u}"}}'.encode() for b, u, c in rows]
    else:
        items = [r[0] for r in rows]
    end = rows[-1][1] if rows else start
    return raw_reply(
        cursor_page(items, start if start else (rows[0][1] if rows else None), end, has_next)
    )


def register(r: Router) -> None:
    """Add the export route."""
    r.add("GET", "/{tenant}/{instance}/export/{type}", export)
