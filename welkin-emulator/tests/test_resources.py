"""Resource behaviour beyond the recorded shapes: lookups, filters, export semantics, time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from emulator_kit import Api

from welkin_emulator.testing import EmulatorProcess, seed_database


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def export_all(
    api: Api, kind: str, page_size: int, start: str | None = None
) -> tuple[list[dict], int]:
    items: list[dict] = []
    params: dict[str, object] = {"pageSize": page_size}
    if start:
        params["start"] = start
    calls = 0
    while True:
        calls += 1
        body = api.get(f"export/{kind}", params=params).json()
        data = body["data"]
        if data:
            assert body["cursor"]["end"] == data[-1]["updatedAt"]
        items += data
        if not body["cursor"]["hasNext"]:
            return items, calls
        params["start"] = body["cursor"]["end"]
        assert calls < 1000


def test_patient_lookups_by_external_keys(api: Api) -> None:
    p = api.new_patient(externalId="EXT-LOOKUP-1", externalGuid="guid-lookup-1", mrn="MRN-LOOKUP-1")
    for kind, key in (
        ("EID", "EXT-LOOKUP-1"),
        ("EGUID", "guid-lookup-1"),
        ("MRN", "MRN-LOOKUP-1"),
        ("ID", p["id"]),
    ):
        r = api.get(f"patients/{key}", params={"type": kind})
        assert r.status_code == 200 and r.json()["id"] == p["id"], kind
    r = api.get("patients/EXT-NOPE", params={"type": "EID"})
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "PATIENT_NOT_FOUND"
    # No uniqueness: a second patient with the same externalId is created (spec §11.6).
    assert api.new_patient(externalId="EXT-LOOKUP-1")["id"] != p["id"]


def test_patient_create_defaults_and_query(api: Api) -> None:
    p = api.new_patient(firstName="Quirinus", lastName="Zephyrine")
    assert (p["gender"], p["maritalStatus"], p["primaryLanguage"]) == ("UNKNOWN", "UKN", "ENGLISH")
    assert p["createdAt"] == p["updatedAt"]
    assert p["careTeam"] == p["cadence"] == p["patientTerritories"] == []
    found = api.get("patients", params={"query": "zephyr"}).json()["content"]
    assert [x["id"] for x in found] == [p["id"]]
    found = api.post("by-filter/patients", {"query": "quirinus"}).json()["content"]
    assert [x["id"] for x in found] == [p["id"]]


def test_updated_at_strictly_increases_across_the_database(api: Api) -> None:
    seeded_max = api.get("export/PATIENT", params={"pageSize": 1000}).json()["data"][-1][
        "updatedAt"
    ]
    p = api.new_patient()
    stamps = [p["updatedAt"]]
    for i in range(15):
        stamps.append(api.patch(f"patients/{p['id']}", {"city": f"C{i}"}).json()["updatedAt"])
        rec = api.post(f"patients/{p['id']}/cdts/cdt-self-care", {"cdtf-alone-time": "No"}).json()
        stamps.append(rec["jsonBody"]["updated_at"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[0] > seeded_max


def test_export_semantics(api: Api) -> None:
    items, calls = export_all(api, "PATIENT", 7)
    keys = [(x["updatedAt"], x["id"]) for x in items]
    assert keys == sorted(keys)
    unique = {x["id"] for x in items}
    total = api.post("by-filter/patients", {}, params={"size": 1}).json()["totalElements"]
    assert len(unique) == total
    # start is inclusive: each page repeats the previous page's last item, nothing else.
    assert len(items) - len(unique) == calls - 1
    middle = items[len(items) // 2]["updatedAt"]
    later, _ = export_all(api, "PATIENT", 1000, start=middle)
    assert all(x["updatedAt"] >= middle for x in later)
    assert later[0]["updatedAt"] == middle


def test_export_sees_updates_and_new_records(api: Api) -> None:
    last = api.get("export/PATIENT", params={"pageSize": 1000}).json()["data"][-1]
    p = api.new_patient()
    updated = api.patch(f"patients/{last['id']}", {"city": "Bergen"}).json()
    tail = api.get("export/PATIENT", params={"start": p["updatedAt"]}).json()
    assert [x["id"] for x in tail["data"]] == [p["id"], last["id"]]
    assert tail["data"][1] == updated  # export items have the single-GET shape
    assert tail["cursor"] == {
        "start": p["updatedAt"],
        "end": updated["updatedAt"],
        "hasNext": False,
    }


def test_cdt_and_encounter_export_items(api: Api) -> None:
    for kind, cdt_filter in (
        ("CDT_RECORD", lambda n: not n.startswith("__")),
        ("ENCOUNTER", lambda n: n == "__encounter__"),
    ):
        items, _ = export_all(api, kind, 50)
        assert items
        for item in items:
            assert cdt_filter(item["cdtName"])
            assert item["createdAt"] == item["jsonBody"]["created_at"]
            assert item["updatedAt"] == item["jsonBody"]["updated_at"]
            single = api.get(
                f"patients/{item['patientId']}/{'cdts/' + item['cdtName'] if kind == 'CDT_RECORD' else 'encounters'}/{item['id']}"
            ).json()
            assert {k: v for k, v in item.items() if k not in ("createdAt", "updatedAt")} == single


def test_export_with_an_empty_result_and_bad_input(api: Api) -> None:
    body = api.get("export/CALENDAR_EVENT", params={"start": "2999-01-01T00:00:00.000Z"}).json()
    assert body == {
        "data": [],
        "cursor": {
            "start": "2999-01-01T00:00:00.000Z",
            "end": "2999-01-01T00:00:00.000Z",
            "hasNext": False,
        },
    }
    r = api.get("export/PATIENT", params={"start": "yesterday"})
    assert r.status_code == 400 and r.json()[0]["details"]["field"] == "start"
    assert api.get("export/NOT_A_TYPE").status_code == 404


def test_cdt_list_date_filters_and_delete(api: Api) -> None:
    p = api.new_patient()
    path = f"patients/{p['id']}/cdts/allergies"
    ids = [api.post(path, {"allergy": f"A{i}"}).json() for i in range(3)]
    stamps = [r["jsonBody"]["updated_at"] for r in ids]
    page = api.get(path, params={"dateStart": stamps[1]}).json()
    assert [r["id"] for r in page["data"]["content"]] == [ids[1]["id"], ids[2]["id"]]
    page = api.get(path, params={"dateEnd": stamps[1]}).json()
    assert [r["id"] for r in page["data"]["content"]] == [ids[0]["id"]]
    assert api.delete(f"{path}/{ids[0]['id']}").status_code == 200
    assert api.get(path).json()["data"]["totalElements"] == 2
    assert api.delete(f"{path}/{ids[0]['id']}").status_code == 404


def test_encounter_lists_and_status_filter(api: Api) -> None:
    host = api.active_user()
    p = api.new_patient()
    e1 = api.post(
        f"patients/{p['id']}/encounters",
        {
            "templateName": "etmp-follow-up",
            "ownerUserId": host["id"],
            "activeUserId": host["id"],
            "instruction": "<p>x</p>",
            "startDatetime": "2025-05-05T10:00:00Z",
        },
    ).json()
    jb = e1["jsonBody"]
    assert (jb["ownerUserId"], jb["activeUserId"], jb["instruction"]) == (
        host["id"],
        host["id"],
        "<p>x</p>",
    )
    assert jb["activeUserName"] == jb["ownerUserName"] == f"{host['firstName']} {host['lastName']}"
    assert jb["startDatetime"] == "2025-05-05T10:00:00.000Z"
    api.post(f"patients/{p['id']}/encounters", {"templateName": "etmp-follow-up", "status": "OPEN"})
    drafts = api.get(f"patients/{p['id']}/encounters", params={"statuses": "DRAFT"}).json()
    assert [e["id"] for e in drafts["data"]] == [e1["id"]]
    both = api.get(f"patients/{p['id']}/encounters", params={"statuses": "DRAFT,OPEN"}).json()
    assert both["metaInfo"]["totalElements"] == 2
    scheduled = api.get(
        f"patients/{p['id']}/encounters", params={"onlyWithCalendarEvent": "True"}
    ).json()
    assert scheduled["metaInfo"]["totalElements"] == 0  # neither has a calendar event
    mine = api.get(
        f"users/{host['id']}/encounters", params={"withCareTeam": "False", "size": 1000}
    ).json()
    entry = next(e for e in mine["data"] if e["id"] == e1["id"])
    assert entry["jsonBody"]["patientInfo"] == {
        "patientId": p["id"],
        "firstName": "Test",
        "lastName": "Patient",
    }
    full = api.get(f"patients/{p['id']}/full-encounters/{e1['id']}").json()
    assert (
        full["encounter"]["id"] == e1["id"]
        and full["disposition"]["id"] == e1["jsonBody"]["dispositionId"]
    )
    disp = api.patch(
        f"patients/{p['id']}/encounters/{e1['id']}/disposition", {"uicedf-review": "done"}
    ).json()
    assert disp["jsonBody"]["uicedf-review"] == "done"


def test_calendar_filters_lookup_and_delete(api: Api) -> None:
    host = api.active_user()
    future = datetime.now(timezone.utc) + timedelta(days=30)
    past = datetime(2023, 3, 1, 9, tzinfo=timezone.utc)
    made = {}
    for name, start in (("future", future), ("past", past)):
        made[name] = api.post(
            "calendar/events",
            {
                "startDateTime": iso(start),
                "endDateTime": iso(start + timedelta(minutes=30)),
                "hostId": host["id"],
                "eventType": "APPOINTMENT",
                "externalId": f"cal-{name}-{start.timestamp()}",
                "participants": [{"participantId": host["id"], "participantRole": "psm"}],
            },
        ).json()
    window = {"from": iso(future - timedelta(hours=1)), "to": iso(future + timedelta(hours=1))}
    listed = api.get("calendar/events", params={**window, "participantIds": host["id"]}).json()[
        "content"
    ]
    assert made["future"]["id"] in [e["id"] for e in listed]
    assert (
        api.get("calendar/events", params={**window, "participantIds": "nobody"}).json()["content"]
        == []
    )
    assert (
        api.get("calendar/events", params={**window, "eventType": "ENCOUNTER"}).json()[
            "totalElements"
        ]
        == 0
    )
    ext = api.get(
        f"calendar/events/{made['past']['externalId']}", params={"type": "EXTERNAL_ID"}
    ).json()
    assert ext["id"] == made["past"]["id"]
    assert api.delete(f"calendar/events/{made['future']['id']}").status_code == 204
    r = api.get(f"calendar/events/{made['future']['id']}")
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "CALENDAR_EVENT_NOT_FOUND"
    assert api.delete(f"calendar/events/{made['past']['id']}").status_code == 204
    cancelled = api.get(f"calendar/events/{made['past']['id']}").json()
    assert cancelled["eventStatus"] == "CANCELLED"
    assert cancelled["updatedAt"] > made["past"]["updatedAt"]


def test_users_search_and_username_lookup(api: Api) -> None:
    user = api.active_user()
    found = api.get("admin/users", params={"search": user["lastName"].upper()}).json()["data"]
    assert user["id"] in [u["id"] for u in found]
    assert api.get(f"admin/users/{user['username']}").json()["id"] == user["id"]
    assert (
        api.get(f"admin/users/{user['id']}").status_code == 404
    )  # without type=ID it is a username
    made = api.post(
        "admin/users", {"username": f"new.person.{uuid.uuid4().hex[:6]}", "email": "n@example.com"}
    ).json()
    assert (made["userState"], made["enabled"]) == ("PROVISIONED", False)


def test_writes_are_visible_to_another_process(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    seed_database(db, 3, seed=1)
    with EmulatorProcess(db) as writer, EmulatorProcess(db) as reader:
        w, r = Api(writer), Api(reader)
        p = w.new_patient(externalId="X-PROC")
        assert r.get(f"patients/{p['id']}").json() == p
        # A token from one process is accepted by the other (the key lives in the database).
        assert (
            requests.get(
                f"{reader.api_url}/patients/{p['id']}",
                headers={"Authorization": f"Bearer {w.token}"},
                timeout=5,
            ).status_code
            == 200
        )
        q = r.new_patient()
        assert q["updatedAt"] > p["updatedAt"]


def test_patching_calendar_event_id_relinks_the_encounter(api: Api) -> None:
    host = api.active_user()
    p = api.new_patient()
    enc = api.post(f"patients/{p['id']}/encounters", {"templateName": "etmp-follow-up"}).json()
    assert enc["jsonBody"]["calendarEvent"] is None
    start = datetime(2026, 1, 5, 15, tzinfo=timezone.utc)
    ev = api.post(
        "calendar/events",
        {
            "startDateTime": iso(start),
            "endDateTime": iso(start + timedelta(hours=1)),
            "hostId": host["id"],
            "eventType": "ENCOUNTER",
        },
    ).json()
    linked = api.patch(
        f"patients/{p['id']}/encounters/{enc['id']}", {"calendarEventId": ev["id"]}
    ).json()["jsonBody"]
    assert linked["calendarEventId"] == ev["id"]
    assert linked["calendarEvent"] == linked["currentScheduledAppointment"] == ev
    assert linked["calendarEventStartDatetime"] == "2026-01-05T15:00:00.000Z"
    assert linked["localStartDatetime"] == "2026-01-05T15:00:00.000+00:00"
    r = api.patch(
        f"patients/{p['id']}/encounters/{enc['id']}", {"calendarEventId": "no-such-event"}
    )
    assert r.status_code == 400 and r.json()[0]["details"]["field"] == "calendarEventId"


def test_create_encounter_linked_to_an_existing_event(api: Api) -> None:
    host = api.active_user()
    p = api.new_patient()
    start = datetime(2026, 2, 1, 9, tzinfo=timezone.utc)
    ev = api.post(
        "calendar/events",
        {
            "startDateTime": iso(start),
            "endDateTime": iso(start + timedelta(hours=1)),
            "hostId": host["id"],
            "eventType": "ENCOUNTER",
        },
    ).json()
    before = api.get(
        "calendar/events", params={"from": iso(start), "to": iso(start + timedelta(hours=1))}
    ).json()
    enc = api.post(
        f"patients/{p['id']}/encounters",
        {"templateName": "etmp-follow-up", "calendarEventId": ev["id"]},
    )
    assert enc.status_code == 201
    body = enc.json()["jsonBody"]
    assert body["calendarEventId"] == ev["id"] and body["calendarEvent"] == ev
    assert body["ownerUserId"] == host["id"]
    after = api.get(
        "calendar/events", params={"from": iso(start), "to": iso(start + timedelta(hours=1))}
    ).json()
    assert after["totalElements"] == before["totalElements"]  # no second event
    r = api.post(
        f"patients/{p['id']}/encounters",
        {"templateName": "etmp-follow-up", "calendarEventId": "nope"},
    )
    assert r.status_code == 400 and r.json()[0]["details"]["field"] == "calendarEventId"


def test_encounters_show_the_current_state_of_their_event(api: Api) -> None:
    host = api.active_user()
    p = api.new_patient()
    start = datetime.now(timezone.utc) + timedelta(days=3)
    appt = {
        "startDateTime": iso(start),
        "endDateTime": iso(start + timedelta(hours=1)),
        "hostId": host["id"],
    }
    enc = api.post(
        f"patients/{p['id']}/encounters",
        {"templateName": "etmp-follow-up", "currentScheduledAppointment": appt},
    ).json()
    event_id = enc["jsonBody"]["calendarEventId"]
    renamed = api.patch(f"calendar/events/{event_id}", {"eventTitle": "Moved"}).json()
    now = api.get(f"patients/{p['id']}/encounters/{enc['id']}").json()["jsonBody"]
    assert now["calendarEvent"] == now["currentScheduledAppointment"] == renamed
    assert (
        now["updated_at"] == enc["jsonBody"]["updated_at"]
    )  # the encounter itself was not written
    assert api.delete(f"calendar/events/{event_id}").status_code == 204  # future event: removed
    gone = api.get(f"patients/{p['id']}/encounters/{enc['id']}").json()["jsonBody"]
    assert gone["calendarEvent"] is None and gone["calendarEventId"] is None


def test_concurrent_writes_get_unique_increasing_timestamps(api: Api) -> None:
    import concurrent.futures

    headers = dict(api.session.headers)

    def write(i: int) -> list[str]:
        with requests.Session() as s:
            s.headers.update(headers)
            out = []
            for j in range(10):
                r = s.post(
                    api.url("patients"),
                    json={"firstName": f"C{i}", "lastName": f"W{j}"},
                    timeout=10,
                )
                assert r.status_code == 201, r.text
                out.append(r.json()["updatedAt"])
            return out

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        per_thread = list(pool.map(write, range(8)))
    stamps = [s for chunk in per_thread for s in chunk]
    assert len(set(stamps)) == 80
    for chunk in per_thread:  # each client sees its own writes in increasing order
        assert chunk == sorted(chunk)
