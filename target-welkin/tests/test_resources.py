"""Create, partial update and unchanged-skip for every kind of Welkin resource the target writes."""

from __future__ import annotations

from .helpers import PATIENT_SCHEMA, run_target, writes


def reads(counts: dict[str, int]) -> int:
    """Calls other than writes and token requests."""
    return (
        counts["total"]
        - writes(counts)
        - counts.get("POST /{tenant}/admin/api_clients/{clientName}", 0)
    )


def test_patients_create_update_unchanged(emu, config, key, singer, welkin):
    records = [
        {
            "externalId": f"{key}-1",
            "firstName": "Ann",
            "lastName": "Leeexample",
            "birthDate": "1980-02-03",
        },
        {
            "externalId": f"{key}-2",
            "firstName": "Bo",
            "lastName": "Rayexample",
            "email": "bo@example.org",
        },
        {
            "mrn": f"{key}-M3",
            "firstName": "Cy",
            "lastName": "Odeexample",
            "birthDate": "1990-07-01T00:00:00Z",
        },
    ]
    first = run_target(config, singer.stream("patients", records, PATIENT_SCHEMA))
    assert first.summary["patients"]["created"] == 3
    assert emu.requests()["POST /{tenant}/{instance}/patients"] == 3
    ann = welkin.patient_by("EID", f"{key}-1")
    assert ann is not None and ann["birthDate"] == "1980-02-03T00:00:00.000Z"  # Welkin's format
    assert welkin.patient_by("MRN", f"{key}-M3")["birthDate"] == "1990-07-01T00:00:00.000Z"

    emu.reset_requests()
    second = run_target(config, singer.stream("patients", records, PATIENT_SCHEMA))
    counts = emu.requests()
    assert second.summary["patients"]["unchanged"] == 3
    # Skipped without a call of its own; one read checks Welkin still has the record written
    # last, one reads the export delta since the last run.
    assert writes(counts) == 0 and reads(counts) == 2

    # A clinician edits the phone in Welkin; the feed then changes the first name only.
    welkin.patch_patient(ann["id"], {"phone": "+15550001111"})
    emu.reset_requests()
    records[0] = {**records[0], "firstName": "Anne"}
    third = run_target(config, singer.stream("patients", records, PATIENT_SCHEMA))
    counts = emu.requests()
    assert third.summary["patients"] == {**third.summary["patients"], "updated": 1, "unchanged": 2}
    assert counts["PATCH /{tenant}/{instance}/patients/{patientId}"] == 1
    assert writes(counts) == 1
    after = welkin.patient_by("EID", f"{key}-1")
    assert after["firstName"] == "Anne"
    assert after["phone"] == "+15550001111"  # the PATCH carried only the changed field
    assert len(welkin.patients_with("externalId", f"{key}-1")) == 1


def test_users_create_update_unchanged(emu, config, key, singer, welkin):
    users = [{"username": f"{key}-coach", "email": f"{key}@example.org", "firstName": "Kim"}]
    assert run_target(config, singer.stream("users", users)).summary["users"]["created"] == 1
    assert welkin.user(f"{key}-coach")["firstName"] == "Kim"
    emu.reset_requests()
    assert run_target(config, singer.stream("users", users)).summary["users"]["unchanged"] == 1
    assert writes(emu.requests()) == 0
    users[0]["lastName"] = "Park"
    emu.reset_requests()
    assert run_target(config, singer.stream("users", users)).summary["users"]["updated"] == 1
    counts = emu.requests()
    assert counts["PATCH /{tenant}/admin/users/{userId}"] == 1 and writes(counts) == 1
    assert welkin.user(f"{key}-coach")["lastName"] == "Park"


def cdt_messages(singer, key, severity):
    patients = singer.stream(
        "patients", [{"externalId": f"{key}-p", "firstName": "Di", "lastName": "Foexample"}]
    )
    allergies = singer.stream(
        "allergies_feed",
        [
            {
                "patient_eid": f"{key}-p",
                "external_id": f"{key}-a1",
                "allergy": "Peanut",
                "severity": severity,
            },
            {
                "patient_eid": f"{key}-p",
                "external_id": f"{key}-a2",
                "allergy": "Dust",
                "severity": "Mild",
            },
        ],
    )
    return patients + allergies


def test_cdt_records_create_update_unchanged(emu, config, key, singer, welkin):
    config["streams"] = {
        "allergies_feed": {
            "resource": "cdt",
            "cdt": "allergies",
            "patient_field": "patient_eid",
            "patient_key": "externalId",
        },
    }
    first = run_target(config, cdt_messages(singer, key, "Mild"))
    assert first.summary["allergies_feed"]["created"] == 2
    patient = welkin.patient_by("EID", f"{key}-p")
    records = {
        r["jsonBody"]["external_id"]: r for r in welkin.cdt_records(patient["id"], "allergies")
    }
    assert records[f"{key}-a1"]["jsonBody"]["allergy"] == "Peanut"

    emu.reset_requests()
    second = run_target(config, cdt_messages(singer, key, "Mild"))
    assert second.summary["allergies_feed"]["unchanged"] == 2
    assert writes(emu.requests()) == 0

    emu.reset_requests()
    third = run_target(config, cdt_messages(singer, key, "Severe"))
    counts = emu.requests()
    assert third.summary["allergies_feed"]["updated"] == 1
    assert counts["PATCH /{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}/{recordId}"] == 1
    assert writes(counts) == 1
    records = {
        r["jsonBody"]["external_id"]: r for r in welkin.cdt_records(patient["id"], "allergies")
    }
    assert records[f"{key}-a1"]["jsonBody"]["severity"] == "Severe"
    assert len(records) == 2


def calendar_messages(singer, key, title):
    return [
        *singer.stream(
            "users",
            [{"id": f"{key}-u-src", "username": f"{key}-host", "email": f"{key}h@example.org"}],
        ),
        *singer.stream(
            "patients",
            [
                {
                    "id": f"{key}-p-src",
                    "externalId": f"{key}-p",
                    "firstName": "Ed",
                    "lastName": "Guexample",
                }
            ],
        ),
        *singer.stream(
            "calendar_events",
            [
                {
                    "externalId": f"{key}-ev",
                    "eventTitle": title,
                    "eventType": "APPOINTMENT",
                    "startDateTime": "2030-01-02T10:00:00+01:00",
                    "endDateTime": "2030-01-02T10:30:00Z",
                    "hostId": f"{key}-u-src",
                    "participants": [
                        {"participantId": f"{key}-u-src", "participantRole": "psm"},
                        {
                            "participantId": f"{key}-p-src",
                            "participantRole": "patient",
                            "firstName": "Ed",
                        },
                    ],
                }
            ],
        ),
    ]


def test_calendar_events_create_update_unchanged(emu, config, key, singer, welkin):
    first = run_target(config, calendar_messages(singer, key, "Intake"))
    assert first.summary["calendar_events"]["created"] == 1
    events = [e for e in welkin.events() if e["externalId"] == f"{key}-ev"]
    assert len(events) == 1
    event = events[0]
    host = welkin.user(f"{key}-host")
    patient = welkin.patient_by("EID", f"{key}-p")
    # Source ids were replaced by this instance's ids; datetimes sent in Welkin's format.
    assert event["hostId"] == host["id"]
    assert {p["participantId"] for p in event["participants"]} == {host["id"], patient["id"]}
    assert event["startDateTime"] == "2030-01-02T09:00:00.000Z"

    emu.reset_requests()
    second = run_target(config, calendar_messages(singer, key, "Intake"))
    assert second.summary["calendar_events"]["unchanged"] == 1
    assert writes(emu.requests()) == 0

    emu.reset_requests()
    third = run_target(config, calendar_messages(singer, key, "Intake (moved)"))
    counts = emu.requests()
    assert third.summary["calendar_events"]["updated"] == 1
    assert (
        counts["PATCH /{tenant}/{instance}/calendar/events/{eventId}"] == 1 and writes(counts) == 1
    )
    assert [e["eventTitle"] for e in welkin.events() if e["externalId"] == f"{key}-ev"] == [
        "Intake (moved)"
    ]


def encounter_messages(singer, key, notes):
    base = calendar_messages(singer, key, "unused")[:4]  # the user and the patient
    encounter = {
        "id": f"{key}-enc-src",
        "patientId": f"{key}-p-src",
        "cdtName": "__encounter__",
        "jsonBody": {
            "title": "Follow-up",
            "type": "etmp-follow-up",
            "notes": notes,
            "status": "DRAFT",
            "external_id": f"{key}-enc",
            "currentScheduledAppointment": {
                "eventTitle": "Follow-up",
                "startDateTime": "2030-02-01T11:00:00+01:00",
                "endDateTime": "2030-02-01T10:30:00.000Z",
                "hostId": f"{key}-u-src",
                "participants": [
                    {"participantId": f"{key}-u-src", "participantRole": "psm"},
                    {"participantId": f"{key}-p-src", "participantRole": "patient"},
                ],
            },
        },
    }
    return base + singer.stream("encounters", [encounter])


def test_encounters_create_update_unchanged(emu, config, key, singer, welkin):
    first = run_target(config, encounter_messages(singer, key, "first visit"))
    assert first.summary["encounters"]["created"] == 1
    patient = welkin.patient_by("EID", f"{key}-p")
    encounters = welkin.encounters(patient["id"])
    assert len(encounters) == 1
    body = encounters[0]["jsonBody"]
    assert body["templateName"] == "etmp-follow-up" and body["notes"] == "first visit"
    assert body["calendarEventId"]  # Welkin created the appointment's event
    [event] = [e for e in welkin.events() if e["id"] == body["calendarEventId"]]
    assert event["startDateTime"] == "2030-02-01T10:00:00.000Z"  # sent in Welkin's format

    emu.reset_requests()
    assert (
        run_target(config, encounter_messages(singer, key, "first visit")).summary["encounters"][
            "unchanged"
        ]
        == 1
    )
    assert writes(emu.requests()) == 0

    emu.reset_requests()
    third = run_target(config, encounter_messages(singer, key, "second visit"))
    counts = emu.requests()
    assert third.summary["encounters"]["updated"] == 1
    assert counts["PATCH /{tenant}/{instance}/patients/{patientId}/encounters/{encounterId}"] == 1
    assert writes(counts) == 1
    assert [e["jsonBody"]["notes"] for e in welkin.encounters(patient["id"])] == ["second visit"]


def test_write_modes_and_null_handling(emu, config, key, singer, welkin):
    existing = welkin.create_patient(
        {
            "externalId": f"{key}-old",
            "firstName": "Old",
            "lastName": "Nameexample",
            "phone": "+15550002222",
            "city": "Oslo",
        }
    )
    config["streams"] = {
        "inserts": {"resource": "patients", "write_mode": "insert"},
        "updates": {"resource": "patients", "write_mode": "update"},
        "clearing": {"resource": "patients", "null_handling": "send"},
    }
    run = run_target(
        config,
        [
            *singer.stream(
                "inserts",
                [
                    {"externalId": f"{key}-old", "firstName": "Changed", "lastName": "Nameexample"},
                    {"externalId": f"{key}-new", "firstName": "New", "lastName": "Oneexample"},
                ],
            ),
            *singer.stream(
                "updates",
                [
                    {
                        "externalId": f"{key}-old",
                        "firstName": "Updated",
                        "lastName": "Nameexample",
                        "phone": None,
                    }
                ],
            ),
        ],
    )
    assert run.summary["inserts"]["skipped"] == 1 and run.summary["inserts"]["created"] == 1
    assert run.summary["updates"]["updated"] == 1
    after = welkin.patient_by("EID", f"{key}-old")
    assert after["id"] == existing["id"]
    assert after["firstName"] == "Updated"  # insert mode left it alone, update mode patched it
    assert after["phone"] == "+15550002222"  # null omitted by default
    run = run_target(
        config,
        singer.stream(
            "clearing",
            [
                {
                    "externalId": f"{key}-old",
                    "firstName": "Updated",
                    "lastName": "Nameexample",
                    "phone": None,
                }
            ],
        ),
    )
    assert run.summary["clearing"]["updated"] == 1
    cleared = welkin.patient_by("EID", f"{key}-old")
    assert cleared["phone"] is None and cleared["city"] == "Oslo"  # sent null clears; others kept


def test_record_deleted_in_welkin_is_created_again(emu, config, key, singer, welkin):
    config["streams"] = {"cdt_allergies": {"patient_key": "externalId"}}
    patient = welkin.create_patient(
        {"externalId": f"{key}-p", "firstName": "A", "lastName": "Bexample"}
    )
    record = {"patientId": f"{key}-p", "external_id": f"{key}-a", "allergy": "Oat"}
    run_target(config, singer.stream("cdt_allergies", [record]))
    [created] = welkin.cdt_records(patient["id"], "allergies")
    welkin.client.request("DELETE", f"patients/{patient['id']}/cdts/allergies/{created['id']}")
    run = run_target(config, singer.stream("cdt_allergies", [{**record, "allergy": "Rye"}]))
    assert run.summary["cdt_allergies"]["created"] == 1
    assert [r["jsonBody"]["allergy"] for r in welkin.cdt_records(patient["id"], "allergies")] == [
        "Rye"
    ]


def test_reload_into_the_same_instance_matches_by_welkin_id(emu, config, key, singer, welkin):
    # Patients without any external key, read back whole (as tap-welkin emits them), fed
    # to a target with an empty id map: each is matched by its own Welkin id.
    made = [
        welkin.create_patient(
            {"firstName": f"{key}", "lastName": f"Lexample{i}", "birthDate": "1960-05-06"}
        )
        for i in range(3)
    ]
    records = [welkin.client.request("GET", f"patients/{p['id']}").json() for p in made]
    emu.reset_requests()
    run = run_target(config, singer.stream("patients", records))
    assert run.summary["patients"]["unchanged"] == 3
    assert writes(emu.requests()) == 0
    assert len(welkin.patients_with("firstName", key)) == 3
    emu.reset_requests()
    run_target(config, singer.stream("patients", [{**records[0], "city": "Bergen"}, *records[1:]]))
    counts = emu.requests()
    assert writes(counts) == 1 and counts["PATCH /{tenant}/{instance}/patients/{patientId}"] == 1
    assert welkin.client.request("GET", f"patients/{made[0]['id']}").json()["city"] == "Bergen"
