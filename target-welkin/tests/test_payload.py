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
