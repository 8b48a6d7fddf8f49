"""tap-welkin: the entry point and its settings."""

from __future__ import annotations

import logging
import sys
import typing as t
from functools import cached_property

import welkin_client
from singer_sdk import Tap
from singer_sdk import typing as th
from welkin_client.cli import run_cli
from welkin_client.config_check import check_config
from welkin_client.http import WelkinClient
from welkin_client.settings import connection_problems

from tap_welkin import event_log, event_mode, progress, sdk_compat, streams
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
            th.CustomType({"type": ["string", "number", "null"], "minimum": 0}),
            title="Lookback window",
            description=(
                "Re-read records updated this long before the bookmark, for late or "
                "clock-skewed writes: seconds (`3600`) or an ISO 8601 duration (`PT1H`, `P1D`)."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=1000),
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
            th.ArrayType(th.StringType(min_length=1)),
            title="CDTs",
            description="Machine names of the CDTs to discover (default: every CDT).",
        ),
        *event_log.SETTINGS,
    ).to_dict()

    def __init__(self, *, validate_config: bool = True, **kwargs: t.Any) -> None:
        """Check every setting before any request: one line per bad setting, no value.

        The SDK's own check quotes values (the secret among them) and skips formats,
        so it only warns here and :func:`welkin_client.config_check.check_config` decides.
        """
        self._check_settings = validate_config
        self._syncing = False  # set by setup_mapper, which the SDK calls for a sync only
        super().__init__(validate_config=False, **kwargs)
        self.check_settings()

    def check_settings(self) -> None:
        """Check every setting once, before discovery sends the first request."""
        if self._check_settings:
            checks = (connection_problems, tap_problems)
            check_config(self.config, self.config_jsonschema, checks)
            self._check_settings = False
        welkin_client.check_connection_settings(self.config)

    @override
    def setup_mapper(self) -> None:
        """Check the settings first: the SDK sets up maps from the catalog, i.e. discovers."""
        self.check_settings()
        self._syncing = True
        super().setup_mapper()

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Load the input state; an event-mode sync then deselects what no new event touched."""
        super().load_state(state)
        if self._syncing and self.event_run is not None:
            event_mode.quiet_untouched(self)

    @cached_property
    def welkin(self) -> WelkinClient:
        """The one session, token manager and rate budget shared by every stream."""
        return WelkinClient(self.config, user_agent=USER_AGENT)

    @cached_property
    def authenticator(self) -> WelkinAuthenticator:
        """The authenticator shared by every stream."""
        return build_authenticator(self.welkin.tokens)

    @cached_property
    def event_run(self) -> event_mode.EventRun | None:
        """The events of this run when ``event_log_url`` is set (event mode), else None."""
        url = self.config.get("event_log_url")
        return event_mode.EventRun(self, str(url)) if url else None

    @cached_property
    def reads(self) -> ReadPlan:
        """The feeds of the run, one per selected top-level feed stream (started at first use).

        None in event mode: its streams pull what the event log names instead.
        """
        if self.event_run is not None:
            return ReadPlan(())
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

    def resource_stream_classes(self) -> list[type[Stream]]:
        """The care-data, message and Designer streams; in event mode they read nothing."""
        if self.event_run is None:
            return list(streams.RESOURCE_STREAMS)
        return [event_mode.without_events(kind) for kind in streams.RESOURCE_STREAMS]

    @override
    def discover_streams(self) -> list[Stream]:
        parse_lookback(self.config.get("lookback_window"))  # fail early on a bad value
        kinds = streams if self.event_run is None else event_mode  # event mode: its own reads
        router = streams.CdtRouter()
        cdt_parent = kinds.CdtRecordsStream(self, router=router)
        found: list[Stream] = [
            kinds.PatientsStream(self),
            kinds.UsersStream(self),
            kinds.EncountersStream(self),
            kinds.CalendarEventsStream(self),
            cdt_parent,
            *(kind(self) for kind in self.resource_stream_classes()),
        ]
        if event_mode.skips_formation(self):
            return found
        cdts = self.welkin.request("GET", "formations/current/cdts").json()
        names = [str(c["name"]) for c in cdts]
        wanted = set(self.config.get("cdts") or names)
        for missing in sorted(wanted - set(names)):
            self.logger.warning("CDT %r from the cdts setting is not in the formation.", missing)
        for cdt in sorted(cdts, key=lambda c: str(c["name"])):
            if cdt["name"] in wanted:
                name = kinds.cdt_stream_name(cdt["name"], names)
                found.append(kinds.CdtStream(self, cdt, name, router=router))
        return found


def tap_problems(config: t.Mapping[str, t.Any]) -> t.Iterator[tuple[str, str]]:
    """Settings the schema cannot check: ``lookback_window``'s duration forms."""
    try:
        negative = parse_lookback(config.get("lookback_window")).total_seconds() < 0
    except (ValueError, TypeError):
        negative = True
    if negative:
        yield "lookback_window", "seconds (3600) or an ISO 8601 duration (PT1H, P1D, P1DT30M)"


def main() -> None:
    """The ``tap-welkin`` command: progress and a summary on stderr; expected errors end
    in one line and exit code 1.
    """
    with progress.reporting(logging.getLogger(TapWelkin.name)):
        run_cli(TapWelkin)


SYNC_ORDER = {"users": 0, "patients": 1, "calendar_events": 2, "encounters": 3, "cdt_records": 4}


if __name__ == "__main__":
    main()
