"""Webhooks: a ping per write after commit, retries with backoff, the audit, the fault switches.

The subscriber is a small HTTP server on 127.0.0.1 in this process (real sockets), answering
with the statuses a test scripts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from emulator_kit import Api

from welkin_emulator.testing import EmulatorProcess

PAYLOAD_KEYS = {
    "sourceId",
    "eventSubtype",
    "tenantName",
    "instanceName",
    "patientId",
    "eventEntity",
    "sourceName",
    "url",
}
# The recorded audit item (test_webhook_audit_read_all), in recorded key order.
AUDIT_KEYS = ["id", "sentAt", "eventEntity", "patientId", "instance", "status", "statusCode",
              "response", "eventSubtype", "record"]  # fmt: skip
RECORD_KEYS = ["name", "title", "url", "headers", "queryParameters", "payload", "active", "enabled"]


class Subscriber:
    """Collects pings; answers ``statuses`` in turn (then 200), after ``delay`` seconds."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(outer.delay)
                outer.received.append((dict(self.headers), json.loads(body)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                text = b"Message stored." if status == 200 else b"nope"
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/welkin/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [payload for _, payload in self.received]


@pytest.fixture
def subscriber(emu: EmulatorProcess) -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    emu.reset()  # definitions back to none before the server goes
    sub.server.shutdown()


def hook(sub: Subscriber, **extra: Any) -> dict[str, Any]:
    return {"name": "wh-test", "title": "Test", "url": sub.url,
            "headers": [{"name": "X-Secret", "value": "t0ps3cret"}], **extra}  # fmt: skip


def audit(api: Api, patient_id: str) -> list[dict[str, Any]]:
    items = api.get("admin/audit-webhook", params={"size": 1000}).json()["data"]
    return [i for i in items if i.get("patientId") == patient_id]


def test_every_write_pings_with_ids_only_and_is_audited(
    api: Api, emu: EmulatorProcess, subscriber: Subscriber
) -> None:
    emu.set_webhooks([hook(subscriber)])
    patient = api.new_patient(firstName="Hook", lastName="Person")
    record = api.post(f"patients/{patient['id']}/cdts/allergies", {"allergy": "Dust"}).json()
    api.patch(f"patients/{patient['id']}", {"city": "Lund"})
    payloads = subscriber.wait_for(3)
    assert [p["eventSubtype"] for p in payloads] == [
        "PATIENT_CREATED", "CDT_CREATED", "PATIENT_UPDATED"]  # fmt: skip
    for p in payloads:
        assert set(p) == PAYLOAD_KEYS
        assert p["patientId"] == patient["id"]
        assert (p["tenantName"], p["instanceName"]) == ("demo", "sandbox")
        assert "Hook" not in json.dumps(p) and "Dust" not in json.dumps(p)  # ids only
    assert payloads[1]["sourceId"] == record["id"] and payloads[1]["sourceName"] == "allergies"
    assert payloads[1]["url"].endswith(f"/patients/{patient['id']}/cdts/allergies/{record['id']}")
    assert all(h["X-Secret"] == "t0ps3cret" for h, _ in subscriber.received)
    items = audit(api, patient["id"])
    assert len(items) == 3
    assert [list(i) for i in items] == [AUDIT_KEYS] * 3
    assert {(i["status"], i["statusCode"], i["response"]) for i in items} == {
        ("DELIVERED", "OK", "Message stored.")}  # fmt: skip
    assert list(items[0]["record"]) == RECORD_KEYS
    assert "t0ps3cret" not in json.dumps(items)  # the audit never shows the secret


def test_encounter_pings_as_encounter(
    api: Api, emu: EmulatorProcess, subscriber: Subscriber
) -> None:
    patient = api.new_patient()
    emu.set_webhooks([hook(subscriber, events=["ENCOUNTER"])])
    api.post(f"patients/{patient['id']}/cdts/allergies", {"allergy": "Dust"})  # not subscribed
    created = api.post(f"patients/{patient['id']}/encounters", {"templateName": "etmp-follow-up"})
    assert created.status_code == 201, created.text
    payloads = subscriber.wait_for(1)
    time.sleep(0.3)
    assert [(p["eventEntity"], p["eventSubtype"]) for p in subscriber.wait_for(1)] == [
        ("ENCOUNTER", "ENCOUNTER_CREATED")]  # fmt: skip
    assert payloads[0]["sourceId"] == created.json()["id"]


def test_non_2xx_is_retried_with_backoff_and_each_attempt_audited(
    api: Api, emu: EmulatorProcess, subscriber: Subscriber
) -> None:
    emu.set_webhooks([hook(subscriber)], base_delay=0.2, max_attempts=4)
    subscriber.statuses = [500, 503]
    started = time.monotonic()
    patient = api.new_patient()
    assert subscriber.wait_for(3)[-1]["sourceId"] == patient["id"]
    assert time.monotonic() - started >= 0.2 + 0.4 - 0.05  # 0.2 s, then 0.4 s
    time.sleep(0.2)
    items = audit(api, patient["id"])
    assert [(i["status"], i["statusCode"]) for i in items] == [
        ("FAILED", "INTERNAL_SERVER_ERROR"), ("FAILED", "SERVICE_UNAVAILABLE"),
        ("DELIVERED", "OK")]  # fmt: skip


def test_fault_switches_fail_and_duplicate(
    api: Api, emu: EmulatorProcess, subscriber: Subscriber
) -> None:
    emu.set_webhooks([hook(subscriber)], fail_rate=1, max_attempts=2, base_delay=0.05)
    lost = api.new_patient()
    time.sleep(0.5)
    assert subscriber.received == []
    items = audit(api, lost["id"])
    assert [i["status"] for i in items] == ["FAILED", "FAILED"]
    assert all("statusCode" not in i and i["response"] == "" for i in items)
    assert emu.webhooks()["stats"]["failed"] == 1

    emu.set_webhooks([hook(subscriber)], fail_rate=0, duplicate_rate=1)
    twice = api.new_patient()
    assert [p["sourceId"] for p in subscriber.wait_for(2)] == [twice["id"]] * 2
    time.sleep(0.2)
    assert [i["status"] for i in audit(api, twice["id"])] == ["DELIVERED", "DELIVERED"]


def test_delivery_is_off_the_request_path(
    api: Api, emu: EmulatorProcess, subscriber: Subscriber
) -> None:
    emu.set_webhooks([hook(subscriber)])
    subscriber.delay = 1.5
    started = time.monotonic()
    api.new_patient()
    assert time.monotonic() - started < 1.0
    assert len(subscriber.wait_for(1)) == 1


def test_bad_definitions_are_refused(emu: EmulatorProcess) -> None:
    with pytest.raises(Exception, match="400"):
        emu.set_webhooks([{"name": "x", "url": "ftp://nowhere"}])


def test_webhook_from_the_command_line_with_its_header_from_the_environment(
    seeded_db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = Subscriber()
    db = tmp_path / "cli.db"
    db.write_bytes(seeded_db.read_bytes())
    monkeypatch.setenv("WELKIN_EMULATOR_WEBHOOK_HEADER", "X-Cli-Secret: cl1-s3cret")
    try:
        with EmulatorProcess(db, extra_args=("--webhook-url", sub.url)) as emu:
            api = Api(emu)
            patient = api.new_patient()
            assert [p["sourceId"] for p in sub.wait_for(1)] == [patient["id"]]
            assert sub.received[0][0]["X-Cli-Secret"] == "cl1-s3cret"
            assert "cl1-s3cret" not in emu.log_tail(200)
    finally:
        sub.server.shutdown()


def test_calendar_and_user_writes_ping_too(
    api: Api, emu: EmulatorProcess, subscriber: Subscriber
) -> None:
    emu.set_webhooks([hook(subscriber, events=["CALENDAR", "USER"])])
    user = api.active_user()
    body = {"eventTitle": "Visit", "startDateTime": "2030-01-01T10:00:00.000Z",
            "endDateTime": "2030-01-01T11:00:00.000Z", "hostId": user["id"],
            "eventType": "APPOINTMENT", "eventMode": "IN_PERSON",
            "participants": [{"participantId": user["id"], "participantRole": "psm"}]}  # fmt: skip
    created = api.post("calendar/events", body)
    assert created.status_code in (200, 201), created.text
    updated = api.patch(f"admin/users/{user['username']}", {"firstName": user["firstName"]})
    assert updated.status_code == 200, updated.text
    payloads = {p["eventEntity"]: p for p in subscriber.wait_for(2)}
    assert set(payloads) == {"CALENDAR", "USER"}, [
        (p["eventEntity"], p["eventSubtype"]) for p in subscriber.wait_for(2)
    ]
    assert payloads["CALENDAR"]["eventSubtype"] == "CALENDAR_EVENT_CREATED"
    assert payloads["CALENDAR"]["sourceId"] == created.json()["id"]
    assert payloads["USER"]["sourceId"] == user["id"]
    assert payloads["USER"]["instanceName"] is None  # users live at tenant level
    time.sleep(0.3)
    statuses = [
        i["status"]
        for i in api.get(
            "admin/audit-webhook", params={"size": 1000, "sort": "sentAt,desc"}
        ).json()["data"][:2]
    ]
    assert statuses == ["DELIVERED", "DELIVERED"]
