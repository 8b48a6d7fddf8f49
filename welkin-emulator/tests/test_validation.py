"""Writes are validated against formations and schemas: 400 VALIDATION_ERROR naming the field,
never echoing the value (spec §11.5)."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_kit import Api

SECRET = "S3cr3t-PHI-Value"  # a marker that must never appear in an error body


def assert_validation(r: Any, field: str) -> None:
    assert r.status_code == 400, r.text
    body = r.json()
    assert isinstance(body, list)
    fields = [item["details"]["field"] for item in body]
    assert field in fields, fields
    for item in body:
        assert item["errorCode"] == "VALIDATION_ERROR"
        assert set(item) == {"errorCode", "componentType", "message", "details", "date"}
    assert SECRET not in r.text


@pytest.fixture
def patient(api: Api) -> str:
    return api.new_patient()["id"]


@pytest.mark.parametrize(
    ("cdt", "field", "value"),
    [
        ("cdt-self-care", "cdtf-nope", SECRET),  # unknown field
        ("cdt-self-care", "cdtf-alone-time", SECRET),  # select: not an option
        ("cdt-self-care", "cdtf-unwind", [SECRET]),  # textarea: not a string
        ("cdt-vitals", "cdtf-height-cm", SECRET),  # integer
        ("cdt-vitals", "cdtf-height-cm", 1.5),  # integer, not a float
        ("cdt-vitals", "cdtf-weight-kg", SECRET),  # float
        ("cdt-vitals", "cdtf-weight-kg", 9999),  # above maxValue
        ("cdt-vitals", "cdtf-smoker", SECRET),  # checkbox
        ("cdt-vitals", "cdtf-measured-at", SECRET),  # datetime
        ("cdt-insurance", "cdtf-start-date", SECRET),  # date
        ("cdt-insurance", "cdtf-start-date", "2024-13-01"),  # impossible date
        ("cdt-insurance", "cdtf-plan-types", SECRET),  # multi-select needs a list
        ("cdt-insurance", "cdtf-plan-types", ["Dental", SECRET]),  # multi-select option
        ("cdt-insurance", "cdtf-payer-email", SECRET),  # email
        ("cdt-insurance", "cdtf-payer-phone", 5550100),  # phone is a string
        ("allergies", "created_at", "2024-01-01T00:00:00.000Z"),  # read-only system field
        ("allergies", "external_id", 12),  # editable system field, wrong type
    ],
)
def test_cdt_field_validation(api: Api, patient: str, cdt: str, field: str, value: Any) -> None:
    body: dict[str, Any] = {field: value}
    if cdt == "cdt-insurance" and field != "cdtf-member-id":
        body["cdtf-member-id"] = "M1"
    assert_validation(api.post(f"patients/{patient}/cdts/{cdt}", body), field)


def test_required_field_missing(api: Api, patient: str) -> None:
    assert_validation(
        api.post(f"patients/{patient}/cdts/cdt-insurance", {"cdtf-payer": "Aetna"}),
        "cdtf-member-id",
    )


def test_update_and_bulk_update_are_validated(api: Api, patient: str) -> None:
    rid = api.post(f"patients/{patient}/cdts/cdt-self-care", {"cdtf-alone-time": "Yes"}).json()[
        "id"
    ]
    assert_validation(
        api.patch(f"patients/{patient}/cdts/cdt-self-care/{rid}", {"cdtf-x": SECRET}), "cdtf-x"
    )
    rows = {"rows": [{"id": rid, "jsonBody": {"cdtf-alone-time": SECRET}}]}
    assert_validation(api.patch(f"patients/{patient}/cdts/cdt-self-care", rows), "cdtf-alone-time")
    # Nothing was written by the rejected requests.
    rec = api.get(f"patients/{patient}/cdts/cdt-self-care/{rid}").json()
    assert rec["jsonBody"]["cdtf-alone-time"] == "Yes"
    assert rec["jsonBody"]["updated_at"] == rec["jsonBody"]["created_at"]


def test_every_field_type_round_trips(api: Api, patient: str) -> None:
    values = {
        "cdtf-measured-at": "2025-03-01T10:00:00Z",
        "cdtf-weight-kg": 70.5,
        "cdtf-height-cm": 180,
        "cdtf-smoker": False,
        "cdtf-notes": "ok",
    }
    rec = api.post(f"patients/{patient}/cdts/cdt-vitals", values).json()["jsonBody"]
    assert rec["cdtf-measured-at"] == "2025-03-01T10:00:00.000Z"  # normalised to the wire format
    assert (rec["cdtf-weight-kg"], rec["cdtf-height-cm"], rec["cdtf-smoker"]) == (70.5, 180, False)
    ins = {
        "cdtf-member-id": "M1",
        "cdtf-payer": "Cigna",
        "cdtf-plan-types": ["Dental", "Vision"],
        "cdtf-start-date": "2024-02-29",
        "cdtf-payer-phone": "+18005550100",
        "cdtf-payer-email": "a@b.example",
        "external_id": "ext-1",
        "external_guid": "guid-1",
    }
    rec = api.post(f"patients/{patient}/cdts/cdt-insurance", ins).json()["jsonBody"]
    assert {k: rec[k] for k in ins} == ins


def test_unknown_cdt_and_patient(api: Api, patient: str) -> None:
    r = api.post(f"patients/{patient}/cdts/cdt-nope", {"a": 1})
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "CDT_NOT_FOUND"
    r = api.post(
        "patients/00000000-0000-4000-8000-000000000000/cdts/cdt-self-care",
        {"cdtf-alone-time": "Yes"},
    )
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "PATIENT_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"firstName": SECRET}, "lastName"),  # required
        ({"firstName": "A", "lastName": "B", "shoeSize": SECRET}, "shoeSize"),  # unknown
        ({"firstName": "A", "lastName": "B", "birthDate": SECRET}, "birthDate"),
        ({"firstName": "A", "lastName": 7}, "lastName"),
        ({"firstName": "A", "lastName": "B", "cadence": SECRET}, "cadence"),
    ],
)
def test_patient_create_validation(api: Api, body: dict[str, Any], field: str) -> None:
    assert_validation(api.post("patients", body), field)


def test_patient_update_validation_and_read_only_fields(api: Api, patient: str) -> None:
    assert_validation(api.patch(f"patients/{patient}", {"email": 12}), "email")
    r = api.patch(
        f"patients/{patient}",
        {"id": "ignored", "createdAt": "2000-01-01T00:00:00.000Z", "city": "Oslo"},
    )
    assert r.status_code == 200
    assert r.json()["id"] == patient and r.json()["city"] == "Oslo"
    assert r.json()["createdAt"] != "2000-01-01T00:00:00.000Z"


def test_user_calendar_and_encounter_validation(api: Api, patient: str) -> None:
    assert_validation(api.post("admin/users", {"username": SECRET}), "email")
    assert_validation(
        api.post("admin/users", {"username": "u1", "email": "e@x", "hobby": SECRET}), "hobby"
    )
    assert_validation(
        api.post(
            "calendar/events", {"startDateTime": SECRET, "endDateTime": "2025-01-01T00:00:00Z"}
        ),
        "startDateTime",
    )
    assert_validation(
        api.post(
            "calendar/events",
            {"startDateTime": "2025-01-02T00:00:00Z", "endDateTime": "2025-01-01T00:00:00Z"},
        ),
        "endDateTime",
    )
    assert_validation(
        api.post(f"patients/{patient}/encounters", {"templateName": SECRET}), "templateName"
    )
    assert_validation(
        api.post(
            f"patients/{patient}/encounters", {"templateName": "etmp-follow-up", "status": SECRET}
        ),
        "status",
    )


def test_malformed_json_body(api: Api) -> None:
    r = api.request(
        "POST",
        "patients",
        data=b"{not json " + SECRET.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert SECRET not in r.text
