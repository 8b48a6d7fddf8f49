"""Tombstones: records deleted in Welkin, emitted on their own stream with ``_sdc_deleted_at``.

Neither the export nor a list endpoint shows a deleted record: it is simply gone.
The one place Welkin reports deletes is the tenant's data audit feed
(``GET /{tenant}/admin/audit-data``, spec 4.11), as ``*_DELETED`` events. Every
CDT-backed resource (CDT records, encounters, dispositions, document summaries,
assessment answers, encounter assessment links) is deleted as a ``CDT_DELETED``
event naming its ``cdtName``; the event's ``record`` holds the record's envelope.

A stream that can see deletes names its CDTs (``deleted_cdts``); its read then
takes the delete events since its bound and emits each as a record of the stream:
the event's record (its key included), ``updatedAt`` = the event's ``sentAt`` (so
the bookmark moves past it) and ``_sdc_deleted_at`` = ``sentAt``. singer-sdk
targets such as target-postgres and target-duckdb upsert it by key and keep
``_sdc_deleted_at``: the row is marked deleted (a soft delete).

The feed is read once per tap run and lower bound (every deletable stream of a
first sync shares one read). An API client without audit permission gets 403: the
run goes on without tombstones, with one warning.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
import typing as t
import weakref

from welkin_client.errors import WelkinForbidden, WelkinNotFound
from welkin_client.pagination import MetaInfoPaginator, export_updated_at

from tap_welkin.bookmarks import parse_timestamp
from tap_welkin.client import WelkinStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_welkin.bookmarks import Bound
    from tap_welkin.extraction import IncrementalStream

Record = dict[str, t.Any]
DELETED_AT = "_sdc_deleted_at"
AUDIT_PATH = "audit-data"
AUDIT_STREAM = "data_audit"
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

_lock = threading.Lock()
#: Per tap: delete events by the ``dateStart`` they were read from (None: all).
_events: weakref.WeakKeyDictionary[t.Any, dict[str | None, list[Record] | None]] = (
    weakref.WeakKeyDictionary()
)


def _read_events(stream: IncrementalStream, start: str | None) -> list[Record] | None:
    """Every CDT delete event sent at or after ``start``, oldest first (None: not allowed)."""
    params: dict[str, t.Any] = {
        "entity": "CDT",
        "operation": "DELETE",
        "size": stream.page_size,
    }
    if start:
        params["dateStart"] = start
    events: list[Record] = []
    # The feed is tenant-level: read it through the (admin-scoped) data_audit stream.
    reader = stream.tap.streams.get(AUDIT_STREAM)
    if not isinstance(reader, WelkinStream):
        return None
    try:
        pages = reader.fetch_pages(AUDIT_PATH, MetaInfoPaginator(), params=params)
        for page in pages:
            events.extend(e for e in page if str(e.get("eventSubtype", "")).endswith("_DELETED"))
    except (WelkinForbidden, WelkinNotFound) as exc:
        stream.logger.warning(
            "Deletes are not reported: the data audit feed is not available (%s).", exc
        )
        return None
    # The feed's default order is not chronological (spec 4.11).
    events.sort(key=lambda e: _when(e.get("sentAt")))
    return events


def delete_events(stream: IncrementalStream, bound: Bound) -> list[Record]:
    """The CDT delete events since ``bound``, read once per tap run and bound."""
    start = bound.request_start
    with _lock:
        cache = _events.setdefault(stream.tap, {})
        if start not in cache:
            cache[start] = _read_events(stream, start)
        return list(cache[start] or [])


def tombstone(event: Record) -> Record | None:
    """The record a delete event stands for, marked deleted (None: the event names no record)."""
    record = dict(event.get("record") or {})
    sent_at = event.get("sentAt")
    if not record.get("id") or not sent_at:
        return None
    record.setdefault("patientId", event.get("patientId"))
    record.setdefault("cdtName", event.get("cdtName"))
    record["updatedAt"] = sent_at
    record[DELETED_AT] = sent_at
    return record


def tombstones(stream: IncrementalStream, bound: Bound, cdt_names: Iterable[str]) -> list[Record]:
    """The tombstones of the CDTs ``cdt_names`` since ``bound`` (oldest first; one read a run)."""
    names = set(cdt_names)
    if not names:
        return []
    return [
        stone
        for event in delete_events(stream, bound)
        if event.get("cdtName") in names and (stone := tombstone(event)) is not None
    ]


def with_tombstones(
    stream: IncrementalStream, items: Iterable[Record], stones: list[Record]
) -> Iterable[Record]:
    """``items`` and ``stones`` (see :func:`tombstones`) in one read.

    Export items come in ``updatedAt`` order and the stream's bookmark may move
    mid-read, so tombstones are merged in by time; list-endpoint reads are not
    ordered (their bookmark moves at the end), so tombstones follow them.
    """
    if not stones:
        return items
    if stream.is_sorted:  # the export: ordered by updatedAt
        return heapq.merge(items, stones, key=lambda r: _when(export_updated_at(r)))
    return itertools.chain(items, stones)


def _when(value: t.Any) -> dt.datetime:  # noqa: ANN401 - a JSON value
    """A sort key for a timestamp (records without one sort first, as the export gives them)."""
    if not isinstance(value, str):
        return _EARLIEST
    try:
        return parse_timestamp(value)
    except ValueError:
        return _EARLIEST
