"""Contract scenarios: tokens, patients, users, CDT records, CDT and encounter formations."""

from __future__ import annotations

import uuid

import requests
from contract_registry import RECORDINGS, scenario, token_request
from emulator_kit import Api


@scenario("test_token_get")
def _token_get(api: Api) -> list[requests.Response]:
    return [token_request(api)]


@scenario("test_token_refresh")
def _token_refresh(api: Api) -> list[requests.Response]:
    return [token_request(api), token_request(api)]


@scenario("test_patient_create")
def _patient_create(api: Api) -> list[requests.Response]:
    return [api.post("patients", {"firstName": "Foo", "lastName": "Bar"})]


@scenario("test_patient_create_birthdate")
def _patient_create_birthdate(api: Api) -> list[requests.Response]:
    r = api.post(
        "patients",
        {"firstName": "happy", "lastName": "borf", "birthDate": "2022-08-09T00:00:00.000Z"},
    )
    assert r.json()["birthDate"] == "2022-08-09T00:00:00.000Z"
    return [r]


@scenario("test_patient_read")
def _patient_read(api: Api) -> list[requests.Response]:
    p = api.new_patient()
    return [api.get(f"patients/{p['id']}")]


@scenario("test_patient_update")
def _patient_update(api: Api) -> list[requests.Response]:
    p = api.new_patient(firstName="Bar", lastName="Bar")
    before = api.get(f"patients/{p['id']}")
    after = api.patch(f"patients/{p['id']}", {"firstName": "Baz"})
    assert after.json()["firstName"] == "Baz"
    assert after.json()["updatedAt"] > before.json()["updatedAt"]
    assert after.json()["createdAt"] == before.json()["createdAt"]
    return [before, after]


@scenario("test_patient_delete")
def _patient_delete(api: Api) -> list[requests.Response]:
    p = api.new_patient()
    r = api.delete(f"patients/{p['id']}")
    details = r.json()[0]["details"]
    assert details["clientName"] == "DEMOCLIENT"
    assert details["organizationName"] == "demo"
    assert details["requestURI"] == f"/demo/sandbox/patients/{p['id']}"
    return [r]


@scenario("test_user_create", optional_keys=True)
def _user_create(api: Api) -> list[requests.Response]:
    return [
        api.post("admin/users", {"username": f"bar-{uuid.uuid4().hex[:8]}", "email": "bar@foo.com"})
    ]


@scenario("test_user_read", optional_keys=True)
def _user_read(api: Api) -> list[requests.Response]:
    user = api.post(
        "admin/users", {"username": f"foo-{uuid.uuid4().hex[:8]}", "email": "foo@bar.com"}
    ).json()
    api.patch(f"admin/users/{user['username']}", {"userState": "INACTIVE"})
    return [api.get(f"admin/users/{user['id']}", params={"type": "ID"})]


@scenario("test_user_update", optional_keys=True)
def _user_update(api: Api) -> list[requests.Response]:
    name = f"bar-{uuid.uuid4().hex[:8]}"
    user = api.post("admin/users", {"username": name, "email": "bar@foo.com"}).json()
    api.patch(f"admin/users/{name}", {"firstName": "Bar", "lastName": "Foo"})
    before = api.get(f"admin/users/{user['id']}", params={"type": "ID"})
    after = api.patch(f"admin/users/{name}", {"firstName": "Baz"})
    assert after.json()["firstName"] == "Baz"
    # Recorded quirk: the PATCH response keeps the old updatedAt.
    assert after.json()["updatedAt"] == before.json()["updatedAt"]
    return [before, after]


@scenario("test_exception")
def _exception(api: Api) -> list[requests.Response]:
    return [api.get("admin/users/me")]


@scenario("TestFormation.test_cdt_read")
def _formation_cdt(api: Api) -> list[requests.Response]:
    r = api.get("formations/current/cdts/allergies")
    recorded = RECORDINGS["TestFormation.test_cdt_read"]["exchanges"][0]["formation_fields"]
    fields = [
        [f["name"], f["type"], f["editable"], f["displayType"], f["valueType"]]
        for f in r.json()["fields"]
    ]
    assert fields == recorded
    return [r]


@scenario("TestFormation.test_encounter_read")
def _formation_encounter(api: Api) -> list[requests.Response]:
    r = api.get("formations/current/encounters/etmp-coaching-introduction")
    assert r.json()["assessmentNames"] == ["asm-coaching-notes", "asm-treatment-recommendations"]
    return [r]


def _cdt_record(api: Api) -> tuple[str, str]:
    p = api.new_patient()
    r = api.post(
        f"patients/{p['id']}/cdts/cdt-self-care",
        {"cdtName": "cdt-self-care", "cdtf-alone-time": "Yes"},
    )
    assert r.status_code == 201
    return p["id"], r.json()["id"]


@scenario("test_cdt_create")
def _cdt_create(api: Api) -> list[requests.Response]:
    p = api.new_patient()
    r = api.post(
        f"patients/{p['id']}/cdts/cdt-self-care",
        {"cdtName": "cdt-self-care", "cdtf-alone-time": "Yes"},
    )
    body = r.json()["jsonBody"]
    assert body["created_by_name"] == body["updated_by_name"] == "API_CLIENT:DEMOCLIENT"
    assert body["created_at"] == body["updated_at"]
    assert body["cdtf-alone-time"] == "Yes"
    assert body["cdtf-unwind"] is None
    return [r]


@scenario("test_cdt_patient_read")
def _cdt_read(api: Api) -> list[requests.Response]:
    pid, rid = _cdt_record(api)
    return [api.get(f"patients/{pid}/cdts/cdt-self-care/{rid}")]


@scenario("test_cdt_update")
def _cdt_update(api: Api) -> list[requests.Response]:
    pid, rid = _cdt_record(api)
    before = api.get(f"patients/{pid}/cdts/cdt-self-care/{rid}")
    after = api.patch(f"patients/{pid}/cdts/cdt-self-care/{rid}", {"cdtf-alone-time": "No"})
    assert after.json()["jsonBody"]["cdtf-alone-time"] == "No"
    assert after.json()["jsonBody"]["updated_at"] > before.json()["jsonBody"]["updated_at"]
    return [before, after]


@scenario("test_cdt_bulk_update")
def _cdt_bulk(api: Api) -> list[requests.Response]:
    pid, r1 = _cdt_record(api)
    r2 = api.post(f"patients/{pid}/cdts/cdt-self-care", {"cdtf-alone-time": "No"}).json()["id"]
    g1 = api.get(f"patients/{pid}/cdts/cdt-self-care/{r1}")
    g2 = api.get(f"patients/{pid}/cdts/cdt-self-care/{r2}")
    rows = [
        {"id": r1, "jsonBody": {"cdtf-alone-time": "Yes"}},
        {"id": r2, "jsonBody": {"cdtf-alone-time": "Yes"}},
    ]
    bulk = api.patch(f"patients/{pid}/cdts/cdt-self-care", {"rows": rows}, params={"page": 0})
    out = bulk.json()["rows"]
    assert [row["id"] for row in out] == [r1, r2]
    assert all(row["jsonBody"]["cdtf-alone-time"] == "Yes" for row in out)
    assert out[0]["jsonBody"]["updated_at"] < out[1]["jsonBody"]["updated_at"]
    return [g1, g2, bulk]


@scenario("test_cdt_delete")
def _cdt_delete(api: Api) -> list[requests.Response]:
    pid, rid = _cdt_record(api)
    path = f"patients/{pid}/cdts/cdt-self-care/{rid}"
    return [api.get(path), api.delete(path), api.get(path)]


@scenario("test_user_delete")
def _user_delete(api: Api) -> list[requests.Response]:
    user = api.post(
        "admin/users", {"username": f"foo-{uuid.uuid4().hex[:8]}", "email": "foo@bar.com"}
    ).json()
    return [api.delete(f"admin/users/{user['id']}", params={"type": "ID"})]


@scenario("TestFormation.test_encounter_disposition_read", skip=frozenset({"version"}))
def _formation_disposition(api: Api) -> list[requests.Response]:
    return [api.get("formations/current/encounter-disposition")]
