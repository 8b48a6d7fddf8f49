"""The kit's record-against-SCHEMA check: it must catch a schema that lies, and name no value."""

from __future__ import annotations

from typing import Any

import pytest
import tap_welkin_testkit as kit

SCHEMA: dict[str, Any] = {
    "type": "SCHEMA",
    "stream": "patients",
    "key_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "pointOfContact": {"type": ["string", "null"]},
            "updatedAt": {"type": ["string", "null"], "format": "date-time"},
        },
        "additionalProperties": True,
    },
}


def _record(**values: Any) -> dict[str, Any]:  # noqa: ANN401
    return {"type": "RECORD", "stream": "patients", "record": {"id": "p-1", **values}}


def test_a_record_that_breaks_its_schema_fails_without_naming_the_value() -> None:
    secret = "d6a4b3c2-point-of-contact"
    lying = [SCHEMA, _record(pointOfContact={"id": secret, "pointOfContact": True})]
    with pytest.raises(AssertionError, match="1 schema violation") as caught:
        kit.records_by_stream(lying)
    assert "patients record 1: pointOfContact fails 'type'" in str(caught.value)
    assert secret not in str(caught.value)


def test_formats_are_checked() -> None:
    problems = kit.schema_violations([SCHEMA, _record(updatedAt="yesterday")])
    assert problems == ["patients record 1: updatedAt fails 'format' \"date-time\""]


def test_unknown_keys_and_missing_keys_pass() -> None:
    fine = [SCHEMA, _record(updatedAt="2026-07-01T10:00:00.000Z", brandNew=[1, "a"])]
    assert kit.records_by_stream(fine) == {"patients": {"p-1": fine[1]["record"]}}


def test_the_latest_schema_of_the_stream_applies() -> None:
    widened = {**SCHEMA, "schema": {**SCHEMA["schema"], "properties": {"pointOfContact": {}}}}
    record = _record(pointOfContact={"id": "u-1", "pointOfContact": True})
    assert kit.schema_violations([SCHEMA, widened, record]) == []
    assert len(kit.schema_violations([widened, SCHEMA, record])) == 1


def test_a_record_before_any_schema_is_a_violation() -> None:
    assert kit.schema_violations([_record()]) == ["patients record 1: no SCHEMA message before it"]
