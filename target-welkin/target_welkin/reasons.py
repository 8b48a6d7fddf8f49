"""Specific reject reasons for a record that does not fit its SCHEMA, its keys or its parent.

Each names the field (or fields) at fault and what was expected, never a value:
an extra field under ``additionalProperties: false`` is named, not ``(record)``;
a missing key property is named; a patient reference that is there but not a
string is the wrong type, not missing.
"""

from __future__ import annotations

import re
import typing as t

from target_welkin.limits import shown_key
from target_welkin.rejects import Code, Operation, RecordRejected

if t.TYPE_CHECKING:
    import jsonschema


def field_names(names: t.Iterable[object]) -> str:
    """Field names for a reason, comma-separated; a name unfit to show is replaced."""
    return ",".join(n if shown_key(n) else "(unprintable name)" for n in map(str, names))


def _extra_fields(error: jsonschema.ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    declared = schema.get("properties") or {}
    patterns = list((schema.get("patternProperties") or {}).keys())
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(
        name
        for name in map(str, instance)
        if name not in declared and not any(re.search(p, name) for p in patterns)
    )


def schema_mismatch(error: jsonschema.ValidationError) -> RecordRejected:
    """The reject for the first error of the stream's SCHEMA validator."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.validator_value, list):
        instance = error.instance if isinstance(error.instance, dict) else {}
        path.append(field_names(n for n in error.validator_value if n not in instance))
    elif error.validator == "additionalProperties" and error.validator_value is False:
        path.append(field_names(_extra_fields(error)))
    where = field_names(["/".join(p for p in path if p)]) if any(path) else "(record)"
    return RecordRejected(
        f"field '{where}': does not match the stream's SCHEMA ({error.validator})",
        operation=Operation.VALIDATE,
        error_code=Code.SCHEMA_MISMATCH,
        invalid=True,
    )


def missing_key(key_properties: t.Iterable[str], record: t.Mapping[str, t.Any]) -> RecordRejected:
    """The reject for a record lacking a key property of its SCHEMA (``key_properties``)."""
    missing = field_names(k for k in key_properties if k not in record)
    return RecordRejected(
        f"field '{missing}': the record lacks this key property named by its SCHEMA "
        "(key_properties)",
        operation=Operation.VALIDATE,
        error_code=Code.MISSING_KEY,
        invalid=True,
    )


def patient_reference(field: str, value: t.Any) -> str:  # noqa: ANN401
    """The patient reference of a record, as a non-empty string.

    Raises:
        RecordRejected: missing (absent, null, empty) or not a string.
    """
    if isinstance(value, str) and value:
        return value
    if value is None or value == "":
        reason, code = "the patient reference is missing", Code.MISSING_FIELD
    else:
        reason, code = "expected a string (the patient reference)", Code.WRONG_TYPE
    raise RecordRejected(
        f"field '{field}': {reason}", operation=Operation.VALIDATE, error_code=code, invalid=True
    )
