"""Field checks and Welkin's value formats.

Field types use the vocabulary of Welkin's CDT formations (``text``,
``datetime``, ``date``, ``integer``, ``float``, ``checkbox``, ``select``) plus a
few for core resources (``birthdate``: a date sent as midnight UTC, which is how
Welkin stores patients' birth dates; ``text_list``; ``object``; ``object_list``).
Every failure names the field and what was expected, never the value.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import typing as t
from dataclasses import dataclass, field

from target_welkin.rejects import Code, Operation, RecordRejected

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STRING_TYPES = frozenset({"text", "textarea", "phone", "email"})


@dataclass(frozen=True)
class FieldSpec:
    """What one writable field accepts."""

    type: str
    options: frozenset[str | int] = field(default_factory=frozenset)
    multiple: bool = False
    #: A select whose ``valueType`` is ``INTEGER``: its values are integers.
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    #: Of a list of objects, the keys that are written (Welkin adds others to each item).
    item_keys: tuple[str, ...] = ()


def plain(value: t.Any) -> t.Any:  # noqa: ANN401
    """``value`` with Decimals (msgspec's floats) turned into int or float, recursively."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _wrong(name: str, expected: str) -> RecordRejected:
    return RecordRejected(
        f"field '{name}': expected {expected}",
        operation=Operation.VALIDATE,
        error_code=Code.WRONG_TYPE,
        invalid=True,
    )


def parse_instant(value: t.Any) -> dt.datetime | None:  # noqa: ANN401
    """A UTC datetime from an ISO-8601 string or datetime (naive means UTC), else None."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and len(value) >= 10:  # noqa: PLR2004 - shortest ISO date
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:  # year 1 or 9999 with an offset: no UTC instant exists
        return None


def welkin_datetime(instant: dt.datetime) -> str:
    """Welkin's datetime format: UTC with milliseconds and ``Z``."""
    utc = instant.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _as_date(name: str, value: t.Any) -> dt.date:  # noqa: ANN401
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _wrong(name, "a date (YYYY-MM-DD)") from None
    instant = parse_instant(value)
    if instant is None:
        raise _wrong(name, "a date (YYYY-MM-DD)")
    # A datetime stands for its calendar date in UTC (Welkin sends midnight UTC).
    return instant.astimezone(dt.timezone.utc).date()


def _number(name: str, value: t.Any, spec: FieldSpec, *, integer: bool) -> int | float:  # noqa: ANN401
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise _wrong(name, "an integer" if integer else "a number")
    number = plain(value)
    if integer and not isinstance(number, int):
        raise _wrong(name, "an integer")
    if spec.minimum is not None and number < spec.minimum:
        raise _wrong(name, "a value not below the field's minimum")
    if spec.maximum is not None and number > spec.maximum:
        raise _wrong(name, "a value not above the field's maximum")
    return t.cast("int | float", number)


def _is_option(value: t.Any, spec: FieldSpec) -> bool:  # noqa: ANN401
    if spec.integer:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _select(name: str, value: t.Any, spec: FieldSpec) -> str | int | list[str | int]:  # noqa: ANN401
    value = plain(value)
    kind = "an integer" if spec.integer else "a string"
    if spec.multiple:
        if not isinstance(value, list) or not all(_is_option(v, spec) for v in value):
            raise _wrong(name, "a list of option values")
        if spec.options and any(v not in spec.options for v in value):
            raise _wrong(name, "only values among the field's options")
        return list(value)
    if not _is_option(value, spec):
        raise _wrong(name, f"one option value ({kind})")
    if spec.options and value not in spec.options:
        raise _wrong(name, "one of the field's options")
    return t.cast("str | int", value)


def normalize(name: str, spec: FieldSpec, value: t.Any) -> t.Any:  # noqa: ANN401, PLR0911
    """``value`` checked against ``spec`` and converted to Welkin's format.

    Raises:
        RecordRejected: the value does not fit (the reason names the field only).
    """
    if value is None:
        return None
    kind = spec.type
    if kind in _STRING_TYPES:
        if not isinstance(value, str):
            raise _wrong(name, "a string")
        if kind == "email" and value and "@" not in value:
            raise _wrong(name, "an email address")
        return value
    if kind == "select":
        return _select(name, value, spec)
    if kind in ("integer", "float"):
        return _number(name, value, spec, integer=kind == "integer")
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise _wrong(name, "true or false")
        return value
    if kind == "datetime":
        instant = parse_instant(value)
        if instant is None:
            raise _wrong(name, "an ISO-8601 date-time")
        return welkin_datetime(instant)
    if kind == "date":
        return _as_date(name, value).isoformat()
    if kind == "birthdate":
        return _as_date(name, value).isoformat() + "T00:00:00.000Z"
    if kind == "text_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _wrong(name, "a list of strings")
        return list(value)
    if kind == "object":
        if not isinstance(value, dict):
            raise _wrong(name, "an object")
        return plain(value)
    if kind == "object_list":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _wrong(name, "a list of objects")
        return plain(value)
    return plain(value)


def cdt_field_specs(formation: t.Mapping[str, t.Any]) -> tuple[dict[str, FieldSpec], set[str]]:
    """Writable field specs and read-only field names of a CDT formation."""
    writable: dict[str, FieldSpec] = {}
    read_only: set[str] = set()
    for item in formation.get("fields") or []:
        name = item.get("name")
        if not isinstance(name, str):
            continue
        if not item.get("editable", True) or item.get("formula"):
            read_only.add(name)
            continue
        meta = item.get("meta") or {}
        options = frozenset(
            o.get("value")
            for o in meta.get("options") or []
            if isinstance(o.get("value"), (str, int)) and not isinstance(o.get("value"), bool)
        )
        writable[name] = FieldSpec(
            type=str(item.get("type") or "text"),
            options=options,
            multiple=bool(meta.get("multiple")),
            integer=item.get("valueType") == "INTEGER",
            minimum=_bound(meta.get("minValue")),
            maximum=_bound(meta.get("maxValue")),
            required=bool(meta.get("required")),
        )
    return writable, read_only


def _bound(raw: t.Any) -> float | None:  # noqa: ANN401
    """A field's ``minValue``/``maxValue``: Welkin sends them as strings ("0", "500")."""
    if raw is None or isinstance(raw, bool) or raw == "":
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None  # a bound we cannot read does not block a write; Welkin still checks


def _dict_list(value: t.Any) -> bool:  # noqa: ANN401
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def same_value(spec: FieldSpec | None, wanted: t.Any, current: t.Any) -> bool:  # noqa: ANN401
    """Whether Welkin's ``current`` value already equals ``wanted`` (formats compared as values)."""
    if wanted == current:
        return True
    if spec is not None and spec.type in ("datetime", "birthdate"):
        a, b = parse_instant(wanted), parse_instant(current)
        return a is not None and a == b
    if spec is not None and spec.type == "date" and isinstance(current, str):
        return isinstance(wanted, str) and current[:10] == wanted
    if _dict_list(wanted) and _dict_list(current) and len(wanted) == len(current):
        # Welkin enriches list items (participants get names, ids): compare what was sent.
        def projected(items: list[dict[str, t.Any]], keys: list[str]) -> list[str]:
            return sorted(repr([item.get(k) for k in keys]) for item in items)

        keys = sorted({k for item in wanted for k in item})
        return projected(wanted, keys) == projected(current, keys)
    if isinstance(wanted, (int, float)) and isinstance(current, (int, float)):
        return float(wanted) == float(current)
    return False


def canonical(spec: FieldSpec | None, value: t.Any) -> t.Any:  # noqa: ANN401
    """``value`` in one form per meaning, so equal values hash alike (see :func:`same_value`).

    Date-times become UTC with milliseconds, dates their ``YYYY-MM-DD``, numbers
    floats, lists of objects with ``item_keys`` their written keys in sorted order
    (Welkin enriches the items); anything else stays as it is.
    """
    value = plain(value)
    if value is None or spec is None:
        return value
    if spec.item_keys and _dict_list(value):
        items = [{k: item.get(k) for k in spec.item_keys} for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    if spec.type in ("datetime", "birthdate"):
        instant = parse_instant(value)
        return welkin_datetime(instant) if instant is not None else value
    if spec.type == "date" and isinstance(value, str):
        return value[:10]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value
