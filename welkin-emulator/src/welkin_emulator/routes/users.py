"""Users (tenant-level): list (metaInfo, ``search``), get by id or username, create, update."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from ..errors import user_not_found, validation_errors
from ..http import Ctx, Reply, Router, raw_reply
from ..pages import meta_info_page
from ..records import USER_WRITABLE, prune_user, user_record
from ..validation import validate_simple
from .audit import record_event
from .common import fetch_page, forbidden, sort_clause

_USER_STRINGS = frozenset(
    {"username", "email", "timezone", "locale", "firstName", "lastName", "credentials", "phone",
     "userState", "terminologyName"}
)  # fmt: skip
_USER_READ_ONLY = frozenset(
    {"id", "createdAt", "updatedAt", "createdByName", "updatedByName", "applicationAccess",
     "territories", "roles", "policies", "seats", "statusType", "_root_user"}
)  # fmt: skip
_USER_STATES = ("ACTIVE", "INACTIVE", "PROVISIONED")


def user_search_text(rec: dict[str, Any]) -> str:
    """Lower-cased text the ``search`` parameter matches."""
    parts = (rec.get("username"), rec.get("email"), rec.get("firstName"), rec.get("lastName"))
    return " ".join(p for p in parts if isinstance(p, str)).lower()


def list_users(ctx: Ctx) -> Reply:
    """``GET admin/users``: metaInfo envelope; ``search``, ``userState``, ``ids``, ``email``."""
    page, size = ctx.page_params()
    where, params = "tenant=?", [ctx.tenant]
    search = ctx.q("search")
    if search:
        where += " AND search LIKE ?"
        params.append(f"%{search.lower()}%")
    state = ctx.q("userState")
    if state:
        where += " AND user_state=?"
        params.append(state)
    ids = ctx.q_list("ids")
    if ids:
        where += f" AND id IN ({','.join('?' * len(ids))})"
        params.extend(ids)
    email = ctx.q("email")
    if email:
        where += " AND json_extract(body, '$.email')=?"
        params.append(email)
    order, _ = sort_clause(ctx, {"updatedAt": "updated_at", "username": "username", "id": "id"})
    items, total = fetch_page(
        ctx.state.db.conn, "users", where, params, (order + ", rowid") if order else "rowid",
        page, size,
    )  # fmt: skip
    return raw_reply(meta_info_page(items, page, size, total))


def _find(ctx: Ctx, key: str) -> tuple[str, str] | None:
    """(id, body) of the user addressed by the path (``?type=ID`` → id, else username)."""
    by_id = (ctx.q("type") or "").upper() == "ID"
    column = "id" if by_id else "username"
    row = ctx.state.db.conn.execute(
        f"SELECT id, body FROM users WHERE tenant=? AND {column}=? ORDER BY rowid LIMIT 1",  # noqa: S608 - table/column names are constants
        (ctx.tenant, key),
    ).fetchone()
    return (row[0], row[1]) if row else None


def get_user(ctx: Ctx) -> Reply:
    """``GET admin/users/{id}?type=ID`` or ``GET admin/users/{username}``; 404 USER_NOT_FOUND."""
    found = _find(ctx, ctx.params["userId"])
    if found is None:
        raise user_not_found()
    return raw_reply(found[1])


def _validate(values: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = validate_simple(
        "USER",
        values,
        writable=USER_WRITABLE,
        read_only=_USER_READ_ONLY,
        required=("username", "email") if creating else (),
        strings=_USER_STRINGS,
    )
    if "userState" in out and out["userState"] not in _USER_STATES:
        raise validation_errors("USER", [("userState", "not a known user state")])
    return out


def create_user(ctx: Ctx) -> Reply:
    """``POST admin/users`` → 201, ``PROVISIONED`` and ``enabled: false`` (recorded)."""
    values = _validate(ctx.json_object(), creating=True)
    values.setdefault("userState", "PROVISIONED")
    with ctx.state.db.write() as (conn, clock):
        taken = conn.execute(
            "SELECT 1 FROM users WHERE tenant=? AND username=?", (ctx.tenant, values["username"])
        ).fetchone()
        if taken:
            raise validation_errors("USER", [("username", "a user with this username exists")])
        ts = clock.tick()
        uid = str(uuid.uuid4())
        rec = user_record(uid, str(uuid.uuid4()), ts, ts, values)
        text = orjson.dumps(rec).decode()
        conn.execute(
            "INSERT INTO users(tenant, id, username, search, user_state, updated_at, body) "
            "VALUES(?,?,?,?,?,?,?)",
            (ctx.tenant, uid, rec["username"], user_search_text(rec), rec["userState"], ts, text),
        )
        record_event(conn, ctx, subtype="USER_CREATED", sent_at=ts, patient=None, record=rec,
                     entity="USER")  # fmt: skip
    return raw_reply(text, 201)


def update_user(ctx: Ctx) -> Reply:
    """``PATCH admin/users/{username}`` (or ``{id}?type=ID``): partial update.

    Recorded quirk: the response carries the *old* ``updatedAt``, so the emulator leaves it
    unchanged (users are a full-refresh stream anyway).
    """
    values = _validate(ctx.json_object(), creating=False)
    with ctx.state.db.write() as (conn, clock):
        found = _find(ctx, ctx.params["userId"])
        if found is None:
            raise user_not_found()
        uid, body = found
        rec = orjson.loads(body)
        rec.update(values)
        rec = prune_user(rec)
        text = orjson.dumps(rec).decode()
        conn.execute(
            "UPDATE users SET username=?, search=?, user_state=?, body=? WHERE tenant=? AND id=?",
            (rec["username"], user_search_text(rec), rec.get("userState"), text, ctx.tenant, uid),
        )
        # The record keeps its updatedAt (recorded); the event still has its own time.
        record_event(conn, ctx, subtype="USER_UPDATED", sent_at=clock.tick(), patient=None,
                     record=rec, entity="USER")  # fmt: skip
    return raw_reply(text)


def delete_user(ctx: Ctx) -> Reply:
    """``DELETE admin/users/{id}`` → 403 for API clients (recorded)."""
    raise forbidden(ctx)


def register(r: Router) -> None:
    """Add the user routes (tenant-level: they must precede ``/{tenant}/{instance}/…``)."""
    r.add("GET", "/{tenant}/admin/users", list_users)
    r.add("POST", "/{tenant}/admin/users", create_user)
    r.add("GET", "/{tenant}/admin/users/{userId}", get_user)
    r.add("PATCH", "/{tenant}/admin/users/{userId}", update_user)
    r.add("DELETE", "/{tenant}/admin/users/{userId}", delete_user)
