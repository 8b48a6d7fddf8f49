"""The data audit feed: every patient and CDT record change, deletes included (spec §4.11)."""

from __future__ import annotations

from emulator_kit import Api

ITEM_KEYS = [
    "eventId",
    "eventEntity",
    "subjectUsername",
    "subjectUserId",
    "subjectActor",
    "subjectFullName",
    "patientFullName",
    "patientId",
    "instance",
    "cdtName",
    "cdtRelation",
    "eventSubtype",
    "sentAt",
    "record",
]
META_KEYS = [
    "page",
    "pageSize",
    "totalElements",
    "numberOfElements",
    "lastPage",
    "firstPage",
    "totalPages",
]


def test_audit_feed_records_changes_and_deletes(api: Api) -> None:
    p = api.new_patient(firstName="Audit", lastName="Trail")
    api.patch(f"patients/{p['id']}", {"city": "Lund"})
    path = f"patients/{p['id']}/cdts/allergies"
    rec = api.post(path, {"allergy": "Dust"}).json()
    api.patch(f"{path}/{rec['id']}", {"severity": "Mild"})
    api.patch(path, {"rows": [{"id": rec["id"], "jsonBody": {"severity": "Severe"}}]})
    assert api.delete(f"{path}/{rec['id']}").status_code == 200

    body = api.get("admin/audit-data", params={"patientId": p["id"], "page": 0}).json()
    assert list(body) == ["data", "metaInfo"] and list(body["metaInfo"]) == META_KEYS
    events = body["data"]
    assert [e["eventSubtype"] for e in events] == [
        "PATIENT_CREATED",
        "PATIENT_UPDATED",
        "CDT_CREATED",
        "CDT_UPDATED",
        "CDT_UPDATED",
        "CDT_DELETED",
    ]
    for e in events:
        assert list(e) == ITEM_KEYS
        assert (e["subjectActor"], e["subjectUsername"], e["instance"]) == (
            "API_CLIENT",
            "DEMOCLIENT",
            "sandbox",
        )
        assert e["patientFullName"] == "Audit Trail"
    stamps = [e["sentAt"] for e in events]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    deleted = events[-1]
    assert deleted["eventEntity"] == "CDT" and deleted["cdtName"] == "allergies"
    assert list(deleted["record"]) == ["patientId", "jsonBody", "id", "cdtName", "cdtId", "version"]
    assert (
        deleted["record"]["id"] == rec["id"]
        and deleted["record"]["jsonBody"]["severity"] == "Severe"
    )
    assert events[1]["record"]["city"] == "Lund"

    only_deletes = api.get(
        "admin/audit-data", params={"patientId": p["id"], "operation": "DELETE"}
    ).json()
    assert [e["eventSubtype"] for e in only_deletes["data"]] == ["CDT_DELETED"]
    cdt_only = api.get("admin/audit-data", params={"patientId": p["id"], "entity": "CDT"}).json()
    assert cdt_only["metaInfo"]["totalElements"] == 4
    newest = api.get(
        "admin/audit-data", params={"patientId": p["id"], "sort": "createdAt,desc", "size": 1}
    ).json()
    assert (
        newest["data"][0]["eventSubtype"] == "CDT_DELETED"
        and newest["metaInfo"]["lastPage"] is False
    )
    since = api.get(
        "admin/audit-data", params={"patientId": p["id"], "dateStart": stamps[4]}
    ).json()
    assert [e["sentAt"] for e in since["data"]] == stamps[4:]
    bad = api.get("admin/audit-data", params={"dateStart": "soon"})
    assert bad.status_code == 400 and bad.json()[0]["details"]["field"] == "dateStart"
