"""Limits on the values the target writes: length, control characters, dates.

Welkin documents no limits of its own and stores what it is sent (a 1 MB first
name, NUL and right-to-left-override characters, a birth date of 9999-12-31 all
reached it), so the target bounds what it writes, with settings whose defaults
fit a care-management record:

- length, per kind of field: names and keys (``max_name_length``), other
  one-line text (``max_string_length``), multi-line text and values inside
  objects (``max_text_length``);
- control characters: C0/C1 controls, DEL, the bidirectional embeddings,
  overrides and isolates (U+202A-U+202E, U+2066-U+2069) and lone surrogates are
  refused, or stripped with ``control_characters: strip``; tab, newline and
  carriage return are allowed in multi-line text only;
- dates: every date and date-time within ``min_date``..``max_date``; a birth
  date not after today.

A value breaking a limit rejects its record, with a reason naming the field and
the rule (never the value). :func:`check_record` is the one entry point.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import typing as t
from dataclasses import dataclass

from singer_sdk import typing as th

from target_welkin.payload import FieldSpec, parse_instant
from target_welkin.rejects import Code, Operation, RecordRejected

_BAD = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
#: Refused in multi-line text (tab, newline and carriage return are fine there).
_CONTROL_LONG = re.compile(f"[{_BAD}]")
#: Refused in one-line text: the above plus tab, newline, CR and the Unicode line breaks.
_CONTROL_SHORT = re.compile(f"[{_BAD}\t\n\r\u2028\u2029]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

#: Person names and user names: the ``max_name_length`` tier (keys are in it too).
NAME_FIELDS = frozenset({"firstName", "middleName", "lastName", "username"})
#: Free text Welkin shows as multi-line: the ``max_text_length`` tier.
LONG_TEXT_FIELDS = frozenset({"notes", "description", "eventDescription"})
_LONG_TYPES = frozenset({"textarea", "object", "object_list", "any"})
_DATE_TYPES = frozenset({"date", "datetime", "birthdate"})
#: A key longer than this, or holding a control character, is not shown in a reject.
SHOWN_KEY_LENGTH = 255

SETTINGS = (
    th.Property(
        "max_name_length",
        th.CustomType({"type": "integer", "minimum": 1}),
        default=255,
        description="Longest name, user name or key written, in characters (longer: a reject).",
    ),
    th.Property(
        "max_string_length",
        th.CustomType({"type": "integer", "minimum": 1}),
        default=1000,
        description="Longest other one-line text written, in characters (longer: a reject).",
    ),
    th.Property(
        "max_text_length",
        th.CustomType({"type": "integer", "minimum": 1}),
        default=65535,
        description=(
            "Longest multi-line text (notes, descriptions, CDT textareas) or text inside "
            "an object written, in characters (longer: a reject)."
        ),
    ),
    th.Property(
        "control_characters",
        th.StringType,
        default="reject",
        allowed_values=["reject", "strip"],
        description=(
            "A value holding control or bidi-override characters: `reject` the record, "
            "or `strip` the characters and write the rest."
        ),
    ),
    th.Property(
        "min_date",
        th.CustomType({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
        default="1900-01-01",
        description="Earliest date or date-time written (YYYY-MM-DD; earlier: a reject).",
    ),
    th.Property(
        "max_date",
        th.CustomType({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
        default="2199-12-31",
        description="Latest date or date-time written (YYYY-MM-DD; later: a reject).",
    ),
)


class ValueLimitsError(ValueError):
    """A limit setting that cannot be read (``min_date`` that is no date)."""


@dataclass(frozen=True)
class ValueLimits:
    """The limits of one run, from its settings."""

    max_name_length: int = 255
    max_string_length: int = 1000
    max_text_length: int = 65535
    strip: bool = False
    min_date: dt.date = dt.date(1900, 1, 1)
    max_date: dt.date = dt.date(2199, 12, 31)


def limits_of(config: t.Mapping[str, t.Any]) -> ValueLimits:
    """The limits the settings ask for (cached: called once per record).

    Raises:
        ValueLimitsError: ``min_date`` or ``max_date`` is not a calendar date.
    """
    return _limits(tuple(config.get(n) for n in _SETTING_NAMES))


_SETTING_NAMES = (
    "max_name_length",
    "max_string_length",
    "max_text_length",
    "control_characters",
    "min_date",
    "max_date",
)


@functools.lru_cache(maxsize=16)
def _limits(values: tuple[t.Any, ...]) -> ValueLimits:
    name, string, text, control, min_date, max_date = values
    default = ValueLimits()

    def date(setting: str, raw: str | None, fallback: dt.date) -> dt.date:
        if raw is None:
            return fallback
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            msg = f"setting {setting}: not a date (YYYY-MM-DD)"
            raise ValueLimitsError(msg) from None

    return ValueLimits(
        max_name_length=int(name or default.max_name_length),
        max_string_length=int(string or default.max_string_length),
        max_text_length=int(text or default.max_text_length),
        strip=control == "strip",
        min_date=date("min_date", min_date, default.min_date),
        max_date=date("max_date", max_date, default.max_date),
    )


def shown_key(value: str) -> bool:
    """Whether a key value may be shown in a reject (short, no control characters)."""
    return len(value) <= SHOWN_KEY_LENGTH and not _CONTROL_SHORT.search(value)


def _broken(name: str, rule: str) -> RecordRejected:
    return RecordRejected(
        f"field '{name}': {rule}",
        operation=Operation.VALIDATE,
        error_code=Code.VALUE_LIMIT,
        invalid=True,
    )


class _Checker:
    """Checks (and in strip mode cleans) the values of one record."""

    def __init__(self, limits: ValueLimits) -> None:
        self.limits = limits

    def text(self, name: str, value: str, *, tier: str) -> str:
        pattern = _CONTROL_LONG if tier == "max_text_length" else _CONTROL_SHORT
        if pattern.search(value):
            if not self.limits.strip:
                raise _broken(name, "holds control or bidi-override characters")
            value = pattern.sub("", value)
        if len(value) > getattr(self.limits, tier):
            raise _broken(name, f"longer than {getattr(self.limits, tier)} characters ({tier})")
        return value

    def nested(self, name: str, value: t.Any) -> t.Any:  # noqa: ANN401
        # Inside objects: keys and strings at any depth, as multi-line text.
        if isinstance(value, str):
            return self.text(name, value, tier="max_text_length")
        if isinstance(value, list):
            return [self.nested(name, v) for v in value]
        if isinstance(value, dict):
            return {
                self.text(name, str(k), tier="max_string_length"): self.nested(name, v)
                for k, v in value.items()
            }
        return value

    def date(self, name: str, spec: FieldSpec, value: t.Any) -> None:  # noqa: ANN401
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            day: dt.date | None = value
        elif isinstance(value, str) and _DATE.match(value) and len(value) == 10:  # noqa: PLR2004
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                day = None
        else:
            instant = parse_instant(value)
            day = instant.date() if instant else None
        if day is None:
            return  # not a date at all: the payload step rejects it as the wrong type
        if not self.limits.min_date <= day <= self.limits.max_date:
            raise _broken(name, "a date outside min_date..max_date")
        # A day of slack: "today" somewhere east of UTC.
        tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
        if spec.type == "birthdate" and day > tomorrow:
            raise _broken(name, "a birth date in the future")


def _tier(name: str, spec: FieldSpec | None, keys: t.Container[str]) -> str:
    if name in keys or name in NAME_FIELDS:
        return "max_name_length"
    if spec is not None and (spec.type in _LONG_TYPES or name in LONG_TEXT_FIELDS):
        return "max_text_length"
    return "max_string_length"


def check_record(
    config: t.Mapping[str, t.Any],
    fields: t.Mapping[str, FieldSpec],
    record: dict[str, t.Any],
    keys: t.Collection[str],
) -> dict[str, t.Any]:
    """``record`` checked against the limits: the fields of ``fields`` and the ``keys``.

    ``keys`` names the fields that identify the record or its parent (match keys,
    ``id``, the patient reference): they are held to ``max_name_length``. Other
    fields (read-only, unknown) are left to the payload step. In strip mode the
    returned record has its control characters removed.

    Raises:
        RecordRejected: a value breaks a limit (the reason names field and rule).
    """
    checker = _Checker(limits_of(config))
    checked = dict(record)
    for name, value in record.items():
        spec = fields.get(name)
        if value is None or (spec is None and name not in keys):
            continue
        tier = _tier(name, spec, keys)
        if isinstance(value, str):
            checked[name] = checker.text(name, value, tier=tier)
        elif isinstance(value, list) and tier != "max_text_length":  # text lists, selects
            checked[name] = [
                checker.text(name, v, tier=tier) if isinstance(v, str) else checker.nested(name, v)
                for v in value
            ]
        elif isinstance(value, (list, dict)):
            checked[name] = checker.nested(name, value)
        if spec is not None and spec.type in _DATE_TYPES:
            checker.date(name, spec, checked[name])
    return checked
