"""Unit tests of CDT field checks against a real formation's shapes (pure logic, no server)."""

from __future__ import annotations

import decimal

import pytest
from target_welkin.payload import cdt_field_specs, normalize
from target_welkin.rejects import RecordRejected

# As a real tenant's formation has them: string bounds, an INTEGER select, no `multiple`.
FORMATION = {
    "fields": [
        {"name": "weight", "type": "float", "editable": True, "valueType": None,
         "meta": {"required": False, "minValue": "0", "maxValue": "500"}},
        {"name": "pain", "type": "select", "editable": True, "valueType": "INTEGER",
         "meta": {"required": False, "options": [{"label": "0", "value": 0},
                                                 {"label": "1", "value": 1}]}},
        {"name": "mood", "type": "select", "editable": True, "valueType": "STRING",
         "meta": {"required": False, "options": [{"label": "Ok", "value": "Ok"}]}},
    ]
}  # fmt: skip


def test_string_bounds_are_numbers() -> None:
    specs, _ = cdt_field_specs(FORMATION)
    assert (specs["weight"].minimum, specs["weight"].maximum) == (0.0, 500.0)
    assert normalize("weight", specs["weight"], 72.5) == 72.5
    with pytest.raises(RecordRejected, match="field 'weight'"):
        normalize("weight", specs["weight"], 501)


def test_integer_select_takes_integers() -> None:
    specs, _ = cdt_field_specs(FORMATION)
    assert not specs["pain"].multiple  # meta.multiple absent: a single select
    assert normalize("pain", specs["pain"], 1) == 1
    assert normalize("pain", specs["pain"], decimal.Decimal(0)) == 0  # msgspec's numbers
    for wrong in ("1", 7, True):
        with pytest.raises(RecordRejected, match="field 'pain'"):
            normalize("pain", specs["pain"], wrong)
    assert normalize("mood", specs["mood"], "Ok") == "Ok"
    with pytest.raises(RecordRejected, match="field 'mood'"):
        normalize("mood", specs["mood"], 1)


def test_canonical_values_hash_alike_when_they_mean_the_same():
    from target_welkin.payload import FieldSpec, canonical

    when = FieldSpec("datetime")
    assert canonical(when, "2026-01-02T03:04:05Z") == canonical(when, "2026-01-02T03:04:05.000Z")
    assert canonical(FieldSpec("birthdate"), "1970-01-01") == canonical(
        FieldSpec("birthdate"), "1970-01-01T00:00:00.000Z"
    )
    assert canonical(FieldSpec("integer"), 3) == canonical(FieldSpec("float"), 3.0)
    people = FieldSpec("object_list", item_keys=("participantId", "participantRole"))
    sent = [
        {"participantId": "b", "participantRole": "psm"},
        {"participantId": "a", "participantRole": "patient"},
    ]
    enriched = [{**p, "name": "X"} for p in reversed(sent)]
    assert canonical(people, sent) == canonical(people, enriched)
    assert canonical(FieldSpec("text"), "Ada") == "Ada"
