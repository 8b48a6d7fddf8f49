"""Helpers shared by the route modules: paging queries, sorting, lookups, 403 bodies."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import orjson

from ..errors import ApiError, patient_not_found, restricted
from ..http import Ctx
from ..storage import generation

_FIELD_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
_COUNTS: dict[tuple[str, str, tuple[Any, ...]], tuple[str, int]] = {}


def fetch_page(  # noqa: PLR0917
    conn: sqlite3.Connection,
    table: str,
    where: str,
    params: list[Any],
    order: str,
    page: int,
    size: int,
) -> tuple[list[bytes], int]:
    """Stored JSON bodies of one page plus the total count (``where`` is built by the caller).

    Totals are cached per query and data generation: COUNT(*) over 100,000 patients costs more
    than building the page itself, and a client walking pages asks the same count every time.
    """
    gen = generation(conn)
    key = (table, where, tuple(params))
    cached = _COUNTS.get(key)
    if cached is not None and cached[0] == gen:
        total = cached[1]
    else:
        sql = f"SELECT COUNT(*) FROM {table} WHERE {where}"  # noqa: S608 - constant names
        total = conn.execute(sql, params).fetchone()[0]
        if len(_COUNTS) > 4096:
            _COUNTS.clear()
        _COUNTS[key] = (gen, int(total))
    rows = conn.execute(
        f"SELECT CAST(body AS BLOB) FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608 - table/column names are constants
        [*params, size, page * size],
    ).fetchall()
    return [r[0] for r in rows], int(total)


def sort_clause(
    ctx: Ctx, columns: dict[str, str], json_root: str = "$", allowed: frozenset[str] | None = None
) -> tuple[str | None, bool]:
    """Translate ``sort=field,asc|desc`` into an ORDER BY expression.

    Indexed columns are used when known; other fields go through ``json_extract`` on the stored
    body (slower, but any recorded field can be sorted on). Returns (clause or None, sorted?).
    Unknown fields are ignored, like Spring ignores unmapped sort properties on JSON columns.
    """
    raw = ctx.q("sort")
    if not raw:
        return None, False
    parts = [p.strip() for p in raw.split(",")]
    fname = parts[0]
    direction = "DESC" if len(parts) > 1 and parts[1].lower() == "desc" else "ASC"
    if fname in columns:
        return f"{columns[fname]} {direction}", True
    if not _FIELD_RE.match(fname) or (allowed is not None and fname not in allowed):
        return None, False
    return f"json_extract(body, '{json_root}.\"{fname}\"') {direction}", True


def get_patient_row(conn: sqlite3.Connection, ctx: Ctx, pid: str) -> dict[str, Any]:
    """The decoded patient ``pid`` of this tenant/instance, or 404."""
    row = conn.execute(
        "SELECT body FROM patients WHERE tenant=? AND instance=? AND id=?",
        (ctx.tenant, ctx.instance, pid),
    ).fetchone()
    if row is None:
        raise patient_not_found()
    result: dict[str, Any] = orjson.loads(row[0])
    return result


def require_patient(conn: sqlite3.Connection, ctx: Ctx, pid: str) -> None:
    """404 unless patient ``pid`` exists."""
    row = conn.execute(
        "SELECT 1 FROM patients WHERE tenant=? AND instance=? AND id=?",
        (ctx.tenant, ctx.instance, pid),
    ).fetchone()
    if row is None:
        raise patient_not_found()


def forbidden(ctx: Ctx) -> ApiError:
    """The recorded 403 for an operation the API client may not perform."""
    client = ctx.client
    return restricted(
        client.client_id if client else "",
        client.name if client else "",
        ctx.tenant,
        ctx.path,
    )


def actor(ctx: Ctx) -> tuple[str, str]:
    """(id, audit name) of the calling API client."""
    client = ctx.client
    cid = client.client_id if client else ""
    return cid, f"API_CLIENT:{ctx.client_name}"
