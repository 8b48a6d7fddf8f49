"""Every setting checked before the first request: one line per bad setting, never its value.

singer-sdk's own validation quotes the offending value (``'x' is not of type 'integer'``),
which for ``secret_key`` is the secret, and it does not check formats, so a ``start_date``
of ``01/02/2020`` used to fail only after records were emitted. Here each problem becomes
``Setting 'start_date' is invalid: expected …``, built from the schema (type, enum,
range, format) and never from the value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import typing as t

import jsonschema
from singer_sdk.exceptions import ConfigValidationError

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# A check beyond the schema: returns (setting, what is expected) for each problem.
Check = t.Callable[[t.Mapping[str, t.Any]], "Iterable[tuple[str, str]]"]

_ISO_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)"
    r"(?P<offset>Z|z|[+-]\d{2}:?\d{2})?)?$"
)
DATETIME_EXPECTED = (
    "an ISO 8601 date or date-time such as 2024-01-31 or 2024-01-31T08:00:00Z "
    "(year first; no offset means UTC)"
)
# What a ``pattern`` asks for, in words, by pattern (the settings modules fill it in).
PATTERN_WORDS: dict[str, str] = {}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object (mapping)",
    "null": "null",
}


def is_iso_datetime(value: object) -> bool:
    """Whether ``value`` is an ISO 8601 date or date-time string that exists on the calendar."""
    if not isinstance(value, str):
        return False
    match = _ISO_DATETIME.match(value.strip())
    if not match:
        return False
    try:
        dt.date.fromisoformat(match["date"])
        if match["time"]:
            hms = match["time"].split(".")[0]
            dt.time.fromisoformat(hms if hms.count(":") == 2 else hms + ":00")  # noqa: PLR2004
    except ValueError:
        return False
    return True


def message(setting: str, expected: str) -> str:
    """The one line for a bad setting: its name and what is expected, never its value."""
    return f"Setting {setting!r} is invalid: expected {expected}."


def _expected(error: jsonschema.ValidationError) -> str:
    """What the schema asks for, in words, from the failing keyword alone."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword, rule = error.validator, error.validator_value
    if keyword == "type":
        types = [rule] if isinstance(rule, str) else list(rule)
        return " or ".join(
            _TYPE_WORDS.get(str(name), str(name)) for name in types if name != "null"
        )
    if keyword == "enum":
        return "one of " + ", ".join(str(v) for v in rule if v is not None)
    bounds = {
        "minimum": f"at least {rule}",
        "maximum": f"at most {rule}",
        "exclusiveMinimum": f"more than {rule}",
        "exclusiveMaximum": f"less than {rule}",
        "minLength": "a non-empty string" if rule == 1 else f"at least {rule} characters",
        "maxLength": f"at most {rule} characters",
        "minItems": f"at least {rule} items",
    }
    if keyword in bounds:
        return bounds[str(keyword)]
    if keyword == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        return f"only the keys {allowed}"
    if keyword == "pattern" and rule in PATTERN_WORDS:
        return PATTERN_WORDS[rule]
    return f"a value that satisfies the setting's {keyword} rule (see its description)"


def _setting_name(error: jsonschema.ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        path.append(str(missing[0]) if missing else "?")
    return ".".join(path) or "config"


def _walk_formats(
    schema: Mapping[str, t.Any], config: Mapping[str, t.Any]
) -> Iterable[tuple[str, str]]:
    """Date-time settings the SDK leaves unchecked (it validates without formats)."""
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        if value is None or not isinstance(prop, dict):
            continue
        if prop.get("format") in {"date-time", "date"} and not is_iso_datetime(value):
            yield name, DATETIME_EXPECTED


def _numbers_from_text(config: dict[str, t.Any], schema: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """``config`` with numeric text of ``number`` settings read as numbers.

    singer-sdk's ``--config ENV`` (what ``meltano test`` and ``meltano invoke`` can pass)
    converts integer and boolean variables but leaves numbers as text; the plugins read
    these settings with ``float()``, so numeric text is as good as a number.
    """
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        declared = prop.get("type") if isinstance(prop, dict) else None
        types = [declared] if isinstance(declared, str) else list(declared or [])
        if isinstance(value, str) and "number" in types and "string" not in types:
            with contextlib.suppress(ValueError):  # else reported as not a number
                config[name] = float(value)
    return config


def problems(
    config: Mapping[str, t.Any],
    schema: Mapping[str, t.Any],
    checks: Iterable[Check] = (),
) -> list[str]:
    """One message per bad setting (first problem of each), in setting order."""
    config = _numbers_from_text(dict(config), schema)
    found: dict[str, str] = {}
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        name = _setting_name(error)
        if error.validator == "required":
            found.setdefault(name, f"Setting {name!r} is required and not set.")
        else:
            found.setdefault(name, message(name, _expected(error)))
    for name, expected in _walk_formats(schema, config):
        found.setdefault(name, message(name, expected))
    for check in checks:
        try:
            for name, expected in check(config):
                found.setdefault(name, message(name, expected))
        except ConfigValidationError as refused:  # a check that raises its own lines
            found.setdefault(str(refused), str(refused))
    return list(found.values())


def check_config(
    config: Mapping[str, t.Any],
    schema: Mapping[str, t.Any],
    checks: Iterable[Check] = (),
) -> None:
    """Raise one ``ConfigValidationError`` listing every bad setting, before any request.

    Raises:
        ConfigValidationError: at least one setting is missing or malformed; its
            ``errors`` hold one line per setting, naming it and never its value.
    """
    errors = problems(config, schema, checks)
    if not errors:
        return
    raise ConfigValidationError(errors[0], errors=errors)
