"""Messages with a patient: SMS, email and voice calls (Spring pages), chat (token pages).

Chat (recorded): ``GET chat`` → ``{"meta": {nextPageToken, prevPageToken, pageSize, found},
"content": [message…]}`` newest first; ``pageToken`` is base64 JSON ``{"type": "LOCAL_FIND",
"pageSize", "borderDate", "before"}``; ``POST chat/inbound {"message"}`` → 200 with the message
(a patient's inbound message, ``patientFullName`` filled in this answer only); ``GET chat/search
?query=`` → items ``{"meta": {nextPageToken, prevPageToken}, "message": {…}}``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import orjson

from ..comms import CHAT, CHAT_KEYS, EMAIL, SMS, VOICE_CALL, chat_message, chat_party, chat_view
from ..errors import email_not_found, not_found, sms_not_found, validation_errors
from ..http import Ctx, Reply, Router, json_reply
from ..items import insert_item
from .audit import record_event
from .common import get_patient_row, require_patient
from .patient_items import get_one, spring_list

_CHAT_MAX = 1000


def _token(border: str, before: bool, size: int) -> str:
    raw = {"type": "LOCAL_FIND", "pageSize": size, "borderDate": border, "before": before}
    return base64.b64encode(orjson.dumps(raw)).decode()


def _border(ctx: Ctx) -> tuple[str | None, bool]:
    """(borderDate, before) of the ``pageToken`` parameter (none: the newest page)."""
    raw = ctx.q("pageToken")
    if not raw:
        return None, True
    try:
        data = orjson.loads(base64.b64decode(raw, validate=True))
        return str(data["borderDate"]), bool(data.get("before", True))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise validation_errors("CHAT", [("pageToken", "not a page token")]) from None


def _messages(ctx: Ctx, size: int, query: str | None) -> tuple[list[dict[str, Any]], bool]:
    """One page of the patient's chat, newest first, and whether older messages follow."""
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    require_patient(conn, ctx, pid)
    border, before = _border(ctx)
    where = "tenant=? AND instance=? AND kind=? AND patient_id=?"
    params: list[Any] = [ctx.tenant, ctx.instance, CHAT, pid]
    if border:
        where += " AND created_at<?" if before else " AND created_at>?"
        params.append(border)
    if query:
        where += " AND instr(lower(json_extract(body, '$.message')), ?) > 0"
        params.append(query.lower())
    order = "DESC" if before else "ASC"
    rows = conn.execute(
        f"SELECT body FROM items WHERE {where} ORDER BY created_at {order}, rowid {order} LIMIT ?",  # noqa: S608 - constant SQL
        [*params, size + 1],
    ).fetchall()
    out = [orjson.loads(r[0]) for r in rows[:size]]
    if not before:
        out.reverse()
    return out, len(rows) > size


def _size(ctx: Ctx, name: str) -> int:
    raw = ctx.q(name)
    size = int(raw) if raw and raw.isdigit() else 20
    return max(1, min(size, _CHAT_MAX))


def _meta(msgs: list[dict[str, Any]], more: bool, size: int, ctx: Ctx) -> dict[str, Any]:
    paged = bool(ctx.q("pageToken"))
    return {
        "nextPageToken": _token(msgs[-1]["createdAt"], True, size) if msgs and more else None,
        "prevPageToken": _token(msgs[0]["createdAt"], False, size) if msgs and paged else None,
        "pageSize": size,
        "found": bool(msgs),
    }


def list_chat(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/chat?pageSize&pageToken&includeArchived``."""
    ctx.q_bool("includeArchived", False)  # accepted; nothing is archived in the emulator
    size = _size(ctx, "pageSize")
    msgs, more = _messages(ctx, size, None)
    content = [chat_view(m, with_receiver=False) for m in msgs]
    return json_reply({"meta": _meta(msgs, more, size, ctx), "content": content})


def search_chat(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/chat/search?query&pageSize&contentPageSize``: matching messages,
    each with the tokens that open the conversation around it.
    """
    ctx.q_bool("includeArchived", False)
    size = _size(ctx, "pageSize")
    content_size = _size(ctx, "contentPageSize")
    msgs, more = _messages(ctx, size, ctx.q("query") or "")
    content = [
        {
            "meta": {
                "nextPageToken": _token(m["createdAt"], True, content_size),
                "prevPageToken": _token(m["createdAt"], False, content_size),
            },
            "message": chat_view(m, with_receiver=True),
        }
        for m in msgs
    ]
    return json_reply({"meta": _meta(msgs, more, size, ctx), "content": content})


def inbound_chat(ctx: Ctx) -> Reply:
    """``POST patients/{pid}/chat/inbound {"message"}`` → 200: a message from the patient."""
    data = ctx.json_object()
    text = data.get("message")
    if not isinstance(text, str) or not text:
        raise validation_errors("CHAT", [("message", "required field is missing")])
    unknown = sorted(set(data) - {"message"})
    if unknown:
        raise validation_errors("CHAT", [(unknown[0], "unknown field")])
    pid = ctx.params["patientId"]
    with ctx.state.db.write() as (conn, clock):
        patient = get_patient_row(conn, ctx, pid)
        ts = clock.tick()
        sender = chat_party("PATIENT", pid, None, None)
        stored = chat_message("IM" + uuid.uuid4().hex, pid, ts, text, sender, None)
        insert_item(conn, ctx, CHAT, stored, CHAT_KEYS)
        record_event(
            conn,
            ctx,
            subtype="CHAT_MESSAGE_CREATED",
            sent_at=ts,
            patient=patient,
            record=stored,
            entity="CHAT",
        )
    view = chat_view(stored, with_receiver=False)
    full = " ".join(p for p in (patient.get("firstName"), patient.get("lastName")) if p)
    view["sender"] = {**view["sender"], "patientFullName": full or None}
    return json_reply(view)


def register(r: Router) -> None:
    """Add the SMS, email, voice call and chat routes."""
    base = "/{tenant}/{instance}/patients/{patientId}"
    r.add("GET", f"{base}/sms", spring_list(SMS, "SMS messages"))
    r.add(
        "GET", f"{base}/sms/{{id}}", get_one(SMS, "SMS messages", lambda ctx, i: sms_not_found(i))
    )
    r.add("GET", f"{base}/emails", spring_list(EMAIL, "emails"))
    r.add(
        "GET",
        f"{base}/emails/{{id}}",
        get_one(EMAIL, "emails", lambda ctx, i: email_not_found(ctx.params["patientId"], i)),
    )
    r.add("GET", f"{base}/voice-calls", spring_list(VOICE_CALL, "voice calls"))
    r.add(
        "GET",
        f"{base}/voice-calls/{{id}}",
        get_one(
            VOICE_CALL,
            "voice calls",
            lambda ctx, i: not_found(
                "VOICE_CALL_NOT_FOUND",
                "VOICE_CALL",
                "Voice call was not found",
                {"patientId": ctx.params["patientId"], "id": i},
            ),
        ),
    )
    r.add("GET", f"{base}/chat", list_chat)
    r.add("GET", f"{base}/chat/search", search_chat)
    r.add("POST", f"{base}/chat/inbound", inbound_chat)
