"""Where an incremental read starts, and which records it keeps.

Welkin timestamps are UTC with milliseconds and ``Z``. A stream's bookmark is the
greatest ``updatedAt`` it emitted. The next run asks Welkin for everything from one
millisecond before the bookmark (minus ``lookback_window``), so an inclusive or an
exclusive server-side ``start``/``dateStart`` both return the boundary records, and
then filters on its own:

* after a run that finished, records *at* the bookmark were all emitted, so only
  records strictly newer are kept (a second run emits only what changed);
* after an interrupted run, records at the bookmark are kept too: some of them may
  not have been emitted, and a duplicate is better than a lost record;
* with a ``lookback_window``, everything from ``bookmark - lookback`` is kept.

Whether the last run finished is kept in the stream's state as ``"complete"``.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass

COMPLETE_KEY = "complete"
_ONE_MS = dt.timedelta(milliseconds=1)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_timestamp(value: str) -> dt.datetime:
    """Parse an ISO date or date-time; naive values are UTC."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def format_timestamp(value: dt.datetime) -> str:
    """Welkin's timestamp format: ``2022-08-09T22:54:13.368Z``."""
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_lookback(value: t.Any) -> dt.timedelta:  # noqa: ANN401 - config value
    """``lookback_window`` as a duration: seconds (number or numeric string) or ISO 8601.

    ISO 8601 durations use days, hours, minutes and seconds: ``PT1H``, ``P1D``, ``P1DT30M``.

    Raises:
        ValueError: the value is neither a number of seconds nor such a duration.
    """
    if value is None or value == "":
        return dt.timedelta(0)
    if isinstance(value, (int, float)):
        return dt.timedelta(seconds=float(value))
    text = str(value).strip().upper()
    try:
        return dt.timedelta(seconds=float(text))
    except ValueError:
        pass
    match = _ISO_DURATION.match(text)
    if not match or text in {"P", "PT"}:
        msg = f"lookback_window must be seconds or an ISO 8601 duration such as PT1H, not {value!r}"
        raise ValueError(msg)
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return dt.timedelta(**parts)


@dataclass(frozen=True)
class Bound:
    """The lower bound of one stream's read."""

    floor: dt.datetime | None
    exclusive: bool = False

    @property
    def request_start(self) -> str | None:
        """The value to send as ``start``/``dateStart``: one millisecond early (see module doc)."""
        return None if self.floor is None else format_timestamp(self.floor - _ONE_MS)

    def keeps(self, updated_at: str | None) -> bool:
        """Whether a record with this ``updatedAt`` belongs to the read."""
        if self.floor is None:
            return True
        if updated_at is None:
            # No timestamp to judge by: keeping it cannot lose data.
            return True
        value = parse_timestamp(updated_at)
        return value > self.floor if self.exclusive else value >= self.floor


def bound_for(
    state: t.Mapping[str, t.Any],
    *,
    replication_key: str,
    start_date: str | None,
    lookback: dt.timedelta,
) -> Bound:
    """The bound of a stream from its state and the ``start_date``/``lookback_window`` settings."""
    bookmark = None
    if state.get("replication_key") == replication_key:
        bookmark = state.get("replication_key_value")
    start = parse_timestamp(start_date) if start_date else None
    if not bookmark:
        return Bound(start)
    floor = parse_timestamp(str(bookmark)) - lookback
    exclusive = not lookback and state.get(COMPLETE_KEY) is True
    if start is not None and start > floor:
        return Bound(start)
    return Bound(floor, exclusive=exclusive)


def lowest(bounds: t.Iterable[Bound]) -> Bound:
    """The bound that includes every given bound (for one read shared by several streams)."""
    items = list(bounds)
    if not items or any(b.floor is None for b in items):
        return Bound(None)
    floor = min(t.cast("dt.datetime", b.floor) for b in items)
    return Bound(floor, exclusive=all(b.exclusive and b.floor == floor for b in items))
