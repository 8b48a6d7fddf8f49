"""Unit tests of the limits on written values (limits.py): each rule, each tier, strip mode."""

from __future__ import annotations

import datetime as dt

import pytest
from target_welkin.limits import ValueLimitsError, check_record, limits_of, shown_key
from target_welkin.payload import FieldSpec
from target_welkin.rejects import RecordRejected
from target_welkin.sinks.calendar import EVENT_FIELDS
from target_welkin.sinks.encounters import ENCOUNTER_FIELDS
from target_welkin.sinks.patients import PATIENT_FIELDS

KEYS = {"externalId", "externalGuid", "mrn", "id"}
MARK = "QZVLIM"


def _check(record, config=None, fields=PATIENT_FIELDS, keys=KEYS):
    return check_record(config or {}, fields, record, keys)


def _reason(record, config=None, fields=PATIENT_FIELDS, keys=KEYS) -> str:
    with pytest.raises(RecordRejected) as caught:
        _check(record, config, fields, keys)
    assert caught.value.error_code == "VALUE_LIMIT"
    assert caught.value.operation == "validate"
    assert MARK not in caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"firstName": MARK * 50}, "field 'firstName': longer than 255 characters"),
        ({"externalId": MARK + "x" * 300}, "'externalId': longer than 255 characters"),
        ({"id": MARK + "x" * 300}, "'id': longer than 255 characters (max_name_length)"),
        ({"city": MARK + "x" * 1000}, "'city': longer than 1000 characters (max_string_length)"),
        ({"firstName": f"{MARK}\x00"}, "'firstName': holds control or bidi-override"),
        ({"lastName": f"{MARK}\x1b[31m"}, "'lastName': holds control"),
        ({"lastName": f"\u202e{MARK}"}, "'lastName': holds control"),
        ({"lastName": f"\u2067{MARK}"}, "'lastName': holds control"),
        ({"lastName": f"{MARK}\x85"}, "'lastName': holds control"),
        ({"lastName": f"{MARK}\x7f"}, "'lastName': holds control"),
        ({"lastName": f"{MARK}\nx"}, "'lastName': holds control"),
        ({"primaryPhoneCapabilities": ["SMS", f"{MARK}\x07"]}, "'primaryPhoneCapabilities'"),
        ({"birthDate": "9999-12-31"}, "'birthDate': a date outside min_date..max_date"),
        ({"birthDate": "1850-01-01"}, "'birthDate': a date outside min_date..max_date"),
        ({"birthDate": "2150-06-01T00:00:00Z"}, "'birthDate': a birth date in the future"),
    ],
)
def test_a_value_over_a_limit_is_rejected_by_name(record, words):
    assert words in _reason(record)


def test_tiers_by_field_kind():
    long_note = "line one\n\tline two\r\n" * 1000
    assert _check({"notes": long_note}, fields=ENCOUNTER_FIELDS)["notes"] == long_note
    assert "max_text_length" in _reason(
        {"notes": MARK * 10_000}, config={"max_text_length": 100}, fields=ENCOUNTER_FIELDS
    )
    assert "control" in _reason({"notes": f"{MARK}\x00"}, fields=ENCOUNTER_FIELDS)
    # Inside objects: strings at any depth, and the keys too.
    deep = {"additionalInfo": {"a": [{"b": f"{MARK}\u202e"}]}}
    assert "'additionalInfo'" in _reason(deep, fields=EVENT_FIELDS)
    bad_key = {"participants": [{f"{MARK}\x1b": "x"}]}
    assert "'participants'" in _reason(bad_key, fields=EVENT_FIELDS)
    # Keys of the parent: the patient reference is held to the name tier.
    assert "'patientId'" in _reason(
        {"patientId": MARK * 100}, fields=ENCOUNTER_FIELDS, keys={"patientId"}
    )


def test_fields_outside_the_resource_are_left_to_the_payload_step():
    record = {"createdAt": f"{MARK}\x00", "unknownThing": MARK * 1000}
    assert _check(record) == record


def test_settings_move_the_limits():
    config = {"max_name_length": 5, "min_date": "2000-01-01", "max_date": "2030-12-31"}
    assert "longer than 5 characters" in _reason({"firstName": MARK}, config)
    assert "min_date" in _reason({"birthDate": "1999-12-31"}, config)
    event = {"startDateTime": "2031-01-01T00:00:00Z"}
    assert "'startDateTime'" in _reason(event, config, fields=EVENT_FIELDS)
    assert _check({"birthDate": "2000-01-01", "firstName": "Ann"}, config)
    with pytest.raises(ValueLimitsError, match="setting min_date: not a date"):
        limits_of({"min_date": "2020-02-30"})


def test_strip_mode_writes_the_rest():
    config = {"control_characters": "strip"}
    record = {"firstName": "An\x00n\u202e", "city": "a\tb\nc\x1b"}
    assert _check(record, config) == {"firstName": "Ann", "city": "abc"}
    fields = {**PATIENT_FIELDS, "city": FieldSpec("textarea")}  # multi-line: keeps tab, newline
    assert _check(record, config, fields)["city"] == "a\tb\nc"
    # Lengths still apply after stripping.
    assert "longer than" in _reason({"firstName": "\x00" + MARK * 60}, config)


def test_good_values_pass_unchanged():
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    record = {
        "externalId": "E-1",
        "firstName": "Zoë",
        "lastName": "\u05db\u05d4\u05df \u200f",  # Hebrew with a right-to-left mark (allowed)
        "birthDate": today,
        "city": "x" * 1000,
        "primaryPhoneCapabilities": ["SMS", "VOICE"],
        "gender": None,
    }
    assert _check(record) == record


def test_shown_key():
    assert shown_key("E-1")
    assert not shown_key("E\x1b1")
    assert not shown_key("E" * 256)
