"""Seeded data and served records have the shapes a real tenant's data has (fixtures/tenant_facts).

The recordings of 2022 show few optional keys; a real tenant's user list, newer patient records,
a full formation and the audit feed show more variety. A connector tested only against the 2022
shapes breaks on a real tenant, so the emulator serves that variety by default.
"""

from __future__ import annotations

from typing import Any

from emulator_kit import Api, load_fixture

FACTS = load_fixture("tenant_facts.json")
SEEDED_BEFORE = "2026-01-01"  # seeded timestamps fall in 2024-2025, API writes after them


def _all(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    body = api.get(path, params={"size": 1000, **params}).json()
    return body["data"] if "data" in body else body["content"]


def _kind(value: Any) -> str:  # noqa: ANN401
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "list_of_str"
    return type(value).__name__


def test_users_vary_as_a_real_tenants_do(api: Api) -> None:
    facts = FACTS["user"]
    # Seeded users (2024-2025); other tests add users through the API, shaped as recorded.
    users = [u for u in _all(api, "admin/users") if u["createdAt"] < SEEDED_BEFORE]
    keys = [set(u) for u in users]
    for user in users:
        assert set(user) <= set(facts["keys"])
        assert not set(facts["never"]) & set(user)
        assert isinstance(user["locale"], str)
        for territory in user["territories"]:
            assert list(territory) == facts["territory_keys"]
            assert territory["territories"]
            assert all(isinstance(name, str) for name in territory["territories"])
        for value in user.get("fullTerritoriesAccessInstances", []):
            assert isinstance(value, str)
    for key in facts["absent_on_some"]:
        with_key = sum(key in k for k in keys)
        assert 0 < with_key < len(users), f"{key} should be on some users only"
    assert any(u["territories"] for u in users) and any(not u["territories"] for u in users)
    kinds = {_kind(v) for u in users for v in u["customUserAttributes"].values()}
    assert kinds == set(facts["custom_attribute_kinds"])
    assert any(not u["customUserAttributes"] for u in users)
    assert sum("credentials" in k for k in keys) > len(users) / 2  # on most users


def test_patients_vary_as_real_records_do(api: Api) -> None:
    facts = FACTS["patient"]
    patients = _all(api, "export/PATIENT", pageSize=1000)
    contacts = [p["pointOfContact"] for p in patients]
    assert None in contacts
    objects = [c for c in contacts if c is not None]
    assert objects
    users = {u["id"] for u in _all(api, "admin/users")}
    for contact in objects:
        assert list(contact) == facts["point_of_contact_keys"]
        assert contact["pointOfContact"] is True and contact["id"] in users
    newer = [all(k in p for k in facts["keys_2023"]) for p in patients]
    assert any(newer) and not all(newer)
    assert all(p[k] is None for p in patients for k in facts["keys_2023"] if k in p)
    created = api.post("patients", {"firstName": "New", "lastName": "Patient"}).json()
    assert all(created[k] is None for k in facts["keys_2023"])  # new records: the newest shape


def test_formation_fields_are_shaped_as_a_real_formation(api: Api) -> None:
    facts = FACTS["formation"]
    cdts = api.get("formations/current/cdts").json()
    fields = [f for c in cdts for f in c["fields"]]
    selects = [f for f in fields if f["type"] == "select"]
    assert {f["valueType"] for f in selects} == set(facts["select_value_types"])
    for field in selects:
        kind = int if field["valueType"] == "INTEGER" else str
        assert all(type(o["value"]) is kind for o in field["meta"]["options"])
    singles = [f for f in selects if not f["meta"].get("multiple")]
    without = sum("multiple" not in f["meta"] for f in singles)
    assert without > len(singles) / 2
    bounds = [f["meta"][k] for f in fields for k in ("minValue", "maxValue") if k in f["meta"]]
    assert bounds and all(isinstance(b, str) for b in bounds)


def test_integer_select_values_are_integers(api: Api) -> None:
    cdts = {c["name"]: c for c in api.get("formations/current/cdts").json()}
    integer_fields = {
        (c, f["name"])
        for c, cdt in cdts.items()
        for f in cdt["fields"]
        if f["type"] == "select" and f["valueType"] == "INTEGER"
    }
    values = [
        item["jsonBody"][name]
        for item in _all(api, "export/CDT_RECORD", pageSize=1000)
        for cdt, name in integer_fields
        if item["cdtName"] == cdt
    ]
    set_values = [v for v in values if v is not None]
    assert set_values and all(type(v) is int for v in set_values)
    p = api.new_patient()
    ok = api.post(f"patients/{p['id']}/cdts/cdt-vitals", {"cdtf-pain-score": 3})
    assert ok.status_code == 201, ok.text
    wrong = api.post(f"patients/{p['id']}/cdts/cdt-vitals", {"cdtf-pain-score": "3"})
    assert wrong.status_code == 400
    assert wrong.json()[0]["details"]["field"] == "cdtf-pain-score"


def test_audit_feed_follows_the_real_feed(api: Api) -> None:
    facts = FACTS["audit"]
    host = api.active_user()
    p = api.new_patient()
    rec = api.post(f"patients/{p['id']}/cdts/allergies", {"allergy": "Dust"}).json()
    api.delete(f"patients/{p['id']}/cdts/allergies/{rec['id']}")
    enc = api.post(
        f"patients/{p['id']}/encounters",
        {"templateName": "etmp-follow-up", "ownerUserId": host["id"]},
    ).json()
    api.patch(f"patients/{p['id']}/encounters/{enc['id']}/disposition", {"uicedf-review": "done"})
    events = _all(api, "admin/audit-data", patientId=p["id"])
    relations = {e["cdtName"]: e["cdtRelation"] for e in events if e["cdtName"]}
    assert relations == {
        "allergies": "COMMON",
        "__encounter__": "ENCOUNTER",
        "__encounter_disposition__": "ENCOUNTER_DISPOSITION",
        "__encounter_assessment__": "ENCOUNTER_ASSESSMENT",  # the template's assessment link
    }
    assert set(relations.values()) - {facts["relations_beyond"]}
    assert sum(e["eventId"] is None for e in events) > len(events) / 2
    assert all(e["subjectFullName"] == facts["api_client_full_name_prefix"] + api.client
               for e in events)  # fmt: skip
