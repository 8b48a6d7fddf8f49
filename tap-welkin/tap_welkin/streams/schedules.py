"""Users' work hours: the rules of when each care team member works."""

from __future__ import annotations

import datetime as dt
import sys
import typing as t

from welkin_client.pagination import MetaInfoPaginator

from tap_welkin import schemas_care
from tap_welkin.bookmarks import format_timestamp, parse_timestamp
from tap_welkin.client import WelkinStream
from tap_welkin.pages import BareListPaginator

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Users per ``calendar/work-hours`` request (a recorded request named 52).
USERS_PER_REQUEST = 50
#: The window's start when ``start_date`` is not set: rules in force since then.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class WorkHoursStream(WelkinStream):
    """Work-hour rules of every user, from ``GET calendar/work-hours`` (spec 4.6).

    The endpoint wants the users (``psmIds``, required since 2026) and a time window, and
    answers each user's rules in force in it: the users come from ``admin/users`` (one
    request per 1000), their rules 50 users a request, in a window from ``start_date`` (else
    2000) to five years ahead. Full table: the endpoint filters by that window, not by
    update time.
    """

    name = "work_hours"
    path = "calendar/work-hours"
    schema = schemas_care.WORK_HOURS
    primary_keys: t.ClassVar[tuple[str, ...]] = ("workHoursId",)  # type: ignore[misc]
    replication_key = None

    @override
    def get_records(self, context: t.Any) -> Iterator[dict[str, t.Any]]:  # noqa: ANN401
        users = self.tap.welkin.paginate(
            "users", MetaInfoPaginator(), params={"size": 1000}, admin=True
        )
        ids = [str(user["id"]) for user in users if user.get("id")]
        start = self.config.get("start_date")
        ahead = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5 * 366)
        window = {
            "from": format_timestamp(parse_timestamp(start) if start else EARLIEST),
            "to": format_timestamp(ahead),
        }
        for first in range(0, len(ids), USERS_PER_REQUEST):
            params = {**window, "psmIds": ",".join(ids[first : first + USERS_PER_REQUEST])}
            for page in self.fetch_pages(self.path, BareListPaginator(), params=params):
                for user in page:
                    for rule in user.get("details") or ():
                        if isinstance(rule, dict) and rule.get("workHoursId"):
                            yield {"psmId": user.get("psmId"), **rule}
