"""Data audit feed (tenant-level): ``GET /{tenant}/admin/audit-data`` (metaInfo envelope).

The only place the real API exposes deletes (spec §4.11). The emulator records an event for every
patient create/update and every CDT record, encounter and disposition create/update/delete made
through the API, with the record after the change (before it, for deletes). Seeded data has no
audit history. As in a real tenant's feed (2026): ``cdtRelation`` is the CDT's relation
(``COMMON``, ``ENCOUNTER``, ``ENCOUNTER_DISPOSITION``), ``eventId`` is mostly null (the emulator
gives one to deletes only) and an API client's ``subjectFullName`` is ``API_CLIENT:<clientName>``.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from ..errors import validation_errors
from ..formations import (
    CDTS_BY_NAME,
    DISPOSITION_CDT_NAME,
    DISPOSITION_FORMATION,
    ENCOUNTER_CDT_NAME,
)
from ..http import Ctx, Reply, Router, raw_reply
from ..pages import meta_info_page
from ..records import audit_name
from ..timeutil import normalize_instant
from ..webhooks import notify_write
from .common import fetch_page

RELATIONS = {
    **{name: cdt["relation"] for name, cdt in CDTS_BY_NAME.items()},
    DISPOSITION_CDT_NAME: DISPOSITION_FORMATION["relation"],
    ENCOUNTER_CDT_NAME: "ENCOUNTER",
    # Not seen in a real feed (invented): assessment links and document summaries.
    "__encounter_assessment__": "ENCOUNTER_ASSESSMENT",
    "_document_summary": "DOCUMENT_TYPE",
}


def record_event(
    conn: sqlite3.Connection,
    ctx: Ctx,
    *,
    subtype: str,
    sent_at: str,
    patient: dict[str, Any] | None,
    record: dict[str, Any],
    cdt_name: str | None = None,
    entity: str | None = None,
) -> None:
    """Append one audit event (inside the caller's write transaction).

    ``entity`` defaults to the subtype's first word (``CDT_CREATED`` → ``CDT``).
    """
    entity = entity or subtype.split("_", 1)[0]
    client = ctx.client
    name = client.name if client else None
    full_name = None
    if patient:
        full_name = " ".join(p for p in (patient.get("firstName"), patient.get("lastName")) if p)
    event = {
        "eventId": str(uuid.uuid4()) if subtype.endswith("_DELETED") else None,
        "eventEntity": entity,
        "subjectUsername": name,
        "subjectUserId": client.client_id if client else None,
        "subjectActor": "API_CLIENT",
        "subjectFullName": audit_name(name) if name else None,
        "patientFullName": full_name,
        "patientId": patient.get("id") if patient else None,
        "instance": ctx.instance,
        "cdtName": cdt_name,
        "cdtRelation": RELATIONS.get(cdt_name, "COMMON") if cdt_name else None,
        "eventSubtype": subtype,
        "sentAt": sent_at,
        "record": record,
    }
    conn.execute(
        "INSERT INTO audit_events(tenant, instance, entity, subtype, patient_id, cdt_name, "
        "sent_at, body) VALUES(?,?,?,?,?,?,?,?)",
        (ctx.tenant, ctx.instance, entity, subtype, event["patientId"], cdt_name, sent_at,
         orjson.dumps(event).decode()),
    )  # fmt: skip
    notify_write(ctx, subtype, patient.get("id") if patient else None, record, cdt_name, entity)


def _instant(ctx: Ctx, name: str) -> str | None:
    raw = ctx.q(name)
    if not raw:
        return None
    norm = normalize_instant(raw)
    if norm is None:
        raise validation_errors("AUDIT", [(name, "expected an ISO-8601 date-time")])
    return norm


def list_audit(ctx: Ctx) -> Reply:
    """One metaInfo page of audit events, oldest first (``sort=createdAt,desc``: newest first).

    Filters: ``dateStart``/``dateEnd`` (on sentAt), ``entity``, ``patientId``, ``cdtName``,
    ``operation`` (CREATE|UPDATE|DELETE), ``instance``.
    """
    page, size = ctx.page_params()
    where, params = "tenant=?", [ctx.tenant]
    for param, column in (("entity", "entity"), ("patientId", "patient_id"),
                          ("cdtName", "cdt_name"), ("instance", "instance")):  # fmt: skip
        value = ctx.q(param)
        if value:
            where += f" AND {column}=?"
            params.append(value)
    operation = ctx.q("operation")
    if operation:
        where += " AND subtype LIKE ?"
        params.append(f"%{operation.upper()}D")  # CREATE → …_CREATED
    start, end = _instant(ctx, "dateStart"), _instant(ctx, "dateEnd")
    if start:
        where += " AND sent_at>=?"
        params.append(start)
    if end:
        where += " AND sent_at<?"
        params.append(end)
    sort = (ctx.q("sort") or "").replace(" ", "").lower()
    order = "rowid DESC" if sort.endswith(",desc") else "rowid"
    items, total = fetch_page(ctx.state.db.conn, "audit_events", where, params, order, page, size)
    return raw_reply(meta_info_page(items, page, size, total))


def register(r: Router) -> None:
    """Add the audit route (tenant-level)."""
    r.add("GET", "/{tenant}/admin/audit-data", list_audit)
