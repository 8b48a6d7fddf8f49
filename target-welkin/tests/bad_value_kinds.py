"""The bad records of the bad-value corpus (test_bad_values.py): one per kind, with its reject.

``{k}`` in a record or key stands for the run's key. Each bad value carries ``MARK``
(or is a date no good record holds), listed in ``hidden``: none may reach any output.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

MARK = "QZVVAL"
LOOSE = {"type": "object", "properties": {}, "additionalProperties": True}
STRICT = {
    "type": "object",
    "properties": {n: {"type": ["string", "null"]} for n in ("externalId", "mrn", "lastName")},
    "additionalProperties": False,
}
TEXT_LIMIT = 4096  # max_text_length of the run (a smaller line than the 65535 default)


@dataclass(frozen=True)
class Kind:
    """One bad record: its stream, body (``{k}`` is the run's key), reject and hidden values."""

    stream: str
    record: dict[str, t.Any]
    key: str  # the reject's key, ``{k}`` for the run's key
    code: str
    words: str
    hidden: tuple[str, ...] = (MARK,)


def _patient(name: str, **fields: t.Any) -> dict[str, t.Any]:
    return {"externalId": f"{{k}}-{name}", "lastName": "Vexample", **fields}


def _cdt(name: str, **fields: t.Any) -> dict[str, t.Any]:
    return {"patientId": "{k}-src", "external_id": f"{{k}}-{name}", **fields}


LIMIT = "VALUE_LIMIT"
CONTROL = "holds control or bidi-override characters"
RANGE = "a date outside min_date..max_date"

KINDS: dict[str, Kind] = {
    "first-name-1mb": Kind(
        "patients",
        _patient("v1", firstName=MARK * 150_000),
        "externalId={k}-v1",
        LIMIT,
        "'firstName': longer than 255 characters (max_name_length)",
    ),
    "last-name-256": Kind(
        "patients",
        {"externalId": "{k}-v2", "lastName": MARK + "x" * 250},
        "externalId={k}-v2",
        LIMIT,
        "'lastName': longer than 255 characters (max_name_length)",
    ),
    "city-over-string-length": Kind(
        "patients",
        _patient("v3", city=MARK + "y" * 1000),
        "externalId={k}-v3",
        LIMIT,
        "'city': longer than 1000 characters (max_string_length)",
    ),
    "nul-in-first-name": Kind(
        "patients", _patient("v4", firstName=f"{MARK}\x00a"), "externalId={k}-v4", LIMIT, CONTROL
    ),
    "esc-in-last-name": Kind(
        "patients",
        {"externalId": "{k}-v5", "lastName": f"\x1b[2J{MARK}"},
        "externalId={k}-v5",
        LIMIT,
        f"'lastName': {CONTROL}",
    ),
    "rlo-in-last-name": Kind(
        "patients",
        {"externalId": "{k}-v6", "lastName": f"\u202e{MARK}"},
        "externalId={k}-v6",
        LIMIT,
        f"'lastName': {CONTROL}",
    ),
    "isolate-in-city": Kind(
        "patients", _patient("v7", city=f"\u2066{MARK}"), "externalId={k}-v7", LIMIT, "'city'"
    ),
    "newline-in-first-name": Kind(
        "patients", _patient("v8", firstName=f"{MARK}\nB"), "externalId={k}-v8", LIMIT, CONTROL
    ),
    "c1-in-address": Kind(
        "patients",
        _patient("v9", addressLine1=f"{MARK}\x9b1m"),
        "externalId={k}-v9",
        LIMIT,
        "'addressLine1'",
    ),
    "del-in-phone": Kind(
        "patients", _patient("v10", phone=f"{MARK}\x7f"), "externalId={k}-v10", LIMIT, "'phone'"
    ),
    "bell-in-phone-capabilities": Kind(
        "patients",
        _patient("v11", primaryPhoneCapabilities=["SMS", f"{MARK}\x07"]),
        "externalId={k}-v11",
        LIMIT,
        "'primaryPhoneCapabilities'",
    ),
    "nul-in-email": Kind(
        "patients",
        _patient("v12", email=f"{MARK}@example.org\x00"),
        "externalId={k}-v12",
        LIMIT,
        "'email'",
    ),
    "birth-date-9999": Kind(
        "patients",
        _patient("v13", birthDate="9999-12-31"),
        "externalId={k}-v13",
        LIMIT,
        f"'birthDate': {RANGE}",
        ("9999-12-31",),
    ),
    "birth-date-1850": Kind(
        "patients",
        _patient("v14", birthDate="1850-03-17"),
        "externalId={k}-v14",
        LIMIT,
        f"'birthDate': {RANGE}",
        ("1850-03-17",),
    ),
    "birth-date-in-the-future": Kind(
        "patients",
        _patient("v15", birthDate="2143-05-17"),
        "externalId={k}-v15",
        LIMIT,
        "'birthDate': a birth date in the future",
        ("2143-05-17",),
    ),
    "birth-date-overflowing-utc": Kind(
        "patients",
        _patient("v16", birthDate="9999-12-31T23:00:00-05:00"),
        "externalId={k}-v16",
        "WRONG_TYPE",
        "'birthDate'",
        ("9999-12-31",),
    ),
    "external-id-with-esc": Kind(
        "patients",
        {"id": "{k}-v17", "externalId": f"{MARK}\x1b", "lastName": "Vexample"},
        "id={k}-v17",
        LIMIT,
        f"'externalId': {CONTROL}",
    ),
    "external-id-too-long": Kind(
        "patients",
        {"id": "{k}-v18", "externalId": MARK * 50, "lastName": "Vexample"},
        "id={k}-v18",
        LIMIT,
        "'externalId': longer than 255 characters",
    ),
    "source-id-too-long": Kind(
        "patients",
        {"id": MARK * 50, "lastName": "Vexample"},
        "None",
        LIMIT,
        "'id': longer than 255 characters",
    ),
    "extra-field-under-additional-properties-false": Kind(
        "strict_patients",
        {"externalId": "{k}-v20", "lastName": "Vexample", "shoeSize": f"{MARK}-44"},
        "externalId={k}-v20",
        "SCHEMA_MISMATCH",
        "field 'shoeSize': does not match the stream's SCHEMA (additionalProperties)",
    ),
    "missing-key-property": Kind(
        "strict_patients",
        {"mrn": "{k}-v21", "lastName": f"{MARK}example"},
        "mrn={k}-v21",
        "MISSING_KEY",
        "field 'externalId': the record lacks this key property",
    ),
    "patient-id-an-object": Kind(
        "cdt_allergies",
        {**_cdt("v22", allergy="Oat"), "patientId": {"id": f"{MARK}-p"}},
        "external_id={k}-v22",
        "WRONG_TYPE",
        "field 'patientId': expected a string (the patient reference)",
    ),
    "patient-id-too-long": Kind(
        "cdt_allergies",
        {**_cdt("v23", allergy="Oat"), "patientId": MARK * 50},
        "external_id={k}-v23",
        LIMIT,
        "'patientId': longer than 255 characters",
    ),
    "rlo-in-cdt-text": Kind(
        "cdt_allergies",
        _cdt("v24", allergy=f"Oat\u202d{MARK}"),
        "external_id={k}-v24",
        LIMIT,
        f"'allergy': {CONTROL}",
    ),
    "cdt-date-out-of-range": Kind(
        "cdt_cdt_insurance",
        _cdt("v25", **{"cdtf-member-id": "M1", "cdtf-start-date": "9998-11-30"}),
        "external_id={k}-v25",
        LIMIT,
        f"'cdtf-start-date': {RANGE}",
        ("9998-11-30",),
    ),
    "cdt-textarea-over-text-length": Kind(
        "cdt_cdt_vitals",
        _cdt("v26", **{"cdtf-notes": MARK * 700}),
        "external_id={k}-v26",
        LIMIT,
        f"'cdtf-notes': longer than {TEXT_LIMIT} characters (max_text_length)",
    ),
    "cdt-textarea-nul": Kind(
        "cdt_cdt_vitals",
        _cdt("v27", **{"cdtf-notes": f"line\n{MARK}\x00"}),
        "external_id={k}-v27",
        LIMIT,
        f"'cdtf-notes': {CONTROL}",
    ),
    "event-in-year-3000": Kind(
        "calendar_events",
        {
            "externalId": "{k}-v28",
            "startDateTime": "3000-01-01T10:00:00Z",
            "endDateTime": "3000-01-01T11:00:00Z",
        },
        "externalId={k}-v28",
        LIMIT,
        f"'startDateTime': {RANGE}",
        ("3000-01-01",),
    ),
    "event-participant-with-esc": Kind(
        "calendar_events",
        {
            "externalId": "{k}-v29",
            "participants": [{"participantId": f"{MARK}\x1b", "participantRole": "host"}],
        },
        "externalId={k}-v29",
        LIMIT,
        f"'participants': {CONTROL}",
    ),
    "event-additional-info-deep-nul": Kind(
        "calendar_events",
        {"externalId": "{k}-v30", "additionalInfo": {"a": [{"b": f"{MARK}\x00"}]}},
        "externalId={k}-v30",
        LIMIT,
        "'additionalInfo'",
    ),
    "encounter-title-with-osc": Kind(
        "encounters",
        _cdt("v31", title=f"\x1b]0;{MARK}\x07"),
        "external_id={k}-v31",
        LIMIT,
        f"'title': {CONTROL}",
    ),
    "encounter-type-alias-with-nul": Kind(
        "encounters",
        _cdt("v32", type=f"{MARK}\x00"),
        "external_id={k}-v32",
        LIMIT,
        f"'templateName': {CONTROL}",
    ),
    "username-with-newline": Kind(
        "users",
        {"id": "{k}-v33", "username": f"{MARK}\nadmin"},
        "id={k}-v33",
        LIMIT,
        f"'username': {CONTROL}",
    ),
    "user-first-name-too-long": Kind(
        "users",
        {"username": "{k}-v34", "firstName": MARK * 50},
        "username={k}-v34",
        LIMIT,
        "'firstName': longer than 255 characters",
    ),
    "unknown-field-named-with-esc": Kind(
        "patients",
        _patient("v35", **{f"{MARK}\x1b[8m": "x"}),
        "externalId={k}-v35",
        "UNKNOWN_FIELD",
        "field '(unprintable name)': not a writable field of Welkin patients",
    ),
}


def fill(value: t.Any, key: str) -> t.Any:  # noqa: ANN401
    """``value`` with ``{k}`` replaced by the run's key, at any depth."""
    if isinstance(value, str):
        return value.replace("{k}", key)
    if isinstance(value, list):
        return [fill(v, key) for v in value]
    if isinstance(value, dict):
        return {fill(k, key): fill(v, key) for k, v in value.items()}
    return value
