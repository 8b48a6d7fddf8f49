"""Contract scenarios: encounters, dispositions, full encounters, calendar events, 2023 patients."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from contract_registry import iso, scenario
from emulator_kit import Api


def _post_encounter(
    api: Api, host: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any], requests.Response]:
    """Create an encounter as the recording does: ``(patient id, host user, response)``."""
    host = host or api.active_user()
    p = api.new_patient(firstName="Demo", lastName="Er")
    start = datetime.now(timezone.utc) + timedelta(hours=6)
    body = {
        "title": "new enc",
        "description": "new encounter",
        "templateName": "etmp-initial-consultation",
        "currentScheduledAppointment": {
            "eventType": "ENCOUNTER",
            "eventTitle": "NEW ENC",
            "startDateTime": iso(start),
            "endDateTime": iso(start + timedelta(hours=1)),
            "hostId": host["id"],
            "participants": [
                {"participantId": host["id"], "participantRole": "psm"},
                {"participantId": p["id"], "participantRole": "patient"},
            ],
        },
    }
    return p["id"], host, api.post(f"patients/{p['id']}/encounters", body)


def _encounter(api: Api) -> tuple[str, dict[str, Any]]:
    pid, _, r = _post_encounter(api)
    assert r.status_code == 201, r.text
    return pid, r.json()


@scenario("test_encounter_create")
def _encounter_create(api: Api) -> list[requests.Response]:
    pid, host, r = _post_encounter(api)
    jb = r.json()["jsonBody"]
    assert jb["status"] == "DRAFT"
    assert jb["calendarEventId"] == jb["calendarEvent"]["id"]
    # The auto-created calendar event and disposition really exist.
    assert api.get(f"calendar/events/{jb['calendarEventId']}").status_code == 200
    disp = api.get(f"patients/{pid}/encounters/{r.json()['id']}/disposition").json()
    assert disp["id"] == jb["dispositionId"]
    assert disp["jsonBody"]["source_type"] == "ENCOUNTER"
    parts = {x["participantRole"]: x for x in jb["calendarEvent"]["participants"]}
    assert parts["psm"]["firstName"] == host["firstName"]
    assert parts["patient"]["lastName"] == "Er"
    return [r]


@scenario("test_encounter_patient_read")
def _encounter_read(api: Api) -> list[requests.Response]:
    pid, enc = _encounter(api)
    return [api.get(f"patients/{pid}/encounters/{enc['id']}")]


@scenario("test_encounter_update")
def _encounter_update(api: Api) -> list[requests.Response]:
    pid, enc = _encounter(api)
    api.patch(f"patients/{pid}/encounters/{enc['id']}", {"notes": "a new note"})
    before = api.get(f"patients/{pid}/encounters/{enc['id']}")
    after = api.patch(f"patients/{pid}/encounters/{enc['id']}", {"notes": "a newer note"})
    assert after.json()["jsonBody"]["notes"] == "a newer note"
    assert after.json()["jsonBody"]["updated_at"] > before.json()["jsonBody"]["updated_at"]
    return [before, after]


@scenario("test_encounter_delete")
def _encounter_delete(api: Api) -> list[requests.Response]:
    pid, enc = _encounter(api)
    path = f"patients/{pid}/encounters/{enc['id']}"
    return [api.get(path), api.delete(path), api.get(path)]


def _event(api: Api, **values: Any) -> dict[str, Any]:
    host = api.active_user()
    start = values.pop("start", datetime.now(timezone.utc) + timedelta(hours=1))
    body = {
        "startDateTime": iso(start),
        "endDateTime": iso(start + timedelta(hours=1)),
        "hostId": host["id"],
        "participants": [{"participantId": host["id"], "participantRole": "psm"}],
        **values,
    }
    r = api.post("calendar/events", body)
    assert r.status_code == 201, r.text
    return r.json()


@scenario("test_calendar_event_create")
def _event_create(api: Api) -> list[requests.Response]:
    host = api.active_user()
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    r = api.post(
        "calendar/events",
        {
            "startDateTime": iso(start),
            "endDateTime": iso(start + timedelta(hours=1)),
            "hostId": host["id"],
            "participants": [{"participantId": host["id"], "participantRole": "psm"}],
        },
    )
    part = r.json()["participants"][0]
    assert (part["firstName"], part["email"], part["timezone"]) == (
        host["firstName"],
        host["email"],
        host["timezone"],
    )
    return [r]


@scenario("test_calendar_event_read")
def _event_read(api: Api) -> list[requests.Response]:
    return [api.get(f"calendar/events/{_event(api)['id']}")]


PAST = {
    "eventTitle": "Test create past event update",
    "eventDescription": "",
    "eventType": "APPOINTMENT",
    "eventMode": "IN-PERSON",
    "eventColor": "green",
    "timezone": "US/Pacific",
}


@scenario("test_calendar_event_update")
def _event_update(api: Api) -> list[requests.Response]:
    ev = _event(
        api, start=datetime(2022, 6, 28, 14, tzinfo=timezone.utc), eventStatus="Scheduled", **PAST
    )
    before = api.get(f"calendar/events/{ev['id']}")
    assert before.json()["localStartDateTime"] == "2022-06-28T07:00:00.000-07:00"
    after = api.patch(f"calendar/events/{ev['id']}", {"eventTitle": "New event title"})
    assert after.json()["eventTitle"] == "New event title"
    assert after.json()["updatedAt"] > before.json()["updatedAt"]
    return [before, after]


@scenario("test_calendar_event_delete")
def _event_delete(api: Api) -> list[requests.Response]:
    ev = _event(
        api, start=datetime(2022, 6, 28, 14, tzinfo=timezone.utc), eventStatus="CANCELLED", **PAST
    )
    path = f"calendar/events/{ev['id']}"
    return [api.get(path), api.delete(path), api.get(path)]


# Recorded dispositions belong to a CDT at version 6; the emulator's is at 4 (as in
# test_encounter_patient_read_related_data, a month earlier).
DISPOSITION_VERSION = frozenset({"version"})


@scenario("test_encounter_disposition_get", skip=DISPOSITION_VERSION)
def _disposition_get(api: Api) -> list[requests.Response]:
    pid, enc = _encounter(api)
    return [api.get(f"patients/{pid}/encounters/{enc['id']}/disposition")]


@scenario("test_encounter_disposition_get_patient_id_encounter_id", skip=DISPOSITION_VERSION)
def _disposition_get_by_ids(api: Api) -> list[requests.Response]:
    return _disposition_get(api)


@scenario("test_encounter_disposition_update", skip=DISPOSITION_VERSION)
def _disposition_update(api: Api) -> list[requests.Response]:
    pid, enc = _encounter(api)
    path = f"patients/{pid}/encounters/{enc['id']}/disposition"
    api.patch(path, {"uicedf-next-steps": "call back", "uicedf-review": "first"})
    before = api.get(path)
    after = api.patch(path, {"uicedf-review": "reviewed"})
    assert after.json()["jsonBody"]["uicedf-review"] == "reviewed"
    assert after.json()["jsonBody"]["updated_at"] > before.json()["jsonBody"]["updated_at"]
    return [before, after]


def _full_encounter(api: Api, status: str) -> requests.Response:
    """``full-encounters/{id}`` of a new encounter hosted by a user shaped as recorded."""
    host = api.post(
        "admin/users",
        {"username": f"host-{uuid.uuid4().hex[:8]}", "email": "host@example.com",
         "firstName": "Eddie", "lastName": "Host", "locale": "en-US"},
    ).json()  # fmt: skip
    api.patch(f"admin/users/{host['username']}", {"userState": "ACTIVE", "enabled": True})
    pid, _, created = _post_encounter(api, host)
    enc = created.json()
    api.patch(f"patients/{pid}/encounters/{enc['id']}", {"status": status})
    full = api.get(f"patients/{pid}/full-encounters/{enc['id']}")
    body = full.json()
    assert body["encounter"]["id"] == enc["id"]
    assert body["disposition"]["id"] == enc["jsonBody"]["dispositionId"]
    assert body["userRelatedToCalendarEvent"]["id"] == host["id"]
    assert "applicationAccess" not in body["userRelatedToCalendarEvent"]
    return full


# The disposition's fields followed the tenant's formation of the day; the template's assessment
# links (created with the encounter) belonged to a CDT at version 4 in July 2022, 6 later.
DISPOSITION_BODY = frozenset({"disposition.jsonBody"})
LINK_VERSION = frozenset({"assessmentLinks[].version"})


@scenario("test_encounter_patient_read_related_data", optional_keys=True, skip=LINK_VERSION,
          formation_bodies=DISPOSITION_BODY)  # fmt: skip
def _full_encounter_open(api: Api) -> list[requests.Response]:
    return [_full_encounter(api, "OPEN")]


@scenario("test_encounter_assessments", optional_keys=True, skip=LINK_VERSION,
          formation_bodies=DISPOSITION_BODY)  # fmt: skip
def _full_encounter_assessments(api: Api) -> list[requests.Response]:
    full = _full_encounter(api, "OPEN")
    links = full.json()["assessmentLinks"]
    assert [link["jsonBody"]["fromTemplate"] for link in links] == [True]
    return [full]


# A 30-minute event with status "Scheduled", CDTs at version 6 and a template title.
NESTED_CONSTANTS = frozenset(
    {"disposition.version", "encounter.version", "encounter.jsonBody.templateTitle"}
    | {
        f"{event}.{key}"
        for event in (
            "calendarEvent",
            "encounter.jsonBody.calendarEvent",
            "encounter.jsonBody.currentScheduledAppointment",
        )
        for key in ("duration", "eventStatus")
    }
)


@scenario("test_encounter_disposition_get_nested", optional_keys=True, skip=NESTED_CONSTANTS,
          formation_bodies=DISPOSITION_BODY)  # fmt: skip
def _full_encounter_draft(api: Api) -> list[requests.Response]:
    return [_full_encounter(api, "DRAFT")]


def _patient_by_guid(api: Api) -> list[requests.Response]:
    guid = str(uuid.uuid4())
    api.new_patient(externalGuid=guid, email="test.patient@example.com")
    r = api.get(f"patients/{guid}", params={"type": "EGUID"})
    assert r.json()["externalGuid"] == guid
    return [r]


def _patient_in_program(api: Api) -> list[requests.Response]:
    guid = str(uuid.uuid4())
    p = api.new_patient(externalGuid=guid, email="test.patient@example.com")
    assigned = api.patch(
        f"patients/{p['id']}/programs/prog-target-patient", {"assigned": True, "phaseName": "start"}
    )
    assert assigned.status_code == 200, assigned.text
    r = api.get(f"patients/{guid}", params={"type": "EGUID"})
    assert [pp["id"] for pp in r.json()["patientPrograms"]] == [assigned.json()["id"]]
    return [r]


# The 2023 patients the program tests set up (looked up by externalGuid), with or without a
# program assigned.
scenario("fixtures/patient__TestPrograms.test_read")(_patient_by_guid)
scenario("fixtures/patient__TestProgram.test_read[programName]")(_patient_by_guid)
for _name in ("test_delete", "test_read[id]", "test_update"):
    scenario(f"fixtures/patient__TestProgram.{_name}")(_patient_in_program)
