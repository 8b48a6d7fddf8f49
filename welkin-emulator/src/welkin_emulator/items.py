"""Storage helpers for the ``items`` table (patient resources that are not CDT records).

Each kind keeps the exact JSON text the API returns, with its ``createdAt``/``updatedAt`` copied
into indexed columns, so lists and export pages are joined from stored text like patients'.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson

from .http import Ctx

INSERT_ITEM = (
    "INSERT INTO items(tenant, instance, kind, id, patient_id, parent_id, name, created_at, "
    "updated_at, body) VALUES(?,?,?,?,?,?,?,?,?,?)"
)


@dataclass(frozen=True)
class ItemKeys:
    """Where an item's index columns come from (all optional but ``id``)."""

    patient: str | None = "patientId"
    parent: str | None = None
    name: str | None = None
    created: str = "createdAt"
    updated: str = "updatedAt"


def item_row(  # noqa: PLR0917 - one row's columns
    tenant: str, instance: str, kind: str, rec: dict[str, Any], keys: ItemKeys, item_id: str
) -> tuple[Any, ...]:
    """The ``items`` row of ``rec`` (used by the routes and the seeder)."""
    return (
        tenant,
        instance,
        kind,
        item_id,
        rec.get(keys.patient) if keys.patient else None,
        rec.get(keys.parent) if keys.parent else None,
        rec.get(keys.name) if keys.name else None,
        rec.get(keys.created) or rec.get(keys.updated) or "",
        rec.get(keys.updated) or rec.get(keys.created) or "",
        orjson.dumps(rec).decode(),
    )


def insert_item(  # noqa: PLR0917
    conn: sqlite3.Connection,
    ctx: Ctx,
    kind: str,
    rec: dict[str, Any],
    keys: ItemKeys,
    item_id: str | None = None,
) -> str:
    """Insert ``rec``; returns its JSON text."""
    row = item_row(ctx.tenant, ctx.instance, kind, rec, keys, item_id or rec["id"])
    conn.execute(INSERT_ITEM, row)
    return str(row[-1])


def save_item(  # noqa: PLR0917
    conn: sqlite3.Connection,
    ctx: Ctx,
    kind: str,
    rec: dict[str, Any],
    keys: ItemKeys,
    item_id: str | None = None,
) -> str:
    """Write back an updated ``rec``; returns its JSON text."""
    row = item_row(ctx.tenant, ctx.instance, kind, rec, keys, item_id or rec["id"])
    conn.execute(
        "UPDATE items SET patient_id=?, parent_id=?, name=?, created_at=?, updated_at=?, body=? "
        "WHERE tenant=? AND instance=? AND kind=? AND id=?",
        (*row[4:], ctx.tenant, ctx.instance, kind, row[3]),
    )
    return str(row[-1])


def find_item(
    conn: sqlite3.Connection, ctx: Ctx, kind: str, where: str, params: list[Any]
) -> dict[str, Any] | None:
    """The first item of ``kind`` matching ``where`` (oldest first), decoded, or None."""
    row = conn.execute(
        f"SELECT body FROM items WHERE tenant=? AND instance=? AND kind=? AND {where} "  # noqa: S608 - constant SQL from callers
        "ORDER BY rowid LIMIT 1",
        [ctx.tenant, ctx.instance, kind, *params],
    ).fetchone()
    if row is None:
        return None
    result: dict[str, Any] = orjson.loads(row[0])
    return result


def delete_item(conn: sqlite3.Connection, ctx: Ctx, kind: str, item_id: str) -> bool:
    """Delete one item; whether it existed."""
    cur = conn.execute(
        "DELETE FROM items WHERE tenant=? AND instance=? AND kind=? AND id=?",
        (ctx.tenant, ctx.instance, kind, item_id),
    )
    return cur.rowcount > 0
