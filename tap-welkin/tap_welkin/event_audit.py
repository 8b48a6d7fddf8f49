"""Event mode's recovery of lost pings from Welkin's webhook audit (``admin/audit-webhook``).

Welkin logs every delivery; one that failed for good (the receiver was down, the network broke)
never reaches the event log. Every ``event_audit_interval`` seconds an event-mode run reads the
``FAILED`` deliveries since its last read (minus ``event_clock_skew``) and treats what they
touched as touched, so a lost ping is recovered minutes later instead of at the nightly
reconcile. The tap reads the audit, not the receiver: the tap already holds the API client and
the Singer state for a bookmark, and the receiver, which faces the internet, keeps no Welkin
credential.

An audit item names the entity, the patient and the time (``eventEntity``, ``patientId``,
``sentAt``), not the resource (no ``sourceId``): a patient is pulled by its id; CDT records,
encounters and calendar events of that patient come from the export delta from the failure's
``sentAt``. Users (no patient) are left to the reconcile, and so is everything when the API
client may not read the audit (403: one warning per read). A retried delivery that later
succeeded is recovered anyway: a pull too many, never a row too few.

The last read's time goes into the state of every stream a run finishes (``AUDIT_KEY``), so
the next run knows when the audit is due; an idle run between two reads sends no request.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk import typing as th
from welkin_client.errors import WelkinForbidden, WelkinNotFound
from welkin_client.pagination import MetaInfoPaginator

from tap_welkin.bookmarks import format_timestamp, parse_timestamp

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_welkin.tap import TapWelkin

AUDIT_KEY = "webhook_audit_read_at"
AUDIT_PATH = "audit-webhook"
#: Which stream an audit item's ``eventEntity`` touches (users: left to the reconcile).
AUDIT_STREAMS = {
    "PATIENT": "patients",
    "CDT": "cdt_records",
    "ENCOUNTER": "encounters",
    "CALENDAR": "calendar_events",
}


def last_read(bookmarks: Mapping[str, t.Any]) -> dt.datetime | None:
    """The latest audit read any stream's bookmark remembers."""
    reads = [
        parse_timestamp(str(b[AUDIT_KEY]))
        for b in bookmarks.values()
        if isinstance(b, dict) and b.get(AUDIT_KEY)
    ]
    return max(reads) if reads else None


class AuditRecovery:
    """The failed deliveries of this run: ``touched[stream][patient id] = earliest sentAt``."""

    def __init__(self, tap: TapWelkin, skew: dt.timedelta) -> None:
        """Read the audit if due (see the module docstring); otherwise touch nothing."""
        self.touched: dict[str, dict[str, dt.datetime]] = {}
        self.read_at: str | None = None  # set when this run read the audit
        interval = dt.timedelta(seconds=float(tap.config.get("event_audit_interval", 300)))
        if interval <= dt.timedelta(0):
            return
        now = dt.datetime.now(dt.timezone.utc)
        last = last_read(tap.state.get("bookmarks", {}) if tap.state else {})
        if last is not None and now - last < interval:
            return
        since = (last or now - interval) - skew
        self.read_at = format_timestamp(now)
        instance = str(tap.config.get("instance"))
        lost = 0
        try:
            failed = list(self._failed(tap, since, instance))
        except (WelkinForbidden, WelkinNotFound):
            tap.logger.warning("Webhook audit not readable by this API client: failed deliveries "
                               "are left to the reconcile.")  # fmt: skip
            return
        for item in failed:
            stream = AUDIT_STREAMS.get(str(item.get("eventEntity")))
            patient, sent = item.get("patientId"), item.get("sentAt")
            if stream is None or not patient or not sent:
                continue
            lost += 1
            when = parse_timestamp(str(sent))
            earliest = self.touched.setdefault(stream, {}).get(str(patient), when)
            self.touched[stream][str(patient)] = min(earliest, when)
        if lost:
            tap.logger.info(
                "Webhook audit: %d failed delivery(ies) since the last read, recovered in this "
                "run.", lost,
            )  # fmt: skip

    @staticmethod
    def _failed(tap: TapWelkin, since: dt.datetime, instance: str) -> Iterator[dict[str, t.Any]]:
        # Filtered here too: a server that ignored a filter must not make us pull everything.
        params = {"status": "FAILED", "instance": instance, "dateStart": format_timestamp(since),
                  "size": 1000, "sort": "sentAt,asc"}  # fmt: skip
        items = tap.welkin.paginate(AUDIT_PATH, MetaInfoPaginator(), params=params, admin=True)
        for item in items:
            if item.get("status") == "FAILED" and item.get("instance") in {instance, None}:
                yield item

    def patients(self, stream_name: str) -> dict[str, dt.datetime]:
        """The patients whose ``stream_name`` resources a failed delivery touched."""
        return self.touched.get(stream_name, {})

    def mark(self, stream_state: dict[str, t.Any]) -> None:
        """Remember this run's read in a finished stream's state."""
        if self.read_at is not None:
            stream_state[AUDIT_KEY] = self.read_at


SETTING = th.Property(
    "event_audit_interval",
    th.IntegerType(minimum=0),
    default=300,
    title="Event audit interval",
    description=(
        "Event mode: seconds between two reads of Welkin's webhook audit for failed deliveries, "
        "whose resources the run then pulls (0: never; the nightly reconcile still loads them)."
    ),
)
