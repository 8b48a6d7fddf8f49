"""Event mode: pull what the event log says changed, on the usual streams, with a cursor.

The event log is written here with the table welkin-webhooks creates (the contract below); the
end-to-end path through the real receiver is in tests/e2e/test_webhooks_e2e.py.
"""

from __future__ import annotations

import copy
import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tap_welkin_testkit as kit
from welkin_emulator.testing import EmulatorProcess

# welkin_client/eventlog.py SQLITE_SCHEMA, written out: the contract between receiver and tap.
SCHEMA = """
CREATE TABLE IF NOT EXISTS welkin_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    tenant TEXT, instance TEXT, entity TEXT NOT NULL, subtype TEXT NOT NULL,
    source_id TEXT NOT NULL, source_name TEXT, patient_id TEXT)
"""


class EventLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute(SCHEMA)

    def add(self, entity: str, subtype: str, source_id: str, *, patient_id: str | None = None,
            source_name: str | None = None, tenant: str = "demo") -> None:  # fmt: skip
        self.conn.execute(
            "INSERT INTO welkin_events(tenant, instance, entity, subtype, source_id, source_name,"
            " patient_id) VALUES(?, 'sandbox', ?, ?, ?, ?, ?)",
            (tenant, entity, subtype, source_id, source_name, patient_id),
        )

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


@pytest.fixture(scope="module")
def own() -> Iterator[EmulatorProcess]:
    emu = kit.start_emulator(12, 5)
    emu.set_faults(token_limit=0)
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def catalog(own: EmulatorProcess) -> dict[str, Any]:
    return kit.select_all(kit.discover(kit.tap_config(own), name="event-catalog"))


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path / "events.db")


def run(emu: EmulatorProcess, log: EventLog, catalog: dict[str, Any], state: dict[str, Any],
        **settings: Any) -> kit.TapRun:  # fmt: skip
    emu.reset_requests()
    settings.setdefault("event_audit_interval", 0)  # the audit has its own test below
    config = kit.tap_config(emu, event_log_url=log.url, **settings)
    return kit.run_tap(config, catalog=catalog, state=state, name="event-mode")


def test_pulls_only_touched_resources_then_idles(
    own: EmulatorProcess, log: EventLog, catalog: dict[str, Any]
) -> None:
    api = kit.WelkinApi(own)
    patient = api.call("POST", "patients", json={"firstName": "Ev", "lastName": "Ent"})
    record = api.call("POST", f"patients/{patient['id']}/cdts/allergies", json={"allergy": "Oak"})
    log.add("PATIENT", "PATIENT_CREATED", patient["id"], patient_id=patient["id"])
    log.add("CDT", "CDT_CREATED", record["id"], patient_id=patient["id"], source_name="allergies")
    log.add("PATIENT", "PATIENT_UPDATED", patient["id"], patient_id=patient["id"])  # same one
    log.add("PATIENT", "PATIENT_UPDATED", patient["id"], tenant="other")  # not this tenant

    first = run(own, log, catalog, {})
    assert first.counts() == {"patients": 1, "cdt_allergies": 1, "cdt_records": 1}
    assert first.records["patients"][patient["id"]]["firstName"] == "Ev"
    allergy = first.records["cdt_allergies"][record["id"]]
    assert allergy["allergy"] == "Oak" and allergy["updatedAt"]  # flattened, timestamps surfaced
    requests = own.requests()
    assert requests["GET /{tenant}/{instance}/patients/{patientId}"] == 1
    assert requests["GET /{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}/{recordId}"] == 1
    assert not any("export" in key for key in requests)
    # Streams no webhook announces (care data, Designer) keep no event cursor.
    cursors = {n: b["event_seq"] for n, b in first.state["bookmarks"].items() if "event_seq" in b}
    assert set(cursors) >= {"patients", "cdt_records", "cdt_allergies"}
    assert set(cursors.values()) == {4}

    # Only touched streams announce themselves: no SCHEMA for care data, Designer or users.
    assert {m["stream"] for m in first.messages if m["type"] == "SCHEMA"} == {
        "patients", "cdt_records", "cdt_allergies"}  # fmt: skip

    idle = run(own, log, catalog, first.state)
    assert idle.counts() == {}
    assert not [m for m in idle.messages if m["type"] in {"SCHEMA", "ACTIVATE_VERSION"}]
    assert own.requests()["total"] == 0  # not even a token
    assert idle.state == first.state

    api.call("PATCH", f"patients/{patient['id']}", json={"city": "Umea"})
    log.add("PATIENT", "PATIENT_UPDATED", patient["id"], patient_id=patient["id"])
    third = run(own, log, catalog, idle.state)
    assert third.counts() == {"patients": 1}
    assert {m["stream"] for m in third.messages if m["type"] == "SCHEMA"} == {"patients"}
    assert third.records["patients"][patient["id"]]["city"] == "Umea"
    assert "GET /{tenant}/{instance}/formations/{version}/cdts" not in own.requests()
    assert third.state["bookmarks"]["patients"]["event_seq"] == 5
    assert third.state["bookmarks"]["cdt_allergies"]["event_seq"] == 4  # not run: kept


def test_many_touched_resources_take_the_export_delta(
    own: EmulatorProcess, log: EventLog, catalog: dict[str, Any]
) -> None:
    api = kit.WelkinApi(own)
    created = [
        api.call("POST", "patients", json={"firstName": f"P{i}", "lastName": "X"})
        for i in range(25)
    ]
    for p in created:
        log.add("PATIENT", "PATIENT_CREATED", p["id"], patient_id=p["id"])
    out = run(own, log, catalog, {})
    assert {p["id"] for p in created} <= set(out.records["patients"])
    requests = own.requests()
    assert requests.get("GET /{tenant}/{instance}/patients/{patientId}", 0) == 0
    assert requests["GET /{tenant}/{instance}/export/{type}"] == 1
    assert requests["total"] <= 3  # token, formation, one export page: not 25 GETs

    by_id = run(own, log, catalog, {}, extraction_path="rest")  # no export: one GET each
    assert {p["id"] for p in created} == set(by_id.records["patients"])
    assert own.requests()["GET /{tenant}/{instance}/patients/{patientId}"] == 25


def test_calendar_events_and_users_are_pulled_by_id(
    own: EmulatorProcess, log: EventLog, catalog: dict[str, Any]
) -> None:
    api = kit.WelkinApi(own)
    event = api.export("CALENDAR_EVENT")[0]
    users = api.session.get(f"{own.url}/demo/admin/users", params={"size": 5}, timeout=30).json()[
        "data"
    ]
    log.add("CALENDAR", "CALENDAR_EVENT_UPDATED", event["id"])
    log.add("USER_APP_ACCESS", "USER_ACCESS_UPDATED", users[0]["id"])
    out = run(own, log, catalog, {})
    assert out.counts() == {"calendar_events": 1, "users": 1}
    assert out.records["calendar_events"][event["id"]]["startDateTime"] == event["startDateTime"]
    assert out.records["users"][users[0]["id"]]["username"] == users[0]["username"]
    assert own.requests()["GET /{tenant}/admin/users/{userId}"] == 1
    # One touched user is not the whole table: no version activated (targets would mark the
    # other users deleted).
    assert not [m for m in out.messages if m["type"] == "ACTIVATE_VERSION"]


def test_failed_deliveries_in_the_webhook_audit_are_recovered(
    own: EmulatorProcess, log: EventLog, catalog: dict[str, Any]
) -> None:
    api = kit.WelkinApi(own)
    # Every delivery fails for good (Welkin's audit shows FAILED); the event log gets nothing.
    own.set_webhooks([{"name": "wh-down", "url": "http://127.0.0.1:9/welkin/webhook"}],
                     fail_rate=1.0, max_attempts=1)  # fmt: skip
    try:
        patient = api.call("POST", "patients", json={"firstName": "Lost", "lastName": "Ping"})
        record = api.call("POST", f"patients/{patient['id']}/cdts/allergies",
                          json={"allergy": "Ash"})  # fmt: skip
        deadline = time.monotonic() + 30
        while own.webhooks()["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert own.webhooks()["stats"]["failed"] >= 2
    finally:
        own.set_webhooks([])
    out = run(own, log, catalog, {}, event_audit_interval=300)
    assert out.records["patients"][patient["id"]]["firstName"] == "Lost"
    assert out.records["cdt_allergies"][record["id"]]["allergy"] == "Ash"
    assert own.requests()["GET /{tenant}/admin/audit-webhook"] == 1
    read_at = {b.get("webhook_audit_read_at") for b in out.state["bookmarks"].values()}
    assert len(read_at - {None}) == 1
    # Within the interval an idle run reads nothing, not even the audit.
    again = run(own, log, catalog, out.state, event_audit_interval=300)
    assert again.counts() == {} and own.requests()["total"] == 0
    # Past it (the last read 10 minutes ago), the audit is read again, from that read on.
    stale = copy.deepcopy(out.state)
    ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    for bookmark in stale["bookmarks"].values():
        if "webhook_audit_read_at" in bookmark:
            bookmark["webhook_audit_read_at"] = ago.isoformat()
    later = run(own, log, catalog, stale, event_audit_interval=300)
    assert own.requests()["GET /{tenant}/admin/audit-webhook"] == 1
    assert patient["id"] in later.records["patients"]

    # An API client that may not read the audit: one warning, the run goes on.
    own.script_faults(
        [{"action": "error", "status": 403, "route": "/{tenant}/admin/audit-webhook"}]
    )
    try:
        denied = run(own, log, catalog, stale, event_audit_interval=300)
    finally:
        own.clear_faults()
        own.set_faults(token_limit=0)
    assert denied.returncode == 0 and denied.counts() == {}
    assert "Webhook audit not readable by this API client" in denied.stderr


def test_deleted_resource_is_skipped_and_unknown_ids_do_not_fail(
    own: EmulatorProcess, log: EventLog, catalog: dict[str, Any]
) -> None:
    api = kit.WelkinApi(own)
    kept = api.call("POST", "patients", json={"firstName": "Kept", "lastName": "Here"})
    path = f"patients/{kept['id']}/cdts/allergies"
    gone = api.call("POST", path, json={"allergy": "Elm"})
    api.call("DELETE", f"{path}/{gone['id']}")
    log.add("PATIENT", "PATIENT_CREATED", kept["id"], patient_id=kept["id"])
    log.add("CDT", "CDT_CREATED", gone["id"], patient_id=kept["id"], source_name="allergies")
    log.add("CDT", "CDT_UPDATED", "no-patient-id")  # cannot be pulled: skipped, named by entity
    out = run(own, log, catalog, {})
    assert set(out.records["patients"]) == {kept["id"]}
    assert "cdt_allergies" not in out.records
    assert "no longer exists" in out.stderr and gone["id"] not in out.stderr
    assert "Skipped a CDT event without the ids" in out.stderr


def test_a_stopped_run_replays_its_events(
    own: EmulatorProcess, log: EventLog, catalog: dict[str, Any]
) -> None:
    api = kit.WelkinApi(own)
    patient = api.call("POST", "patients", json={"firstName": "Re", "lastName": "Play"})
    log.add("PATIENT", "PATIENT_CREATED", patient["id"], patient_id=patient["id"])
    # A run that died before its final STATE leaves the old cursor: the next run pulls again.
    before = {"bookmarks": {"patients": {"event_seq": 0}}}
    assert run(own, log, catalog, before).counts().get("patients") == 1
    assert run(own, log, catalog, before).counts().get("patients") == 1


def test_missing_event_log_is_one_clear_line(
    own: EmulatorProcess, tmp_path: Path, catalog: dict[str, Any]
) -> None:
    config = kit.tap_config(own, event_log_url=f"sqlite:///{tmp_path / 'nope.db'}")
    out = kit.run_tap(config, catalog=catalog, state={}, name="event-missing", check=False)
    assert out.returncode != 0
    assert "event_log_url: no event log there yet" in out.stderr
    assert str(tmp_path) not in out.stderr and "Traceback" not in out.stderr


def test_ids_go_into_paths_only_as_plain_segments() -> None:
    import datetime as dt

    from tap_welkin.event_mode import resource_path
    from welkin_client.eventlog import LogEvent

    def event(entity: str, sid: str, name: str | None = None) -> LogEvent:
        now = dt.datetime.now(dt.timezone.utc)
        return LogEvent("demo", "sandbox", entity, f"{entity}_UPDATED", sid, name, "p-1", seq=1,
                        received_at=now)  # fmt: skip

    assert resource_path(event("CDT", "r-1", "allergies")) == (
        "patients/p-1/cdts/allergies/r-1",
        False,
    )
    assert resource_path(event("ENCOUNTER", "e-1")) == ("patients/p-1/encounters/e-1", False)
    assert resource_path(event("CALENDAR", "c-1")) == ("calendar/events/c-1", False)
    assert resource_path(event("USER_APP_ACCESS", "u-1")) == ("users/u-1", True)
    assert resource_path(event("CDT", "r-1", "..")) is None
    assert resource_path(event("PATIENT", "../admin")) is None
    assert resource_path(event("TASK", "t-1")) is None
