"""Contract scenarios: document summaries and their files."""

from __future__ import annotations

from typing import Any

import requests
from contract_registry import scenario
from emulator_kit import Api

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200)


def _document(api: Api, pid: str | None = None) -> tuple[str, dict[str, Any]]:
    """A doc-type-others document with one uploaded JPEG (metadata kept, bytes not)."""
    pid = pid or api.new_patient()["id"]
    doc = api.post(f"patients/{pid}/document-summary", {"type": "doc-type-others"}).json()
    up = api.request("POST", f"patients/{pid}/document-summary/{doc['id']}/files",
                     files={"files": ("card.jpg", JPEG, "image/jpeg")})  # fmt: skip
    assert up.status_code == 200, up.text
    return pid, up.json()


@scenario("test_document_summary_create")
def _doc_create(api: Api) -> list[requests.Response]:
    pid = api.new_patient()["id"]
    r = api.post(f"patients/{pid}/document-summary", {"type": "doc-type-others"})
    assert r.json()["jsonBody"]["files"] is None
    return [r]


@scenario("test_document_summary_get")
def _doc_get(api: Api) -> list[requests.Response]:
    pid, doc = _document(api)
    r = api.get(f"patients/{pid}/document-summary/{doc['id']}")
    files = r.json()["jsonBody"]["files"]
    assert [(f["originalName"], f["size"], f["contentType"]) for f in files] == [
        ("card.jpg", len(JPEG), "image/jpeg")]  # fmt: skip
    return [r]


def _doc_list(api: Api) -> list[requests.Response]:
    pid, doc = _document(api)
    r = api.get(f"patients/{pid}/document-summary", params={"page": 0})
    assert [d["id"] for d in r.json()["data"]["content"]] == [doc["id"]]
    return [r]


scenario("test_document_summaries_get_patient_id")(_doc_list)
scenario("test_document_summaries_subresource")(_doc_list)


@scenario("test_document_summary_delete")
def _doc_delete(api: Api) -> list[requests.Response]:
    pid, doc = _document(api)
    path = f"patients/{pid}/document-summary/{doc['id']}"
    deleted, missing = api.delete(path), api.get(path)
    assert missing.json()[0]["details"] == {
        "patientId": pid, "cdtRecordId": doc["id"], "cdtName": "_document_summary"}  # fmt: skip
    return [deleted, missing]


@scenario("test_document_summary_file_get")
def _doc_file(api: Api) -> list[requests.Response]:
    pid, doc = _document(api)
    file_id = doc["jsonBody"]["files"][0]["id"]
    r = api.get(f"patients/{pid}/document-summary/{doc['id']}/files/{file_id}")
    assert r.content.startswith(b"\xff\xd8\xff")
    return [r]
