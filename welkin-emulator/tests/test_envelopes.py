"""Every list envelope of the spec (§3), with item key sets taken from the recordings."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_contract import OPTIONAL_KEYS
from emulator_kit import Api, load_fixture

ENV = load_fixture("envelopes.json")
REC = {r["recording"]: r["exchanges"] for r in load_fixture("recordings.json")}
PATIENT_2023 = {"accessCode", "preferableInstancePhoneId"}
SYSTEM = [
    "id",
    "external_id",
    "external_guid",
    "created_at",
    "created_by",
    "created_by_name",
    "updated_at",
    "updated_by",
    "updated_by_name",
    "source_type",
    "source_name",
    "source_id",
]


def recorded_keys(recording: str, path: str = "", index: int = 0) -> set[str]:
    return set(REC[recording][index]["keys"][path])


def item_keys(item: str) -> set[str] | None:
    """Expected key set of a list item, or None when it depends on the CDT (checked separately)."""
    return {
        # The 2023 shape; a patient last written before 2023 lacks PATIENT_2023 (checked below).
        "patient": recorded_keys("fixtures/patient__TestPrograms.test_read"),
        "calendar_event": recorded_keys("test_calendar_event_create"),
        "cdt_record": recorded_keys("test_cdt_create"),
        "encounter": recorded_keys("test_encounter_create"),
        "user_scoped_encounter": recorded_keys("test_encounter_create"),
        "cdt_export": recorded_keys("test_cdt_create") | set(ENV["export_extra_keys"]),
        "encounter_export": recorded_keys("test_encounter_create") | set(ENV["export_extra_keys"]),
        "cdt_formation": recorded_keys("TestFormation.test_cdt_read"),
        "encounter_template": recorded_keys("TestFormation.test_encounter_read"),
        "user": None,
    }[item]


@pytest.fixture(scope="module")
def ids(emu) -> dict[str, str]:
    api = Api(emu)
    pid = None
    for p in api.post("by-filter/patients", {}, params={"size": 1000}).json()["content"]:
        if api.get(f"patients/{p['id']}/cdts/cdt-self-care").json()["data"]["totalElements"]:
            pid = p["id"]
            break
    assert pid, "seeded data should have cdt-self-care records"
    enc = api.get("export/ENCOUNTER", params={"pageSize": 1}).json()["data"][0]
    return {
        "patientId": pid,
        "cdtName": "cdt-self-care",
        "encounterPatientId": enc["patientId"],
        "ownerUserId": enc["jsonBody"]["ownerUserId"],
    }


def items_of(style: str, body: Any) -> list[Any]:
    if style == "spring_page":
        return body["content"]
    if style == "named_page":
        return body["data"]["content"]
    if style == "bare_array":
        return body
    return body["data"]


@pytest.mark.parametrize("endpoint", ENV["endpoints"], ids=lambda e: f"{e['method']} {e['path']}")
def test_list_envelope(api: Api, ids: dict[str, str], endpoint: dict[str, Any]) -> None:
    path = endpoint["path"].format(**ids)
    r = api.request(
        endpoint["method"], path, params=endpoint.get("params"), json=endpoint.get("json")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    style = ENV["styles"][endpoint["style"]]
    if endpoint["style"] == "bare_array":
        assert isinstance(body, list)
    else:
        assert list(body) == style["keys"]
    if endpoint["style"] == "spring_page":
        assert list(body["pageable"]) == style["pageable"]
        assert list(body["sort"]) == list(body["pageable"]["sort"]) == style["sort"]
        assert body["sort"]["sorted"] is bool(endpoint.get("sorted"))
        assert body["number"] == body["pageable"]["pageNumber"] == 0
        assert body["size"] == body["pageable"]["pageSize"] == 20  # default page size
        assert body["first"] is True
        assert body["numberOfElements"] == len(body["content"])
        assert body["last"] is (body["totalElements"] <= 20)
    if endpoint["style"] == "named_page":
        assert body["name"] == ids["cdtName"]
        assert list(body["data"]) == ENV["styles"]["spring_page"]["keys"]
    if endpoint["style"] == "meta_info":
        meta = body["metaInfo"]
        assert list(meta) == style["metaInfo"]
        assert meta["page"] == 0 and meta["pageSize"] == 20 and meta["firstPage"] is True
        assert meta["numberOfElements"] == len(body["data"])
    if endpoint["style"] == "cursor":
        assert list(body["cursor"]) == style["cursor"]
        assert len(body["data"]) <= 20  # default page size
        if len(body["data"]) < 20:
            assert body["cursor"]["hasNext"] is False
        assert body["cursor"]["end"] == body["data"][-1]["updatedAt"]
    items = items_of(endpoint["style"], body)
    assert items, "seeded data should make every list non-empty"
    want = item_keys(endpoint["item"])
    for item in items:
        if endpoint["item"] == "user":
            opt = OPTIONAL_KEYS[""]
            assert set(item) - opt == recorded_keys("test_user_read") - opt
        elif endpoint["item"] == "patient":
            assert set(item) | PATIENT_2023 == want
        else:
            assert set(item) == want
    if endpoint["item"] in ("cdt_record", "cdt_export"):
        formations = {c["name"]: c for c in api.get("formations/current/cdts").json()}
        for item in items:
            fields = [f["name"] for f in formations[item["cdtName"]]["fields"]]
            assert set(item["jsonBody"]) == set(fields)
    if endpoint["item"] == "user_scoped_encounter":
        rule = ENV["user_scoped_encounter"]
        enc_keys = recorded_keys("test_encounter_create", "jsonBody")
        for item in items:
            assert all(item[k] is None for k in rule["envelope_nulls"])
            assert set(item["jsonBody"]) == (enc_keys - set(rule["dropped"])) | {"patientInfo"}
            assert list(item["jsonBody"]["patientInfo"]) == rule["patientInfo"]


def test_pages_are_zero_based_and_cover_everything(api: Api) -> None:
    total = api.post("by-filter/patients", {}, params={"size": 1}).json()["totalElements"]
    seen, page = [], 0
    while True:
        body = api.post("by-filter/patients", {}, params={"page": page, "size": 7}).json()
        seen += [p["id"] for p in body["content"]]
        assert body["number"] == page and body["pageable"]["offset"] == page * 7
        assert body["first"] is (page == 0)
        if body["last"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total
    assert body["totalPages"] == page + 1


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("admin/users", {"size": 5000}),
        ("patients", {"size": 5000}),
        ("export/PATIENT", {"pageSize": 5000}),
        ("export/PATIENT", {"size": 5000}),
    ],
)
def test_page_size_is_clamped_at_1000(api: Api, path: str, params: dict[str, int]) -> None:
    body = api.get(path, params=params).json()
    if "metaInfo" in body:
        assert body["metaInfo"]["pageSize"] == 1000
    elif "cursor" in body:
        assert len(body["data"]) <= 1000
    else:
        assert body["size"] == 1000


def test_export_accepts_size_as_well_as_page_size(api: Api) -> None:
    assert len(api.get("export/PATIENT", params={"size": 3}).json()["data"]) == 3
    assert len(api.get("export/PATIENT", params={"pageSize": 4}).json()["data"]) == 4


def test_size_1000_is_honoured(api: Api) -> None:
    body = api.get("admin/users", params={"size": 1000, "page": 0}).json()
    assert body["metaInfo"]["pageSize"] == 1000
    assert body["metaInfo"]["lastPage"] is True
    assert len(body["data"]) == body["metaInfo"]["totalElements"]


@pytest.mark.parametrize(
    ("value", "cancelled_included"),
    [("True", True), ("true", True), ("False", False), ("false", False), (None, False)],
)
def test_booleans_accept_both_spellings(
    api: Api, value: str | None, cancelled_included: bool
) -> None:
    params = {"from": "2020-01-01T00:00:00.000Z", "to": "2030-01-01T00:00:00.000Z", "size": 1000}
    if value is not None:
        params["includeCancelled"] = value
    statuses = {
        e["eventStatus"] for e in api.get("calendar/events", params=params).json()["content"]
    }
    assert ("CANCELLED" in statuses) is cancelled_included


def test_sort_parameter(api: Api) -> None:
    body = api.get("patients", params={"sort": "lastName,desc", "size": 1000}).json()
    names = [p["lastName"] for p in body["content"]]
    assert names == sorted(names, reverse=True)
    assert body["sort"]["sorted"] is True
    events = api.get(
        "calendar/events",
        params={"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z", "size": 1000},
    ).json()["content"]
    starts = [e["startDateTime"] for e in events]
    assert starts == sorted(starts)
