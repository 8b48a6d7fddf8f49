"""CDT records: one typed stream per Custom Data Type, fed by one shared read.

``export/CDT_RECORD`` returns the records of every CDT in one ``updatedAt``-ordered
feed. Reading it once per CDT stream would multiply the requests by the number of
CDTs, so ``cdt_records`` reads it once and hands each CDT stream its records
through a :class:`CdtRouter`, in numbered batches of up to ``page_size`` records
(memory stays bounded). In the singer-sdk's terms the CDT streams are child
streams of ``cdt_records`` with one sync per batch, whose context names the
batch; their bookmarks are not partitioned by batch.

``cdt_records`` itself (every CDT record in Welkin's envelope, ``jsonBody`` as one
object) is not selected by default.
"""

from __future__ import annotations

import collections
import itertools
import sys
import typing as t

from welkin_client.pagination import NamedPagePaginator

from tap_welkin import schemas
from tap_welkin.bookmarks import COMPLETE_KEY, Bound, lowest
from tap_welkin.client import WelkinStream
from tap_welkin.deletes import DELETED_AT, tombstones, with_tombstones
from tap_welkin.extraction import IncrementalStream
from tap_welkin.feeds import chunked

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context
    from singer_sdk.tap_base import Tap

Record = dict[str, t.Any]
ENVELOPE_KEYS = (
    "id", "patientId", "cdtId", "cdtName", "version", "createdAt", "updatedAt", DELETED_AT,
)  # fmt: skip

_STRING = {"type": ["string", "null"]}
#: Value schema per formation field type. No source shows a ``date`` or ``checkbox`` value:
#: a date is a string (Welkin sends every date and time as one) in an unknown format (a
#: patient's birth date comes as a midnight date-time, so a date field may too); a checkbox
#: stays open, like any type not listed here. ``float`` occurs in formations (PDTs).
FIELD_TYPES: dict[str, dict[str, t.Any]] = {
    "text": _STRING,
    "textarea": _STRING,
    "phone": _STRING,
    "email": _STRING,
    "date": _STRING,
    "integer": {"type": ["integer", "null"]},
    "float": {"type": ["number", "null"]},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
}
#: A select's ``valueType`` is the type of its values (other value types stay open).
SELECT_VALUE_TYPES = {"STRING": "string", "INTEGER": "integer"}


def field_schema(field: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """JSON Schema of one formation field's value (any JSON value where no source shows it)."""
    kind = str(field.get("type") or "")
    meta = field.get("meta") or {}
    if kind == "select":
        value_type = SELECT_VALUE_TYPES.get(str(field.get("valueType")))
        item = {"type": value_type} if value_type else {}
        # meta.multiple is absent on most single selects: absent means single.
        if meta.get("multiple"):
            return {"type": ["array", "null"], "items": item}
        return {"type": [value_type, "null"]} if value_type else {}
    return dict(FIELD_TYPES.get(kind, {}))


def cdt_schema(cdt: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Schema of a CDT stream: the envelope, then every formation field (system fields too)."""
    properties = dict(t.cast("dict[str, t.Any]", schemas.CDT_RECORD["properties"]))
    properties.pop("jsonBody")
    for field in cdt.get("fields") or []:
        name = field.get("name")
        if isinstance(name, str) and name not in properties:
            properties[name] = field_schema(field)
    # Fields added to the CDT after discovery are kept, not dropped.
    return {"type": "object", "properties": properties, "additionalProperties": True}


def flatten(record: Record) -> Record:
    """A CDT record with its ``jsonBody`` fields as top-level properties, named as in Welkin."""
    out = {key: record[key] for key in ENVELOPE_KEYS if key in record}  # no invented nulls
    body = record.get("jsonBody") or {}
    out.update({key: value for key, value in body.items() if key not in out})
    return out


class CdtRouter:
    """Hands the shared CDT read's records to the CDT streams, in numbered batches.

    The reader adds each record under its stream's name and seals a batch every
    ``page_size`` records; a CDT stream takes its records of every sealed batch
    when it syncs. Batches wait here until taken, so
    nothing depends on when the SDK syncs the children; memory stays bounded
    because the SDK syncs them right after the record that sealed the batch.
    """

    def __init__(self) -> None:
        """No records yet."""
        self._open: dict[str, list[Record]] = {}
        self._sealed: dict[int, dict[str, list[Record]]] = {}
        self.held = 0
        self._numbers = itertools.count(1)

    def add(self, stream: str, record: Record) -> None:
        """Add ``record`` to the open batch of ``stream``."""
        self._open.setdefault(stream, []).append(record)
        self.held += 1

    def seal(self) -> int | None:
        """Close the open batch; its number, or None when it holds nothing."""
        if not self.held:
            return None
        number = next(self._numbers)
        self._sealed[number], self._open, self.held = self._open, {}, 0
        return number

    def take(self, stream: str) -> list[Record]:
        """The records of ``stream`` in every sealed batch, oldest first (each once)."""
        records: list[Record] = []
        for number in sorted(self._sealed):
            streams = self._sealed[number]
            records.extend(streams.pop(stream, []))
            if not streams:
                del self._sealed[number]
        return records


class CdtRecordsStream(IncrementalStream):
    """Every CDT record in Welkin's envelope; the one reader behind all CDT streams."""

    name = "cdt_records"
    schema = schemas.CDT_RECORD
    export_type = "CDT_RECORD"
    rest_route = "GET /{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}"
    paginator_class = NamedPagePaginator
    selected_by_default = False

    def __init__(self, tap: Tap, *, router: CdtRouter | None = None) -> None:
        """Create the reader; its CDT streams take their records from ``router``."""
        super().__init__(tap)
        self.router = router or CdtRouter()
        self._handed: collections.deque[int] = collections.deque()

    @override
    def reads_feed(self) -> bool:
        return self.selected or self.has_selected_descendents

    @override
    def reads_deletes(self) -> bool:
        return True  # CDT records are deleted as CDT_DELETED events

    def cdt_streams(self) -> list[CdtStream]:
        """The CDT streams fed by this reader."""
        return [c for c in self.child_streams if isinstance(c, CdtStream)]

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        """Every record when ``cdt_records`` is selected, else one placeholder per batch.

        The SDK syncs the CDT streams after a record for which ``generate_child_contexts``
        yields; without this stream's own records to write, a placeholder per batch
        (never written) spares the SDK's per-record loop.
        """
        pages = self.source_pages()
        wanted = {c.cdt_name: c for c in self.cdt_streams() if c.selected}
        for stream in wanted.values():
            stream.start_run()
        if self.selected:
            self.stream_state[COMPLETE_KEY] = False
        self.logger.info("Stream '%s' reads %s.", self.name, self.describe_path())
        names = [c.cdt_name for c in self.cdt_streams() if self.selected or c.selected]
        read = self.read_source().bound
        stones = tombstones(self, read, names)
        if stones or self.selected:
            items = with_tombstones(self, self.items(pages), stones)
            pages = chunked(items, self.page_size)
        else:
            pages = (self.shape_page(page) for page in self.checked(pages))
        for page, last in with_last(p for p in pages if p):
            sealed = self.route(page, wanted, last=last)
            if self.selected:  # the SDK syncs the CDT streams after its first record
                yield from page
            elif sealed:
                yield {}
        for stream in wanted.values():
            stream.stream_state[COMPLETE_KEY] = True
        if self.selected:
            self.stream_state[COMPLETE_KEY] = True

    def checked(self, pages: Iterable[list[Record]]) -> Iterator[list[Record]]:
        """``pages``, their export order checked."""
        check = self.read_source().export
        previous = ""
        for page in pages:
            if check:
                previous = self.check_page_order(previous, page)
            yield page

    def route(self, page: list[Record], wanted: dict[str, CdtStream], *, last: bool) -> bool:
        """Hand each record of ``page`` to its CDT stream; whether a batch was sealed after it.

        A batch is sealed once it holds ``page_size`` records, and after the last page.
        """
        add = self.router.add
        for record in page:
            child = wanted.get(str(record.get("cdtName")))
            if child is not None and child.run_bound.keeps(record.get("updatedAt")):
                add(child.name, flatten(record))
        return self.hand_over() if last or self.router.held >= self.page_size else False

    def hand_over(self) -> bool:
        """Seal the router's open batch for the CDT streams' next sync; whether it held any."""
        sealed = self.router.seal()
        if sealed is not None:
            self._handed.append(sealed)
        return sealed is not None

    @override
    def read_bound(self) -> Bound:
        # One read for every selected CDT stream (and this one, if selected).
        bounds = [c.bound() for c in self.cdt_streams() if c.selected]
        if self.selected:
            bounds.append(self.bound())
        return lowest(bounds)

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterator[Context | None]:
        # The CDT streams sync once per sealed batch, not once per record. An empty
        # context (not None, which the SDK skips; no partition keys) keeps one bookmark
        # per CDT stream, which the SDK can treat as sorted (resumable) on the export.
        if self._handed:
            self._handed.clear()
            yield {}

    @override
    def rest_records(self, bound: Bound) -> Iterator[Record]:
        params = {"size": self.page_size, "dateStart": bound.request_start}
        names = [c.cdt_name for c in self.cdt_streams() if self.selected or c.selected]

        def read(patient_id: str) -> Iterator[list[Record]]:
            for cdt_name in names:
                yield from self.fetch_pages(
                    f"patients/{patient_id}/cdts/{cdt_name}", NamedPagePaginator(), params=params
                )

        return self.for_each_patient(read)


_T = t.TypeVar("_T")
_NONE: t.Any = object()


def with_last(items: Iterable[_T]) -> Iterator[tuple[_T, bool]]:
    """Each item, and whether it is the last one."""
    iterator = iter(items)
    item = next(iterator, _NONE)
    while item is not _NONE:
        following = next(iterator, _NONE)
        yield item, following is _NONE
        item = following


class CdtStream(WelkinStream):
    """The records of one CDT, typed from its formation; a child of ``cdt_records``."""

    parent_stream_type = CdtRecordsStream
    replication_key = "updatedAt"

    def __init__(
        self,
        tap: Tap,
        cdt: t.Mapping[str, t.Any],
        name: str,
        *,
        router: CdtRouter | None = None,
    ) -> None:
        """Build the stream of ``cdt`` (a formation object) under ``name``, fed by ``router``."""
        self.cdt_name = str(cdt["name"])
        self.router = router or CdtRouter()
        self.run_bound = Bound(None)
        super().__init__(tap, name=name, schema=cdt_schema(cdt), path="export/CDT_RECORD")

    @property
    @override
    def is_sorted(self) -> bool:
        # The shared read's order: the export's (updatedAt, id) keeps this bookmark
        # resumable; list endpoints give no order. singer-sdk reads this per record,
        # after cdt_records has chosen its path, so no "unsorted" warning on export.
        return self.reader.read_source().export

    @property
    @override
    def check_sorted(self) -> bool:
        # As cdt_records: the export's order is checked there (a lookback re-reads
        # older records on purpose); list endpoints leave the comparison to the SDK.
        return not self.reader.read_source().export

    @property
    def reader(self) -> CdtRecordsStream:
        """The ``cdt_records`` stream whose read feeds this one."""
        return t.cast("CdtRecordsStream", self.tap.streams[CdtRecordsStream.name])

    def start_run(self) -> None:
        """Fix this run's bound before the shared read starts."""
        self.run_bound = self.bound()
        self.stream_state[COMPLETE_KEY] = False

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        return self.router.take(self.name)

    @override
    def get_record_pages(self, context: Context | None) -> Iterable[list[Record]] | None:
        if type(self).get_records is not CdtStream.get_records:
            return None
        return [self.router.take(self.name)]
