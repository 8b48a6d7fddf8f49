"""Pure functions: CDT stream names, field types, bookmarks and the lookback setting."""

from __future__ import annotations

import datetime as dt

import pytest
from tap_welkin.bookmarks import COMPLETE_KEY, Bound, bound_for, lowest, parse_lookback
from tap_welkin.extraction import surface_timestamps
from tap_welkin.streams import cdt_stream_name
from tap_welkin.streams.cdts import field_schema, flatten

T0 = "2025-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("machine_name", "expected"),
    [
        ("allergies", "cdt_allergies"),
        ("cdt-self-care", "cdt_cdt_self_care"),
        ("Vital Signs (2024)", "cdt_vital_signs_2024"),
        ("__weird--name__", "cdt_weird_name"),
    ],
)
def test_cdt_stream_name_rule(machine_name: str, expected: str) -> None:
    assert cdt_stream_name(machine_name, [machine_name]) == expected


def test_cdt_stream_names_stay_unique_valid_and_stable() -> None:
    names = ["a-b", "a_b", "records", "x" * 80]
    out = [cdt_stream_name(n, names) for n in names]
    assert len(set(out)) == len(out)
    assert all(len(n) <= 63 and n.isidentifier() and n == n.lower() for n in out)
    assert out[2] != "cdt_records"  # the all-CDT stream's name is reserved
    assert out == [cdt_stream_name(n, list(reversed(names))) for n in names]


def test_select_variants() -> None:
    # The select's valueType types its values; meta.multiple absent or false means single.
    string = {"type": "select", "valueType": "STRING", "meta": {"multiple": False}}
    assert field_schema(string) == {"type": ["string", "null"]}
    integer = {"type": "select", "valueType": "INTEGER", "meta": {"minValue": "0"}}
    assert field_schema(integer) == {"type": ["integer", "null"]}
    multiple = {"type": "select", "valueType": "INTEGER", "meta": {"multiple": True}}
    assert field_schema(multiple) == {"type": ["array", "null"], "items": {"type": "integer"}}
    # A value type no source shows stays open.
    assert field_schema({"type": "select", "valueType": "DECIMAL", "meta": {}}) == {}
    assert field_schema({"type": "select", "meta": {"multiple": True}}) == {
        "type": ["array", "null"],
        "items": {},
    }


@pytest.mark.parametrize("kind", ["mystery", "checkbox"])
def test_field_types_no_source_shows_are_open(kind: str) -> None:
    assert field_schema({"type": kind, "meta": {}}) == {}


def test_flatten_invents_no_nulls() -> None:
    record = {"id": "r", "cdtName": "c", "jsonBody": {"id": "r"}}
    assert flatten(record) == {"id": "r", "cdtName": "c"}


def test_flatten_keeps_unknown_fields() -> None:
    record = {"id": "r", "cdtName": "c", "updatedAt": T0, "jsonBody": {"id": "r", "new": 1}}
    assert flatten(record)["new"] == 1
    assert flatten(record)["id"] == "r"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 0), (3600, 3600), ("90", 90), ("PT1H", 3600), ("P1DT30M", 88200), ("pt0.5s", 0.5)],
)
def test_lookback_window(value: object, seconds: float) -> None:
    assert parse_lookback(value) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["P", "1 hour", "PT", "-5x"])
def test_lookback_window_rejects_garbage(value: str) -> None:
    with pytest.raises(ValueError, match="lookback_window"):
        parse_lookback(value)


def _state(complete: bool | None) -> dict[str, object]:
    state: dict[str, object] = {"replication_key": "updatedAt", "replication_key_value": T0}
    if complete is not None:
        state[COMPLETE_KEY] = complete
    return state


def test_bound_after_a_finished_run_is_exclusive() -> None:
    bound = bound_for(
        _state(True), replication_key="updatedAt", start_date=None, lookback=dt.timedelta()
    )
    assert not bound.keeps(T0)
    assert bound.keeps("2025-01-01T00:00:00.001Z")
    assert bound.request_start == "2024-12-31T23:59:59.999Z"


def test_bound_after_an_interrupted_run_keeps_the_boundary() -> None:
    bound = bound_for(
        _state(False), replication_key="updatedAt", start_date=None, lookback=dt.timedelta()
    )
    assert bound.keeps(T0)
    assert not bound.keeps("2024-12-31T23:59:59.999Z")


def test_bound_lookback_and_start_date() -> None:
    hour = dt.timedelta(hours=1)
    bound = bound_for(_state(True), replication_key="updatedAt", start_date=None, lookback=hour)
    assert bound.keeps("2024-12-31T23:00:00.000Z")
    later = bound_for(
        _state(True), replication_key="updatedAt", start_date="2025-06-01", lookback=hour
    )
    assert not later.keeps("2025-05-31T23:59:59.999Z")
    assert later.keeps("2025-06-01T00:00:00.000Z")
    fresh = bound_for({}, replication_key="updatedAt", start_date=None, lookback=hour)
    assert fresh == Bound(None)


def test_lowest_bound_covers_every_stream() -> None:
    a = bound_for(
        _state(True), replication_key="updatedAt", start_date=None, lookback=dt.timedelta()
    )
    b = Bound(a.floor - dt.timedelta(days=1))  # type: ignore[operator]
    assert lowest([a, b]) == b
    assert lowest([a, a]).exclusive
    assert lowest([a, Bound(None)]) == Bound(None)


def test_timestamps_come_from_json_body_when_missing_on_top() -> None:
    item = {"id": "r", "jsonBody": {"updated_at": T0, "created_at": "2024-01-01T00:00:00.000Z"}}
    assert surface_timestamps(item)["updatedAt"] == T0
    assert item["createdAt"] == "2024-01-01T00:00:00.000Z"
    top = {"id": "r", "updatedAt": "2026-01-01T00:00:00.000Z", "jsonBody": {"updated_at": T0}}
    assert surface_timestamps(top)["updatedAt"] == "2026-01-01T00:00:00.000Z"
    assert surface_timestamps({"id": "p", "updatedAt": T0}) == {"id": "p", "updatedAt": T0}
    bare = {"id": "r", "jsonBody": {"updated_at": T0}}  # no created_at: no createdAt key
    assert surface_timestamps(bare) == {"id": "r", "jsonBody": {"updated_at": T0}, "updatedAt": T0}
