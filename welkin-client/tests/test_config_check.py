"""The settings check: every problem named by setting, never by value."""

from __future__ import annotations

import pytest
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from welkin_client.config_check import check_config, is_iso_datetime, problems
from welkin_client.settings import CONNECTION_PROPERTIES, connection_problems

SCHEMA = th.PropertiesList(
    *CONNECTION_PROPERTIES,
    th.Property("start_date", th.DateTimeType),
    th.Property("mode", th.StringType, allowed_values=["a", "b"]),
).to_dict()
GOOD = {"tenant": "t", "instance": "i", "api_client": "c", "secret_key": "s"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-01-31", True),
        ("2024-01-31T08:00:00Z", True),
        ("2024-01-31T08:00:00.123+02:00", True),
        ("2024-01-31 08:00", True),
        ("01/02/2020", False),
        ("2024-02-30", False),
        ("2024-01-31T25:00:00Z", False),
        ("yesterday", False),
        (20240131, False),
    ],
)
def test_iso_datetimes(value: object, ok: bool) -> None:
    assert is_iso_datetime(value) is ok


def test_each_bad_setting_gets_one_line_without_its_value() -> None:
    config = {
        **GOOD,
        "secret_key": 918273645,
        "start_date": "01/02/2020",
        "mode": "zzz-unknown",
        "request_timeout": -1,
        "max_retries": "many",
    }
    found = problems(config, SCHEMA, (connection_problems,))
    assert found == [
        "Setting 'max_retries' is invalid: expected a whole number.",
        "Setting 'mode' is invalid: expected one of a, b.",
        "Setting 'request_timeout' is invalid: expected more than 0.",
        "Setting 'secret_key' is invalid: expected a string.",
        "Setting 'start_date' is invalid: expected an ISO 8601 date or date-time such as "
        "2024-01-31 or 2024-01-31T08:00:00Z (year first; no offset means UTC).",
    ]
    assert not [line for line in found if "918273645" in line or "zzz" in line or "many" in line]


def test_numeric_text_is_a_number_and_missing_settings_are_named() -> None:
    assert problems({**GOOD, "request_timeout": "30.5"}, SCHEMA) == []
    with pytest.raises(ConfigValidationError) as info:
        check_config({"tenant": "t", "instance": "i", "api_client": "c"}, SCHEMA)
    assert info.value.errors == ["Setting 'secret_key' is required and not set."]
