"""Document summaries of a patient (recorded, October 2022): CDT-envelope records of
``_document_summary`` whose ``jsonBody`` adds the document ``type`` (a document type of the
formation) and ``files`` (metadata: id, size, storageKey, contentType, originalName).

``GET …/document-summary`` is a named page (``"name": "_document_summary"``); POST ``{"type"}``
→ 201 with ``files: null``; DELETE → 200 empty, then 404 ``DT_RECORD_NOT_FOUND`` naming the
patient, record and CDT. ``GET …/{id}/files/{fileId}`` answers with the file's bytes and content
type: the emulator stores no file contents and serves a few synthetic bytes of that type.
"""

from __future__ import annotations

import uuid
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import orjson

from ..designer import DOCUMENT_SUMMARY_CDT, DOCUMENT_TYPES_BY_NAME
from ..errors import ApiError, not_found, validation_errors
from ..http import Ctx, Reply, Router, empty_reply, raw_reply
from ..pages import named_page
from ..records import cdt_envelope, cdt_json_body
from .cdts import audit_record, insert_record, save_record
from .common import actor, fetch_page, require_patient, sort_clause

CDT = DOCUMENT_SUMMARY_CDT
KIND = "DOCUMENT_SUMMARY"
# Enough of each format for a client to recognise it (magic numbers), nothing more.
_SAMPLE_BYTES = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    "application/pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n%%EOF\n",
}


def _missing(ctx: Ctx, rid: str) -> ApiError:
    return ApiError(404, "DT_RECORD_NOT_FOUND", "CDT", "DT record not found",
                    {"patientId": ctx.params["patientId"], "cdtRecordId": rid,
                     "cdtName": CDT["name"]})  # fmt: skip


def _load(ctx: Ctx) -> dict[str, Any]:
    rid = ctx.params["id"]
    row = ctx.state.db.conn.execute(
        "SELECT body FROM records WHERE tenant=? AND instance=? AND id=? AND patient_id=? "
        "AND cdt_name=?",
        (ctx.tenant, ctx.instance, rid, ctx.params["patientId"], CDT["name"]),
    ).fetchone()
    if row is None:
        raise _missing(ctx, rid)
    env: dict[str, Any] = orjson.loads(row[0])
    return env


def list_documents(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/document-summary``: named page of the patient's documents."""
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    require_patient(conn, ctx, pid)
    page, size = ctx.page_params()
    order, sorted_ = sort_clause(ctx, {"updated_at": "updated_at"}, json_root="$.jsonBody")
    items, total = fetch_page(
        conn, "records", "tenant=? AND instance=? AND patient_id=? AND cdt_name=?",
        [ctx.tenant, ctx.instance, pid, CDT["name"]], f"{order or 'rowid'}, rowid", page, size,
    )  # fmt: skip
    return raw_reply(named_page(CDT["name"], items, page, size, total, sorted_))


def get_document(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/document-summary/{id}``."""
    return raw_reply(orjson.dumps(_load(ctx)))


def create_document(ctx: Ctx) -> Reply:
    """``POST patients/{pid}/document-summary {"type"}`` → 201 (no files yet)."""
    data = ctx.json_object()
    if data.get("type") not in DOCUMENT_TYPES_BY_NAME:
        raise validation_errors("CDT", [("type", "unknown document type")])
    unknown = sorted(set(data) - {"type", "external_id", "external_guid"})
    if unknown:
        raise validation_errors("CDT", [(unknown[0], "unknown field")])
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        require_patient(conn, ctx, pid)
        rid = str(uuid.uuid4())
        body = cdt_json_body({"fields": []}, rid, clock.tick(), actor_id, actor_name, data)
        body.update(type=data["type"], files=None)
        env = cdt_envelope(rid, pid, CDT["id"], CDT["version"], CDT["name"], body)
        text = insert_record(conn, ctx, KIND, env)
        audit_record(conn, ctx, "CDT_CREATED", body["updated_at"], env)
    return raw_reply(text, 201)


def delete_document(ctx: Ctx) -> Reply:
    """``DELETE patients/{pid}/document-summary/{id}`` → 200, empty body."""
    with ctx.state.db.write() as (conn, clock):
        env = _load(ctx)
        conn.execute("DELETE FROM records WHERE tenant=? AND instance=? AND id=?",
                     (ctx.tenant, ctx.instance, env["id"]))  # fmt: skip
        audit_record(conn, ctx, "CDT_DELETED", clock.tick(), env)
    return empty_reply(200)


def _uploads(ctx: Ctx) -> list[tuple[str, str, int]]:
    """(file name, content type, size) of each ``files`` part of a multipart/form-data body."""
    ctype = ctx.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise validation_errors("DOCUMENT", [("files", "expected multipart/form-data")])
    head = f"Content-Type: {ctype}\r\n\r\n".encode("latin-1")
    msg = BytesParser(policy=default_policy).parsebytes(head + ctx.body)
    out = []
    for part in msg.iter_parts():
        if part.get_param("name", header="content-disposition") != "files":
            continue
        data = part.get_payload(decode=True)
        size = len(data) if isinstance(data, bytes) else 0
        out.append((part.get_filename() or "file", part.get_content_type(), size))
    if not out:
        raise validation_errors("DOCUMENT", [("files", "required field is missing")])
    return out


def upload_files(ctx: Ctx) -> Reply:
    """``POST …/document-summary/{id}/files`` (multipart field ``files``) → 200, the record.

    Only the files' metadata is kept (name, type, size, a storage key); not their bytes.
    """
    uploads = _uploads(ctx)
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        env = _load(ctx)
        body = env["jsonBody"]
        files = list(body.get("files") or [])
        for name, kind, size in uploads:
            folder = f"{ctx.tenant}/{ctx.instance}/patients/{env['patientId']}/documents"
            key = f"{folder}/{uuid.uuid4()}"
            files.append({"id": str(uuid.uuid4()), "size": size, "storageKey": key,
                          "contentType": kind, "originalName": name})  # fmt: skip
        body.update(files=files, updated_at=clock.tick(), updated_by=actor_id,
                    updated_by_name=actor_name)  # fmt: skip
        text = save_record(conn, ctx, env)
        audit_record(conn, ctx, "CDT_UPDATED", body["updated_at"], env)
    return raw_reply(text)


def get_file(ctx: Ctx) -> Reply:
    """``GET …/document-summary/{id}/files/{fileId}``: the file, as recorded with
    ``Accept-Ranges: true`` and the file's own content type.
    """
    env = _load(ctx)
    for meta in env["jsonBody"].get("files") or []:
        if meta["id"] == ctx.params["fileId"]:
            kind = meta.get("contentType") or "application/octet-stream"
            data = _SAMPLE_BYTES.get(kind, b"\x00")
            return Reply(200, data, kind, {"Accept-Ranges": "true"})
    raise not_found("FILE_NOT_FOUND", "DOCUMENT", "File not found", {"id": ctx.params["fileId"]})


def register(r: Router) -> None:
    """Add the document summary routes."""
    base = "/{tenant}/{instance}/patients/{patientId}/document-summary"
    r.add("GET", base, list_documents)
    r.add("POST", base, create_document)
    r.add("GET", f"{base}/{{id}}", get_document)
    r.add("DELETE", f"{base}/{{id}}", delete_document)
    r.add("POST", f"{base}/{{id}}/files", upload_files)
    r.add("GET", f"{base}/{{id}}/files/{{fileId}}", get_file)
