"""Handler factories for per-patient resources kept in the ``items`` table (Spring pages, gets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ApiError
from ..http import Ctx, Handler, Reply, raw_reply
from ..pages import meta_info_page, spring_page
from .common import fetch_page, require_patient, sort_clause

_SORT_COLUMNS = {"createdAt": "created_at", "updatedAt": "updated_at", "id": "id"}
NotFound = Callable[[Ctx, str], ApiError]


def page_of(
    ctx: Ctx, kind: str, *, parent: str | None = None
) -> tuple[list[bytes], int, int, int, bool]:
    """One page of a patient's items of ``kind`` (optionally of one parent): items, total, page,
    size, sorted. Default order: oldest first (stable while new items arrive).
    """
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    require_patient(conn, ctx, pid)
    page, size = ctx.page_params()
    where = "tenant=? AND instance=? AND kind=? AND patient_id=?"
    params: list[Any] = [ctx.tenant, ctx.instance, kind, pid]
    if parent is not None:
        where += " AND parent_id=?"
        params.append(parent)
    order, sorted_ = sort_clause(ctx, _SORT_COLUMNS)
    items, total = fetch_page(
        conn, "items", where, params, f"{order or 'created_at'}, rowid", page, size
    )
    return items, total, page, size, sorted_


def spring_list(kind: str, what: str) -> Handler:
    """``GET patients/{patientId}/…``: a Spring page of the patient's items of ``kind``."""

    def handler(ctx: Ctx) -> Reply:
        items, total, page, size, sorted_ = page_of(ctx, kind)
        return raw_reply(spring_page(items, page, size, total, sorted_))

    handler.__doc__ = f"List a patient's {what} (Spring page, ``page``/``size``/``sort``)."
    return handler


def meta_list(kind: str, what: str, parent_param: str | None = None) -> Handler:
    """A metaInfo page of the patient's items of ``kind`` (of one parent when given)."""

    def handler(ctx: Ctx) -> Reply:
        parent = ctx.params[parent_param] if parent_param else None
        items, total, page, size, _ = page_of(ctx, kind, parent=parent)
        return raw_reply(meta_info_page(items, page, size, total))

    handler.__doc__ = f"List a patient's {what} (metaInfo page)."
    return handler


def load_item_text(ctx: Ctx, kind: str, item_id: str, not_found: NotFound) -> bytes:
    """The stored JSON text of the patient's item, or the kind's 404."""
    row = ctx.state.db.conn.execute(
        "SELECT CAST(body AS BLOB) FROM items WHERE tenant=? AND instance=? AND kind=? AND id=? "
        "AND patient_id=?",
        (ctx.tenant, ctx.instance, kind, item_id, ctx.params["patientId"]),
    ).fetchone()
    if row is None:
        raise not_found(ctx, item_id)
    text: bytes = row[0]
    return text


def get_one(kind: str, what: str, not_found: NotFound, id_param: str = "id") -> Handler:
    """``GET patients/{patientId}/…/{id}``: one item, or the kind's 404."""

    def handler(ctx: Ctx) -> Reply:
        return raw_reply(load_item_text(ctx, kind, ctx.params[id_param], not_found))

    handler.__doc__ = f"Get one of a patient's {what}."
    return handler
