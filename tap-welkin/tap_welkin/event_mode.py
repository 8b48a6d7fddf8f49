"""Event mode ("ping and pull"): pull only what Welkin's webhooks said changed.

With ``event_log_url`` set, each stream reads the event log (written by ``welkin-webhooks``)
after the ``event_seq`` in its state, pulls the touched resources and emits them on its usual
stream, with its usual schema; at the end of the stream its state gets the log's head as
``event_seq``. Records go out before the STATE that moves the cursor, so a run stopped at any
point replays its events next time: at least once, and targets upsert on ``id``.

How a stream pulls, by cost in requests: one ``GET`` per distinct touched resource, or the
export delta (``export/{TYPE}`` from the oldest event's receipt, minus ``event_clock_skew``)
when its estimated pages are fewer; of the delta only touched resources are emitted. Touched
resources it did not return (a ping delayed past the skew) are then pulled by id, so every
touched resource is emitted whatever the clocks say.
A resource deleted since its ping answers 404 and is skipped.

A stream with no new events sends nothing, not even its SCHEMA (it is deselected for the run);
a run with no new events at all does not even look up the formation's CDTs (no request to
Welkin). Webhooks can be lost: every ``event_audit_interval`` seconds the run also pulls what the
failed deliveries in Welkin's webhook audit touched (``event_audit``), and a periodic normal sync
(another state id, e.g. the ``welkin-nightly-reconcile`` schedule) reconciles the rest.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
import typing as t
from functools import cached_property

from welkin_client.errors import WelkinExportForbidden, WelkinNotFound
from welkin_client.eventlog import LogEvent

from tap_welkin import streams
from tap_welkin.bookmarks import Bound
from tap_welkin.event_audit import AuditRecovery
from tap_welkin.event_log import open_reader
from tap_welkin.extraction import decoded, surface_timestamps
from tap_welkin.streams.cdts import flatten

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from singer_sdk.streams import Stream

    from tap_welkin.client import WelkinStream
    from tap_welkin.tap import TapWelkin

Record = dict[str, t.Any]
CURSOR_KEY = "event_seq"
_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
#: Which stream carries which webhook entity.
STREAM_ENTITIES: Mapping[str, frozenset[str]] = {
    "patients": frozenset({"PATIENT"}),
    "users": frozenset({"USER", "USER_APP_ACCESS"}),
    "calendar_events": frozenset({"CALENDAR"}),
    "encounters": frozenset({"ENCOUNTER"}),
    "cdt_records": frozenset({"CDT"}),
}
STREAM_OF = {entity: name for name, entities in STREAM_ENTITIES.items() for entity in entities}


def resource_path(event: LogEvent) -> tuple[str, bool] | None:
    """``(path, admin)`` of the single-resource GET of an event's resource; None if unknown.

    A user is addressed by id (``?type=ID``, see ``_get``), not by username.

    Every id and name goes into a path segment, so each must be a plain segment.
    """
    sid, pid = event.source_id, event.patient_id
    if not all(_SEGMENT.match(v) for v in (sid, pid, event.source_name) if v is not None):
        return None
    paths = {
        "PATIENT": f"patients/{sid}",
        "CALENDAR": f"calendar/events/{sid}",
        "ENCOUNTER": f"patients/{pid}/encounters/{sid}" if pid else None,
        "CDT": f"patients/{pid}/cdts/{event.source_name}/{sid}"
        if pid and event.source_name
        else None,
    }
    if event.entity in {"USER", "USER_APP_ACCESS"}:
        return f"users/{sid}", True
    path = paths.get(event.entity)
    return (path, False) if path else None


def cursor_of(state: Mapping[str, t.Any]) -> int:
    """The ``event_seq`` of one stream's state (0: never ran in event mode)."""
    return int(state.get(CURSOR_KEY) or 0)


class EventRun:
    """One event-mode run: the log's head is fixed at start, events are read once."""

    def __init__(self, tap: TapWelkin, url: str) -> None:
        """Read the log up to its current head, from the lowest cursor in the input state."""
        self.tap = tap
        self.reader = open_reader(url)
        self.head = self.reader.head()
        bookmarks = tap.state.get("bookmarks", {}) if tap.state else {}
        cursors = [cursor_of(b) for b in bookmarks.values() if isinstance(b, dict)]
        self.floor = min(cursors) if cursors else 0
        scope = (tap.config.get("tenant"), tap.config.get("instance"))
        self.events = [
            e
            for e in self.reader.read(self.floor, self.head)
            if (e.tenant or scope[0], e.instance or scope[1]) == scope
        ]
        self.skew = dt.timedelta(seconds=float(tap.config.get("event_clock_skew") or 60))
        self.stats = {"by_id": 0, "export_reads": 0, "not_found": 0}

    @cached_property
    def audit(self) -> AuditRecovery:
        """Failed deliveries to recover, read at first use: in a sync, never in discovery."""
        return AuditRecovery(self.tap, self.skew)

    def pending(self, stream: WelkinStream) -> list[LogEvent]:
        """The events of this stream after its cursor."""
        entities = STREAM_ENTITIES.get(stream.name, frozenset())
        after = cursor_of(stream.stream_state)
        return [e for e in self.events if e.seq > after and e.entity in entities]

    def touches(self, entity: str) -> bool:
        """Whether any new event (after the lowest cursor), or a failed delivery, is of
        ``entity``.
        """
        recovered = bool(self.audit.patients(STREAM_OF.get(entity, "")))
        return recovered or any(e.entity == entity for e in self.events)

    def has_work(self, stream: WelkinStream) -> bool:
        """Whether this run pulls anything for ``stream`` (events or failed deliveries)."""
        return bool(self.pending(stream) or self.audit.patients(stream.name))

    def records(self, stream: WelkinStream) -> Iterator[Record]:
        """The current state of every resource this stream's pending events touched, and of
        those of the patients a failed delivery named (see ``event_audit``).
        """
        latest = self._latest(stream)
        touched, before = len(latest), dict(self.stats)
        emitted: set[str] = set()
        if latest and self._export_is_cheaper(stream, list(latest.values())):
            for record in self._export_delta(stream, latest):
                emitted.add(str(record.get("id")))
                yield record
        for event in latest.values():
            pulled = self._get(stream, event)
            if pulled is not None:
                emitted.add(str(pulled.get("id")))
                yield pulled
        yield from self._recovered(stream, emitted)
        if touched:
            stream.logger.info(
                "Stream '%s' (event mode): %d resource(s) touched, %d export read(s), "
                "%d pulled by id, %d gone.", stream.name, touched,
                *(self.stats[k] - before[k] for k in ("export_reads", "by_id", "not_found")),
            )  # fmt: skip

    def finish(self, stream: WelkinStream) -> None:
        """Move the stream's cursor to the head read at start (after its records)."""
        stream.stream_state[CURSOR_KEY] = self.head
        self.audit.mark(stream.stream_state)

    def _latest(self, stream: WelkinStream) -> dict[str, LogEvent]:
        """Resource id -> its latest pending event; a patient of a failed delivery as one more."""
        events = self.pending(stream)
        if events:
            stream.logger.info(
                "Stream '%s' (event mode): %d event(s) after seq %d.",
                stream.name, len(events), cursor_of(stream.stream_state),
            )  # fmt: skip
        latest = {event.source_id: event for event in events}  # many pings, one pull
        if stream.name == "patients":
            for pid, sent in self.audit.patients(stream.name).items():
                latest.setdefault(pid, LogEvent(None, None, "PATIENT", "FAILED_DELIVERY", pid, None,
                                                pid, seq=0, received_at=sent))  # fmt: skip
        return latest

    def _recovered(self, stream: WelkinStream, emitted: set[str]) -> Iterator[Record]:
        """Records of the patients a failed delivery named (the export delta from its time)."""
        patients = self.audit.patients(stream.name) if stream.name != "patients" else {}
        if not patients:
            return
        if getattr(stream, "export_type", None) is None or (
            stream.config.get("extraction_path") == "rest"
        ):
            stream.logger.warning("Failed deliveries of '%s' are left to the reconcile (no "
                                  "export API).", stream.name)  # fmt: skip
            return
        since = min(patients.values()) - self.skew
        self.stats["export_reads"] += 1
        try:
            pages = decoded(stream.export_pages(Bound(since)))  # type: ignore[attr-defined]
            for item in (surface_timestamps(item) for page in pages for item in page):
                key = str(item.get("id"))
                if str(item.get("patientId")) in patients and key not in emitted:
                    emitted.add(key)
                    yield item
        except (WelkinExportForbidden, WelkinNotFound):
            stream.logger.warning("Export API not available; failed deliveries of '%s' are "
                                  "left to the reconcile.", stream.name)  # fmt: skip

    def _export_is_cheaper(self, stream: WelkinStream, events: list[LogEvent]) -> bool:
        if (
            getattr(stream, "export_type", None) is None
            or stream.config.get("extraction_path") == "rest"
        ):
            return False
        since = min(e.received_at for e in events) - self.skew
        expected = self.reader.count_since(STREAM_ENTITIES[stream.name], since)
        pages = 1 + math.ceil(expected / stream.page_size)
        return pages < len(events)

    def _export_delta(self, stream: WelkinStream, latest: dict[str, LogEvent]) -> Iterator[Record]:
        since = min(e.received_at for e in latest.values()) - self.skew
        self.stats["export_reads"] += 1
        try:
            pages = decoded(stream.export_pages(Bound(since)))  # type: ignore[attr-defined]
            items = (surface_timestamps(item) for page in pages for item in page)
            for item in items:
                # Only touched resources: others changed too have their own (later) events.
                if latest.pop(str(item.get("id")), None) is not None:
                    yield item
        except (WelkinExportForbidden, WelkinNotFound):
            stream.logger.warning("Export API not available; pulling touched resources by id.")

    def _get(self, stream: WelkinStream, event: LogEvent) -> Record | None:
        where = resource_path(event)
        if where is None:
            stream.logger.warning("Skipped a %s event without the ids to pull it.", event.entity)
            return None
        path, admin = where
        self.stats["by_id"] += 1
        params = {"type": "ID"} if admin else None  # admin/users/{id}: by id, not username
        try:
            response = self.tap.welkin.request("GET", path, admin=admin, params=params)
            return t.cast("Record", response.json())
        except WelkinNotFound:
            self.stats["not_found"] += 1
            stream.logger.info("A %s touched by an event no longer exists.", event.entity)
            return None


class EventOrder:
    """Mixin (first base): records come in event order, and no read path is chosen."""

    @property
    def is_sorted(self) -> bool:
        """Records come in event order, not ``updatedAt`` order."""
        return False

    @property
    def check_sorted(self) -> bool:
        """Nothing to check (see ``is_sorted``)."""
        return False


class EventModeStream(EventOrder):
    """Mixin (first base): records from the event run instead of a full or incremental read."""

    name: str
    tap: TapWelkin
    stream_state: dict[str, t.Any]

    def get_records(self, context: t.Any) -> Iterator[Record]:  # noqa: ANN401
        """The touched resources, shaped as the stream's usual read shapes them."""
        run = self.tap.event_run
        assert run is not None
        for record in run.records(t.cast("WelkinStream", self)):
            yield surface_timestamps(record)
        run.finish(t.cast("WelkinStream", self))


class WithoutEvents(EventOrder):
    """Mixin (first base): a resource no webhook announces; the reconciling sync reads it."""

    def get_records(self, context: t.Any) -> Iterator[Record]:  # noqa: ANN401
        """Nothing in event mode: its bookmark stays where the last full read left it."""
        return iter(())


def without_events(stream_class: type[Stream]) -> type[Stream]:
    """``stream_class`` for an event-mode run: discovered as usual, read by the nightly sync."""
    return type(stream_class.__name__, (WithoutEvents, stream_class), {})


class EventCdtParent(EventModeStream):
    """Mixin for ``cdt_records``: hands each CDT stream its records, as the usual read does."""

    @override
    def get_records(self, context: t.Any) -> Iterator[Record]:  # noqa: ANN401
        run = self.tap.event_run
        assert run is not None
        me = t.cast("t.Any", self)
        children = {c.cdt_name: c for c in me.child_streams if isinstance(c, streams.CdtStream)}
        records = [surface_timestamps(r) for r in run.records(me)]
        batch = 0
        for index, record in enumerate(records):
            child = children.get(str(record.get("cdtName")))
            if child is not None and child.selected:
                me.router.add(child.name, flatten(record))
                batch += 1
            # The CDT streams sync once per page of records, and after the last one.
            if batch and (batch >= me.page_size or index == len(records) - 1):
                me.hand_over()
                batch = 0
            yield record
        for child in children.values():
            run.finish(child)
        run.finish(me)


# The stream classes of an event-mode run: the usual streams with the event-mode read first.
class PatientsStream(EventModeStream, streams.PatientsStream):
    """Patients touched by events."""


class UsersStream(EventModeStream, streams.UsersStream):
    """Users touched by events."""

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        # A few touched users are not the whole table: activating their version would make
        # target-postgres mark every other user deleted.
        return False


class EncountersStream(EventModeStream, streams.EncountersStream):
    """Encounters touched by events."""


class CalendarEventsStream(EventModeStream, streams.CalendarEventsStream):
    """Calendar events touched by events."""


class CdtRecordsStream(EventCdtParent, streams.CdtRecordsStream):
    """CDT records touched by events, handed to the CDT streams."""


class CdtStream(EventOrder, streams.CdtStream):
    """A CDT stream fed by the event-mode ``cdt_records`` (no export probe for its order)."""

    parent_stream_type = CdtRecordsStream


cdt_stream_name = streams.cdt_stream_name


def quiet_untouched(tap: TapWelkin) -> None:
    """Deselect every stream no new event touched, so the run sends nothing for it: no SCHEMA
    (a target has no table to check), no STATE of its own. An untouched stream's cursor still
    moves to the head, carried by the next STATE another stream sends (or it stays, and its
    events, none, are looked at again next run). A run that read the webhook audit keeps one
    stream, so that a STATE carries the read's time.
    """
    run = tap.event_run
    assert run is not None
    touched_cdts = {e.source_name for e in run.events if e.entity == "CDT"}
    all_cdts = bool(run.audit.patients("cdt_records"))  # an audit item names no CDT
    carrier = run.audit.read_at is not None
    for stream in tap.streams.values():
        if isinstance(stream, WithoutEvents):
            stream.selected = False
        elif isinstance(stream, EventModeStream) and stream.selected:
            if run.has_work(t.cast("WelkinStream", stream)) or carrier:
                carrier = False
                continue
            for quiet in (stream, *stream.child_streams):
                run.finish(t.cast("WelkinStream", quiet))
                quiet.selected = False
        elif isinstance(stream, CdtStream) and stream.cdt_name not in touched_cdts and not all_cdts:
            stream.selected = False  # cdt_records moves its cursor with the others'


def skips_formation(tap: TapWelkin) -> bool:
    """Whether discovery may skip the formation lookup: an event-mode sync (a catalog was given)
    with no new CDT event. The CDT streams then do not run, and their bookmarks stay as they were.
    """
    run = tap.event_run
    return run is not None and tap.input_catalog is not None and not run.touches("CDT")
