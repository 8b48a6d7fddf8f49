"""Validation of write bodies against formations and resource schemas (spec §11.5).

Problems are reported as ``(field name, reason)`` pairs; reasons describe the expected type and
never include the offending value, so patient data cannot leak through error bodies.
"""

from __future__ import annotations

from typing import Any

from .errors import validation_errors
from .formations import EDITABLE_SYSTEM_FIELDS, SYSTEM_FIELDS, user_fields
from .timeutil import is_date, normalize_instant

Problems = list[tuple[str, str]]
_SYSTEM = frozenset(n for n, _ in SYSTEM_FIELDS)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_field_value(field: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    """Check one CDT field value; return (normalised value, reason or None)."""
    if value is None:
        return None, None
    ftype = field["type"]
    meta = field.get("meta") or {}
    if ftype in ("text", "textarea", "phone", "email"):
        if not isinstance(value, str):
            return value, f"expected a string for a {ftype} field"
        if ftype == "email" and value and "@" not in value:
            return value, "expected an email address"
        return value, None
    if ftype == "select":
        allowed = {o["value"] for o in meta.get("options", [])}
        # The select's valueType is the type of its values (a real formation has INTEGER ones).
        integer = field.get("valueType") == "INTEGER"
        kind, kind_name = (int, "integer") if integer else (str, "string")
        if meta.get("multiple"):
            if not isinstance(value, list) or not all(_is_kind(v, kind) for v in value):
                return value, f"expected a list of option values (multi-select, {kind_name}s)"
            if allowed and any(v not in allowed for v in value):
                return value, "contains a value that is not one of the field's options"
            return value, None
        if not _is_kind(value, kind):
            return value, f"expected one option value ({kind_name})"
        if allowed and value not in allowed:
            return value, "not one of the field's options"
        return value, None
    if ftype == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value):
            return value, "expected an integer"
        return value, _range_problem(meta, value)
    if ftype == "float":
        if not (_is_int(value) or isinstance(value, float)):
            return value, "expected a number"
        return value, _range_problem(meta, value)
    if ftype == "checkbox":
        if not isinstance(value, bool):
            return value, "expected true or false"
        return value, None
    if ftype == "date":
        if not isinstance(value, str) or not is_date(value):
            return value, "expected a date (YYYY-MM-DD)"
        return value, None
    if ftype == "datetime":
        norm = normalize_instant(value) if isinstance(value, str) else None
        if norm is None:
            return value, "expected an ISO-8601 date-time"
        return norm, None
    return value, None


def _is_kind(value: Any, kind: type) -> bool:
    return _is_int(value) if kind is int else isinstance(value, kind)


def _range_problem(meta: dict[str, Any], value: float) -> str | None:
    # Welkin sends the bounds as strings ("0", "500").
    lo, hi = _bound(meta.get("minValue")), _bound(meta.get("maxValue"))
    if lo is not None and value < lo:
        return "below the field's minimum"
    if hi is not None and value > hi:
        return "above the field's maximum"
    return None


def _bound(raw: Any) -> float | None:
    try:
        return None if raw is None or raw == "" else float(raw)
    except (TypeError, ValueError):
        return None


def validate_cdt_values(
    cdt: dict[str, Any],
    values: dict[str, Any],
    *,
    creating: bool,
    ignore: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Validate a flat CDT body; return the normalised writable values or raise 400."""
    fields = {f["name"]: f for f in user_fields(cdt)}
    problems: Problems = []
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in ignore:
            continue
        if name in _SYSTEM:
            if name not in EDITABLE_SYSTEM_FIELDS:
                problems.append((name, "read-only system field"))
            elif value is not None and not isinstance(value, str):
                problems.append((name, "expected a string"))
            else:
                out[name] = value
            continue
        field = fields.get(name)
        if field is None:
            problems.append((name, f"unknown field for CDT '{cdt['name']}'"))
            continue
        norm, reason = check_field_value(field, value)
        if reason:
            problems.append((name, reason))
        else:
            out[name] = norm
    if creating:
        for name, field in fields.items():
            if (field.get("meta") or {}).get("required") and out.get(name) is None:
                problems.append((name, "required field is missing"))
    if problems:
        raise validation_errors("CDT", problems)
    return out


PATIENT_STRING_FIELDS = frozenset(
    {"externalGuid", "externalId", "mrn", "nric", "firstName", "lastName", "middleName", "gender",
     "maritalStatus", "primaryLanguage", "secondaryLanguage", "email", "secondaryEmail", "phone",
     "secondaryPhone", "country", "state", "city", "zip", "addressLine1", "addressLine2",
     "timezone", "patientRegion", "patientTerritory"}
)  # fmt: skip
PATIENT_LIST_FIELDS = frozenset(
    {"primaryPhoneCapabilities", "secondaryPhoneCapabilities", "patientTerritories",
     "careTeamMembers", "cadence"}
)  # fmt: skip
PATIENT_REQUIRED = ("firstName", "lastName")


def validate_patient(
    values: dict[str, Any], *, creating: bool, read_only: frozenset[str]
) -> dict[str, Any]:
    """Validate a patient create/update body; read-only keys are ignored (round trips work)."""
    problems: Problems = []
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in read_only:
            continue
        if name == "birthDate":
            if value is None:
                out[name] = None
            elif isinstance(value, str) and normalize_instant(value) is not None:
                out[name] = normalize_instant(value)
            else:
                problems.append((name, "expected a date or ISO-8601 date-time"))
        elif name in PATIENT_STRING_FIELDS:
            if value is not None and not isinstance(value, str):
                problems.append((name, "expected a string"))
            else:
                out[name] = value
        elif name in PATIENT_LIST_FIELDS:
            if not isinstance(value, list):
                problems.append((name, "expected a list"))
            else:
                out[name] = value
        else:
            problems.append((name, "unknown field for a patient"))
    if creating:
        for name in PATIENT_REQUIRED:
            if not out.get(name):
                problems.append((name, "required field is missing"))
    for name in PATIENT_REQUIRED:
        if name in out and not out[name] and not creating:
            problems.append((name, "must not be empty"))
    if problems:
        raise validation_errors("PATIENT", problems)
    return out


def validate_simple(
    component: str,
    values: dict[str, Any],
    *,
    writable: frozenset[str],
    read_only: frozenset[str] = frozenset(),
    required: tuple[str, ...] = (),
    strings: frozenset[str] = frozenset(),
    instants: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Generic validation: known keys, string types, ISO instants and required keys."""
    problems: Problems = []
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in read_only:
            continue
        if name not in writable:
            problems.append((name, "unknown field"))
            continue
        if name in instants and value is not None:
            norm = normalize_instant(value) if isinstance(value, str) else None
            if norm is None:
                problems.append((name, "expected an ISO-8601 date-time"))
                continue
            out[name] = norm
            continue
        if name in strings and value is not None and not isinstance(value, str):
            problems.append((name, "expected a string"))
            continue
        out[name] = value
    for name in required:
        if out.get(name) in (None, ""):
            problems.append((name, "required field is missing"))
    if problems:
        raise validation_errors(component, problems)
    return out
