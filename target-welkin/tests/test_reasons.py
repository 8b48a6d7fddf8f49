"""Unit tests of the specific reject reasons (reasons.py): each names the field, never a value."""

from __future__ import annotations

import jsonschema
import pytest
from target_welkin.reasons import missing_key, patient_reference, schema_mismatch
from target_welkin.rejects import RecordRejected

MARK = "QZVREASON"


def _first_error(schema, record):
    return next(iter(jsonschema.Draft7Validator(schema).iter_errors(record)))


def test_additional_properties_names_the_extra_fields():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "patternProperties": {"^x_": {}},
        "additionalProperties": False,
    }
    reject = schema_mismatch(_first_error(schema, {"a": MARK, "zz": MARK, "x_ok": 1, "b": 2}))
    assert (
        reject.reason == "field 'b,zz': does not match the stream's SCHEMA (additionalProperties)"
    )
    assert reject.error_code == "SCHEMA_MISMATCH"


def test_nested_paths_and_required_names():
    schema = {
        "type": "object",
        "properties": {"o": {"type": "object", "required": ["inner"]}},
        "required": ["top"],
    }
    assert "field 'top'" in schema_mismatch(_first_error(schema, {"o": {"inner": 1}})).reason
    reject = schema_mismatch(_first_error(schema, {"top": 1, "o": {"other": MARK}}))
    assert reject.reason.startswith("field 'o/inner'")
    unprintable = schema_mismatch(_first_error({"required": [f"{MARK}\x1b"]}, {}))
    assert MARK not in unprintable.reason and "(unprintable name)" in unprintable.reason


def test_missing_key_names_the_key_property():
    reject = missing_key(["externalId", "mrn"], {"mrn": MARK})
    assert reject.reason.startswith("field 'externalId': the record lacks this key property")
    assert reject.error_code == "MISSING_KEY"


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        (None, "MISSING_FIELD", "is missing"),
        ("", "MISSING_FIELD", "is missing"),
        ({"id": MARK}, "WRONG_TYPE", "expected a string"),
        ([MARK], "WRONG_TYPE", "expected a string"),
        (12, "WRONG_TYPE", "expected a string"),
    ],
)
def test_patient_reference(value, code, words):
    with pytest.raises(RecordRejected) as caught:
        patient_reference("patientId", value)
    assert caught.value.error_code == code
    assert caught.value.reason.startswith("field 'patientId': ")
    assert words in caught.value.reason and MARK not in caught.value.reason
    assert patient_reference("patientId", "P-1") == "P-1"
