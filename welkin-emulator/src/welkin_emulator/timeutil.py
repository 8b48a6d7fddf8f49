"""Timestamps in Welkin's wire formats.

Welkin sends UTC instants with milliseconds and ``Z`` (``2022-08-09T22:54:13.368Z``) and "local"
variants with an offset (``2022-06-28T16:00:00.000-07:00``). Internally the emulator keeps
instants as integer milliseconds since the epoch, which makes the strictly increasing write clock
(see :mod:`welkin_emulator.storage`) a matter of integer arithmetic, and the formatted UTC strings
sort lexicographically in time order, which is what lets SQLite index them as text.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return (datetime.now(timezone.utc) - _EPOCH) // timedelta(milliseconds=1)


def format_ms(ms: int) -> str:
    """Epoch milliseconds → ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    # time.gmtime + an f-string is several times faster than datetime.strftime (seeding calls
    # this hundreds of thousands of times).
    t = time.gmtime(ms // 1000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms % 1000:03d}Z"
    )


def format_local(ms: int, tz_name: str | None) -> str:
    """Epoch milliseconds → local time with offset, e.g. ``2022-06-28T07:00:00.000-07:00``.

    An event or record without a time zone is rendered in UTC as ``+00:00``, as recorded.
    """
    if not tz_name:  # the common case, as fast as format_ms (seeding renders many)
        return format_ms(ms)[:-1] + "+00:00"
    tz: timezone | ZoneInfo = timezone.utc
    if tz_name:
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            tz = timezone.utc
    dt = (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)
    off = dt.strftime("%z") or "+0000"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + off[:3] + ":" + off[3:]


def is_date(value: str) -> bool:
    """Whether ``value`` is a plain ``YYYY-MM-DD`` date."""
    if not _DATE_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse_instant(value: str) -> int | None:
    """Parse an ISO date or date-time (``Z``, offset or naive = UTC) into epoch milliseconds.

    Returns None when the text is not a valid ISO instant. A plain date means midnight UTC, the
    way the wrapper encodes dates.
    """
    value = value.strip()
    if is_date(value):
        dt = datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        return (dt - _EPOCH) // timedelta(milliseconds=1)
    if not _DATETIME_RE.match(value):
        return None
    text = value.replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat accepts at most 6 fractional digits and needs a colon offset.
    m = re.match(r"^(.*T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?([+-]\d{2}:?\d{2})?$", text)
    if not m:
        return None
    base, frac, off = m.group(1), m.group(2) or "", m.group(3) or "+00:00"
    if len(off) == 5:
        off = off[:3] + ":" + off[3:]
    frac = frac[:7]
    try:
        dt = datetime.fromisoformat(base + frac + off)
    except ValueError:
        return None
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def normalize_instant(value: str) -> str | None:
    """Re-format any accepted ISO instant as ``…mmmZ`` (None when invalid)."""
    ms = parse_instant(value)
    return None if ms is None else format_ms(ms)
