"""Contract scenarios: SMS, email, chat, schedules, work hours and the webhook audit."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from contract_registry import scenario
from emulator_kit import Api


@scenario("test_smses_patient_list")
def _sms_list(api: Api) -> list[requests.Response]:
    return [api.get(f"patients/{api.new_patient()['id']}/sms", params={"page": 0})]


@scenario("test_sms_patient_read")
def _sms_read(api: Api) -> list[requests.Response]:
    pid, sid = api.new_patient()["id"], str(uuid.uuid4())
    r = api.get(f"patients/{pid}/sms/{sid}")
    assert r.json()[0]["details"] == {"id": sid}
    return [r]


@scenario("test_emails_patient_list")
def _email_list(api: Api) -> list[requests.Response]:
    return [api.get(f"patients/{api.new_patient()['id']}/emails", params={"page": 0})]


@scenario("test_email_patient_read")
def _email_read(api: Api) -> list[requests.Response]:
    pid, eid = api.new_patient()["id"], str(uuid.uuid4())
    r = api.get(f"patients/{pid}/emails/{eid}")
    assert r.json()[0]["details"] == {"patientId": pid, "id": eid}
    return [r]


def _chatty_patient(api: Api) -> tuple[str, dict[str, Any]]:
    """A seeded patient whose chat has a message from a user, and that message."""
    page = api.get("export/CHAT_MESSAGE", params={"pageSize": 1000}).json()["data"]
    msg = next(m for m in page if m["sender"]["clientType"] == "USER")
    return msg["patientId"], msg


@scenario("test_create_chat")
def _chat_create(api: Api) -> list[requests.Response]:
    p = api.new_patient(firstName="Testy", lastName="McTesterson")
    r = api.post(f"patients/{p['id']}/chat/inbound", {"message": "Foo Baz."})
    assert r.json()["sender"]["patientFullName"] == "Testy McTesterson"
    return [r]


@scenario("test_read_chat")
def _chat_read(api: Api) -> list[requests.Response]:
    pid, _ = _chatty_patient(api)
    api.post(f"patients/{pid}/chat/inbound", {"message": "Foo Baz."})
    r = api.get(f"patients/{pid}/chat", params={"includeArchived": "False", "pageSize": 20})
    content = r.json()["content"]
    assert content[0]["message"] == "Foo Baz."  # newest first
    assert {m["sender"]["clientType"] for m in content} == {"PATIENT", "USER"}
    return [r]


@scenario("test_search_chat")
def _chat_search(api: Api) -> list[requests.Response]:
    pid, msg = _chatty_patient(api)
    api.post(f"patients/{pid}/chat/inbound", {"message": "Test " + msg["message"]})
    word = msg["message"].split()[0]
    r = api.get(
        f"patients/{pid}/chat/search",
        params={"pageSize": 20, "contentPageSize": 20, "includeArchived": "False", "query": word},
    )
    found = [item["message"] for item in r.json()["content"]]
    assert all(word.lower() in m["message"].lower() for m in found)
    assert {m["sender"]["clientType"] for m in found} == {"PATIENT", "USER"}
    return [r]


@scenario("test_schedule_read_all")
def _schedules(api: Api) -> list[requests.Response]:
    user = api.post("admin/users", {"username": f"psm-{uuid.uuid4().hex[:8]}",
                                    "email": "psm@example.com"}).json()  # fmt: skip
    r = api.get("calendar/psm-schedules", params={
        "psmIds": user["id"], "from": "2022-04-01T16:38:20.641Z", "to": "2022-06-30T16:38:20.641Z",
        "includeCancelled": "True", "page": 0})  # fmt: skip
    assert r.json() == [{"psmId": user["id"], "workHours": [], "events": []}]
    return [r]


# Recorded in 2026, when the service sent other CORS header values; the emulator sends the
# 2022 ones every other recording shows.
CORS_2026 = frozenset({"access-control-allow-headers", "access-control-expose-headers"})


@scenario("test_work_hours_read_all", skip_headers=CORS_2026)
def _work_hours(api: Api) -> list[requests.Response]:
    users = api.get("admin/users", params={"size": 1000}).json()["data"]
    r = api.get("calendar/work-hours", params={
        "from": "2024-01-01T00:00:00.000Z", "to": "2026-12-31T00:00:00.000Z",
        "psmIds": ",".join(u["id"] for u in users)})  # fmt: skip
    active = {u["id"] for u in users if u["userState"] == "ACTIVE"}
    assert r.json() and {item["psmId"] for item in r.json()} <= active
    empty = api.get("calendar/work-hours", params={
        "from": "2100-01-01T00:00:00.000Z", "to": "2100-12-31T00:00:00.000Z"})  # fmt: skip
    assert empty.json() == []
    return [r]


@scenario("test_webhook_audit_read_all", skip_headers=CORS_2026)
def _webhook_audit(api: Api) -> list[requests.Response]:
    r = api.get("admin/audit-webhook", params={"page": 0})
    sent = [d["sentAt"] for d in r.json()["data"]]
    assert sent == sorted(sent) and r.json()["metaInfo"]["totalElements"] >= len(sent) > 0
    return [r]
