"""tap-welkin: the entry point and its settings."""

from __future__ import annotations

import sys
import typing as t
from functools import cached_property

import welkin_client
from singer_sdk import Tap
from singer_sdk import typing as th
from welkin_client.http import WelkinClient

from tap_welkin import sdk_compat, streams
from tap_welkin.auth import WelkinAuthenticator, build_authenticator
from tap_welkin.bookmarks import parse_lookback
from tap_welkin.extraction import FeedStream
from tap_welkin.feeds import ReadPlan
from tap_welkin.output import WelkinMessageWriter

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

USER_AGENT = "tap-welkin/0.1"


sdk_compat.install()


class TapWelkin(Tap):
    """Singer tap for Welkin Health: patients, users, CDT records, encounters, calendar events."""

    name = "tap-welkin"
    package_name = "tap-welkin"
    # CDT streams come from the instance's formation, so discovery needs the API.
    dynamic_catalog = True
    message_writer_class = WelkinMessageWriter

    config_jsonschema = th.PropertiesList(
        *welkin_client.CONNECTION_PROPERTIES,
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description="Only records updated at or after this time (UTC when no offset is given).",
        ),
        th.Property(
            "lookback_window",
            th.CustomType({"type": ["string", "number", "null"]}),
            title="Lookback window",
            description=(
                "Re-read records updated this long before the bookmark, for late or "
                "clock-skewed writes: seconds (`3600`) or an ISO 8601 duration (`PT1H`, `P1D`)."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=1000,
            title="Page size",
            description="Records per request, at most 1000 (Welkin's maximum).",
        ),
        th.Property(
            "extraction_path",
            th.StringType,
            default="auto",
            allowed_values=["auto", "export", "rest"],
            title="Extraction path",
            description=(
                "`export`: bulk export API (about one request per 1000 records); `rest`: "
                "per-patient and list endpoints (about one request per patient); `auto`: "
                "export, falling back to rest when the API client may not export."
            ),
        ),
        th.Property(
            "cdts",
            th.ArrayType(th.StringType),
            title="CDTs",
            description="Machine names of the CDTs to discover (default: every CDT).",
        ),
    ).to_dict()

    def __init__(self, **kwargs: t.Any) -> None:
        """Check the connection settings before any request (a one-line config error)."""
        super().__init__(**kwargs)
        welkin_client.check_connection_settings(self.config)

    @cached_property
    def welkin(self) -> WelkinClient:
        """The one session, token manager and rate budget shared by every stream."""
        return WelkinClient(self.config, user_agent=USER_AGENT)

    @cached_property
    def authenticator(self) -> WelkinAuthenticator:
        """The authenticator shared by every stream."""
        return build_authenticator(self.welkin.tokens)

    @cached_property
    def reads(self) -> ReadPlan:
        """The feeds of the run, one per selected top-level feed stream (started at first use)."""
        return ReadPlan(
            (stream.name, stream.open_source)
            for stream in self.streams.values()
            if isinstance(stream, FeedStream)
            and not stream.parent_stream_type
            and stream.reads_feed()
        )

    @property
    @override
    def streams(self) -> dict[str, Stream]:
        """Streams in dependency order (users, patients, calendar events, encounters, CDTs).

        The SDK orders them by name, which sends CDT records, encounters and calendar events
        before the patients and users they point at; a target writing into Welkin would
        then have to hold those records (and STATE) until the end.
        """
        found = super().streams
        ordered = sorted(found, key=lambda name: SYNC_ORDER.get(name, len(SYNC_ORDER)))
        if list(found) != ordered:
            self._streams = {name: found[name] for name in ordered}
            return self._streams
        return found

    @override
    def discover_streams(self) -> list[Stream]:
        parse_lookback(self.config.get("lookback_window"))  # fail early on a bad value
        router = streams.CdtRouter()
        cdt_parent = streams.CdtRecordsStream(self, router=router)
        found: list[Stream] = [
            streams.PatientsStream(self),
            streams.UsersStream(self),
            streams.EncountersStream(self),
            streams.CalendarEventsStream(self),
            cdt_parent,
        ]
        cdts = self.welkin.request("GET", "formations/current/cdts").json()
        names = [str(c["name"]) for c in cdts]
        wanted = set(self.config.get("cdts") or names)
        for missing in sorted(wanted - set(names)):
            self.logger.warning("CDT %r from the cdts setting is not in the formation.", missing)
        for cdt in sorted(cdts, key=lambda c: str(c["name"])):
            if cdt["name"] in wanted:
                name = streams.cdt_stream_name(cdt["name"], names)
                found.append(streams.CdtStream(self, cdt, name, router=router))
        return found


SYNC_ORDER = {"users": 0, "patients": 1, "calendar_events": 2, "encounters": 3, "cdt_records": 4}


if __name__ == "__main__":
    TapWelkin.cli()
