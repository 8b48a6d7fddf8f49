"""Discovery: one stream per CDT of the formation, each Welkin field type mapped to JSON Schema."""

from __future__ import annotations

from typing import Any

import tap_welkin_testkit as kit
from tap_welkin.streams import cdt_stream_name
from welkin_emulator.testing import EmulatorProcess

# Welkin field type (plus select's meta.multiple / valueType) → the JSON Schema we promise.
EXPECTED: dict[str, dict[str, Any]] = {
    "text": {"type": ["string", "null"]},
    "textarea": {"type": ["string", "null"]},
    "phone": {"type": ["string", "null"]},
    "email": {"type": ["string", "null"]},
    "select": {"type": ["string", "null"]},
    "integer-select": {"type": ["integer", "null"]},
    "multi-select": {"type": ["array", "null"], "items": {"type": "string"}},
    "integer": {"type": ["integer", "null"]},
    "float": {"type": ["number", "null"]},
    # No source shows a date value (a string, format unknown) or a checkbox value (open).
    "date": {"type": ["string", "null"]},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "checkbox": {},
}
ENVELOPE = {"id", "patientId", "cdtId", "cdtName", "version", "createdAt", "updatedAt"}
SYSTEM = {"created_at", "created_by", "created_by_name", "updated_at", "updated_by"}


def _kind(field: dict[str, Any]) -> str:
    if field["type"] == "select" and (field.get("meta") or {}).get("multiple"):
        return "multi-select"
    if field["type"] == "select" and field["valueType"] == "INTEGER":
        return "integer-select"
    return str(field["type"])


def test_each_cdt_field_type_is_typed(shared: EmulatorProcess, catalog: dict[str, Any]) -> None:
    formation = kit.WelkinApi(shared).call("GET", "formations/current/cdts")
    streams = {e["tap_stream_id"]: e["schema"] for e in catalog["streams"]}
    seen: set[str] = set()
    for cdt in formation:
        schema = streams[cdt_stream_name(cdt["name"])]
        assert schema["additionalProperties"] is True  # unknown fields are kept
        assert set(schema["properties"]) >= ENVELOPE | SYSTEM
        assert schema["properties"]["updatedAt"]["format"] == "date-time"
        for field in cdt["fields"]:
            if field["name"] in ENVELOPE:  # `id`: the envelope's, a required string
                continue
            kind = _kind(field)
            assert schema["properties"][field["name"]] == EXPECTED[kind], (cdt["name"], field)
            seen.add(kind)
    assert seen == set(EXPECTED), f"the seed lacks field types {set(EXPECTED) - seen}"


def test_cdt_records_are_flattened_with_welkin_names(
    shared: EmulatorProcess, baseline: kit.TapRun
) -> None:
    for item in kit.WelkinApi(shared).export("CDT_RECORD"):
        record = baseline.records[cdt_stream_name(item["cdtName"])][item["id"]]
        assert record["updatedAt"] == item["jsonBody"]["updated_at"]
        assert record["patientId"] == item["patientId"]
        for name, value in item["jsonBody"].items():
            assert record[name] == value, name


def test_cdts_setting_restricts_discovery(shared: EmulatorProcess) -> None:
    formation = kit.WelkinApi(shared).call("GET", "formations/current/cdts")
    wanted = formation[0]["name"]
    found = kit.discover(kit.tap_config(shared, cdts=[wanted]), name="discover-cdts")
    names = {e["tap_stream_id"] for e in found["streams"]}
    assert {n for n in names if n.startswith("cdt_")} == {"cdt_records", cdt_stream_name(wanted)}
    assert {"patients", "users", "encounters", "calendar_events"} <= names
    selected = {
        e["tap_stream_id"]
        for e in found["streams"]
        if e["metadata"][0]["metadata"].get("selected-by-default")
    }
    assert "cdt_records" not in selected
