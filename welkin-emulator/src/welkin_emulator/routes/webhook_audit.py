"""Webhook audit (tenant-level): ``GET /{tenant}/admin/audit-webhook`` (metaInfo envelope).

One item per delivery attempt of the emulator's webhooks (see ``welkin_emulator.webhooks``), in
the recorded shape: ``id, sentAt, eventEntity, patientId?, instance, status (DELIVERED|FAILED),
statusCode? (the receiver's status name, absent when nothing answered), response, eventSubtype,
record`` (the webhook's definition). Newest first with ``sort=sentAt,desc``; filters ``status``,
``instance``, ``dateStart``/``dateEnd`` on ``sentAt``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from ..http import Ctx, Reply, Router, raw_reply
from ..pages import meta_info_page
from ..storage import Database
from ..timeutil import normalize_instant
from .common import fetch_page


def store_delivery(db: Database, tenant: str, sent_at: str, item: dict[str, Any]) -> None:
    """Append one delivery attempt (a write transaction: page totals see it at once)."""
    conn: sqlite3.Connection
    with db.write() as (conn, _):
        conn.execute(
            "INSERT INTO webhook_deliveries(tenant, instance, status, sent_at, body) "
            "VALUES(?,?,?,?,?)",
            (tenant, item["instance"] or "", item["status"], sent_at, orjson.dumps(item).decode()),
        )


def list_deliveries(ctx: Ctx) -> Reply:
    """One metaInfo page of delivery attempts, oldest first (``sort=…,desc``: newest first)."""
    page, size = ctx.page_params()
    where, params = "tenant=?", [ctx.tenant]
    for name in ("status", "instance"):
        value = ctx.q(name)
        if value:
            where += f" AND {name}=?"
            params.append(value)
    for name, op in (("dateStart", ">="), ("dateEnd", "<")):
        value = normalize_instant(ctx.q(name) or "")
        if value:
            where += f" AND sent_at{op}?"
            params.append(value)
    desc = (ctx.q("sort") or "").replace(" ", "").lower().endswith(",desc")
    order = "rowid DESC" if desc else "rowid"
    items, total = fetch_page(
        ctx.state.db.conn, "webhook_deliveries", where, params, order, page, size
    )
    return raw_reply(meta_info_page(items, page, size, total))


def register(r: Router) -> None:
    """Add the webhook audit route (tenant-level)."""
    r.add("GET", "/{tenant}/admin/audit-webhook", list_deliveries)
