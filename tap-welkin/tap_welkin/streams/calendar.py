"""Calendar events (instance-level)."""

from __future__ import annotations

import datetime as dt
import sys
import typing as t

from tap_welkin import schemas
from tap_welkin.bookmarks import format_timestamp, parse_timestamp
from tap_welkin.extraction import IncrementalStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_welkin.bookmarks import Bound

#: The fallback scans event times from here...
HISTORY_START = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
#: ...to this far ahead of now, one window a year.
FUTURE_HORIZON = dt.timedelta(days=5 * 366)
WINDOW = dt.timedelta(days=366)


def windows(now: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Consecutive ``[from, to)`` windows covering every event time the fallback reads."""
    start, end = HISTORY_START, now + FUTURE_HORIZON
    while start < end:
        yield start, min(start + WINDOW, end)
        start += WINDOW


class CalendarEventsStream(IncrementalStream):
    """Every calendar event, cancelled ones included.

    From ``export/CALENDAR_EVENT``, or ``GET calendar/events``, whose ``from``/``to``
    filter on the event's time rather than on ``updatedAt``: the fallback walks
    yearly windows from 2000 to five years ahead and keeps what changed. An event
    is taken from the window its ``startDateTime`` falls in, so one that spans two
    windows is emitted once.
    """

    name = "calendar_events"
    schema = schemas.CALENDAR_EVENT
    export_type = "CALENDAR_EVENT"
    rest_route = "GET /{tenant}/{instance}/calendar/events"

    @override
    def rest_records(self, bound: Bound) -> Iterator[dict[str, t.Any]]:
        for start, end in windows(dt.datetime.now(dt.timezone.utc)):
            seen: set[str] = set()  # Welkin may repeat an event across pages
            params = {
                "from": format_timestamp(start),
                "to": format_timestamp(end),
                "includeCancelled": "true",
                "size": self.page_size,
            }
            for page in self.fetch_pages("calendar/events", self.paginator_class(), params=params):
                for event in page:
                    begins = event.get("startDateTime")
                    if begins and not start <= parse_timestamp(begins) < end:
                        continue
                    if event["id"] not in seen:
                        seen.add(event["id"])
                        yield event
