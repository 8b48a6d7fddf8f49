"""Incremental streams that read the export API, or the list endpoints when export is not allowed.

The export API (``GET export/{TYPE}``) returns a whole instance in ``updatedAt``
order, 1000 records a request, so it is the default. An API client without
export permission gets 403 there; the stream then reads the per-patient and list
endpoints instead (``extraction_path=auto``), which costs about one request per
patient. ``extraction_path`` forces either path.
"""

from __future__ import annotations

import itertools
import sys
import typing as t

from welkin_client.errors import WelkinExportForbidden, WelkinNotFound
from welkin_client.pagination import (
    ExportBoundary,
    ExportCursorPaginator,
    SpringPagePaginator,
    export_updated_at,
)

from tap_welkin.bookmarks import COMPLETE_KEY, Bound, parse_timestamp
from tap_welkin.client import WelkinStream, decode_page
from tap_welkin.deletes import delete_events, tombstones, with_tombstones
from tap_welkin.feeds import Page, RawPage, Source, chunked

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from singer_sdk.helpers.types import Context

Record = dict[str, t.Any]


class ExportOrderError(RuntimeError):
    """The export returned records out of ``updatedAt`` order, so a bookmark could skip some."""


class FeedStream(WelkinStream):
    """A top-level stream whose pages come from the run's :class:`~tap_welkin.feeds.ReadPlan`.

    ``open_source`` (run in the stream's feed thread) decides what the stream
    reads and returns its pages; ``read_source`` is that decision, made once per
    run before the stream's sync.
    """

    _source: Source | None = None
    _pages_read = False

    def reads_feed(self) -> bool:
        """Whether this run reads this stream's feed."""
        return self.selected

    def open_source(self) -> Source:
        """What this stream reads this run, and its pages (lazily requested)."""
        raise NotImplementedError

    def read_source(self) -> Source:
        """The run's source: the read plan's decision (opened here if the stream has no feed)."""
        if self._source is None:
            feed = self.tap.reads.feed(self.name)
            self._source = feed.source() if feed is not None else self.open_source()
        return self._source

    def source_pages(self) -> Iterator[list[Record]]:
        """The pages of this run's source, in order (taken from the plan's feed once)."""
        feed = self.tap.reads.take(self.name)
        pages: Iterable[Page]
        if feed is not None:
            self._source = feed.source()
            pages = feed.pages()
        else:  # no feed, or a second sync of the same tap object: read here, anew
            if self._pages_read:
                self._source = None
            pages = self.read_source().pages
        self._pages_read = True
        return decoded(pages)


class ListStream(FeedStream):
    """Every record of the list endpoint ``path`` (``paginator_class`` pages), read ahead."""

    @override
    def open_source(self) -> Source:
        pages = self.fetch_pages(
            self.path, self.paginator_class(), params={"size": self.page_size}, ahead=False
        )
        return Source(export=False, reason="", bound=Bound(None), pages=pages)

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        for page in self.source_pages():
            yield from page

    @override
    def get_record_pages(self, context: Context | None) -> Iterable[list[Record]] | None:
        if type(self).get_records is not ListStream.get_records:
            return None  # a subclass reads otherwise
        return self.source_pages()


class IncrementalStream(FeedStream):
    """A stream replicated on ``updatedAt``, from ``export/{export_type}`` or ``rest_records``."""

    replication_key = "updatedAt"
    #: ``export/{export_type}`` serves this stream.
    export_type: t.ClassVar[str]
    #: The list endpoint(s) of the fallback, as logged.
    rest_route: t.ClassVar[str]
    #: The CDTs whose deletes (data audit feed) are tombstones of this stream (deletes.py).
    deleted_cdts: t.ClassVar[tuple[str, ...]] = ()

    @override
    def open_source(self) -> Source:
        """:meth:`decide_source`, and the delete events its tombstones need, read here too."""
        source = self.decide_source()
        if self.reads_deletes():
            delete_events(self, source.bound)  # cached for the writer's read
        return source

    def reads_deletes(self) -> bool:
        """Whether this stream's read merges tombstones from the data audit feed."""
        return bool(self.deleted_cdts)

    def decide_source(self) -> Source:
        """Export or list endpoints, per ``extraction_path``.

        With ``auto`` the first page of the export read is the permission check: a
        403 (no export permission) or 404 (no such export) means the list
        endpoints; otherwise the page is the first of the export read.
        """
        mode = str(self.config.get("extraction_path") or "auto")
        bound = self.read_bound()
        if mode == "rest":
            return self.rest_source(bound, "forced by extraction_path=rest")
        if getattr(self, "export_type", None) is None:
            return self.rest_source(bound, "Welkin has no export of it")
        pages = self.export_pages(bound)
        if mode == "export":
            return Source(export=True, reason="", bound=bound, pages=pages)
        try:
            first = next(pages, None)
        except (WelkinExportForbidden, WelkinNotFound) as exc:
            self.logger.warning("Export API not available (%s); using list endpoints.", exc)
            return self.rest_source(bound, "the API client may not use the export API")
        pages = itertools.chain([] if first is None else [first], pages)
        return Source(export=True, reason="", bound=bound, pages=pages)

    def rest_source(self, bound: Bound, reason: str) -> Source:
        """The fallback read, in pages of ``page_size``."""
        pages = chunked(self.rest_records(bound), self.page_size)
        return Source(export=False, reason=reason, bound=bound, pages=pages)

    @property
    def path(self) -> str:  # type: ignore[override]
        """The route template being read, as the SDK's request metrics name it."""
        export_type = getattr(self, "export_type", None)
        if export_type is None or (self._source is not None and not self._source.export):
            return self.rest_route.split(" ", 1)[1].removeprefix("/{tenant}/{instance}/")
        return f"export/{export_type}"

    def read_bound(self) -> Bound:
        """The bound of this stream's read (the CDT reader combines several)."""
        return self.bound()

    @property
    @override
    def is_sorted(self) -> bool:
        # The export is ordered by (updatedAt, id), so its bookmark can resume
        # mid-stream; list endpoints are not, so their bookmark only moves at the end.
        return self.read_source().export

    @property
    @override
    def check_sorted(self) -> bool:
        # Export: a lookback_window re-reads records older than the bookmark on
        # purpose, and items() checks the order itself. List endpoints: the
        # SDK must compare, so the bookmark becomes the greatest value seen.
        return not self.read_source().export

    def describe_path(self) -> str:
        """What this stream reads, for the one log line per run."""
        source = self.read_source()
        if source.export:
            return f"GET /{{tenant}}/{{instance}}/export/{self.export_type} (bulk export)"
        return f"{self.rest_route} ({source.reason})"

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        for page in self.record_pages():
            yield from page

    @override
    def get_record_pages(self, context: Context | None) -> Iterable[list[Record]] | None:
        if type(self).get_records is not IncrementalStream.get_records:
            return None  # a subclass (event mode) reads otherwise
        return self.record_pages()

    def record_pages(self) -> Iterator[list[Record]]:
        """The run's records in pages: shaped, order-checked, bounded, tombstones merged."""
        pages = self.source_pages()
        bound = self.read_source().bound
        self.logger.info("Stream '%s' reads %s.", self.name, self.describe_path())
        self.stream_state[COMPLETE_KEY] = False
        key = str(self.replication_key)
        stones = tombstones(self, bound, self.deleted_cdts)
        if stones:
            records = with_tombstones(self, self.items(pages), stones)
            pages = chunked((r for r in records if bound.keeps(r.get(key))), self.page_size)
            yield from pages
        else:
            check = self.read_source().export
            previous = ""
            for page in pages:
                if check:
                    previous = self.check_page_order(previous, page)
                records = self.shape_page(page)
                if bound.floor is not None:
                    records = [r for r in records if bound.keeps(r.get(key))]
                yield records
        self.stream_state[COMPLETE_KEY] = True

    def check_page_order(self, previous: str, page: list[Record]) -> str:
        """The last update time of ``page`` if no item is older than the one before it."""
        times = [export_updated_at(item) for item in page]
        last = next((u for u in reversed(times) if u), previous)
        known = [previous, *(u for u in times if u)] if previous else [u for u in times if u]
        # Welkin's timestamps share one form (UTC, ms, Z): text order is time order.
        if all(len(u) == 24 and u[-1] == "Z" for u in known) and all(
            a <= b for a, b in itertools.pairwise(known)
        ):
            return last
        for item in page:
            previous = self.check_order(previous, item)
        return previous

    def shape_page(self, page: list[Record]) -> list[Record]:
        """``shape`` of each item of ``page``."""
        shape = self.shape
        return [shape(item) for item in page]

    def items(self, pages: Iterable[list[Record]]) -> Iterator[Record]:
        """The items of this run's ``pages`` as records (``shape``), in order.

        Raises:
            ExportOrderError: an export item is older than the one before it.
        """
        check = self.read_source().export
        previous = ""
        shape = self.shape
        for page in pages:
            for item in page:
                if check:
                    previous = self.check_order(previous, item)
                yield shape(item)

    def check_order(self, previous: str, item: Record) -> str:
        """``item``'s update time if it is not older than ``previous`` (both ISO timestamps)."""
        updated = export_updated_at(item)
        if not updated:
            return previous
        # Welkin's timestamps share one format (UTC, ms, Z): compare the text, parse otherwise.
        same_form = len(updated) == len(previous) and updated[-1] == previous[-1] == "Z"
        older = (
            updated < previous
            if same_form
            else bool(previous) and parse_timestamp(updated) < parse_timestamp(previous)
        )
        if older:
            msg = (
                f"export/{self.export_type} returned records out of updatedAt order; "
                "use extraction_path=rest for this instance."
            )
            raise ExportOrderError(msg)
        return updated

    def shape(self, item: Record) -> Record:
        """A Welkin item as a record: CDT-style items get top-level timestamps."""
        return surface_timestamps(item)

    def rest_records(self, bound: Bound) -> Iterable[Record]:
        """The fallback read: every item updated at or after ``bound`` (more is fine)."""
        raise NotImplementedError

    def export_pages(self, bound: Bound) -> Iterator[RawPage]:
        """The pages of ``export/{export_type}`` from ``bound`` (lazily requested), raw.

        Read in a feed thread, which holds them until the stream is written.
        """
        return self.fetch_raw_pages(
            f"export/{self.export_type}",
            ExportCursorPaginator(bound.request_start),
            params={"pageSize": self.page_size},
            page_param="start",
        )

    def patient_ids(self) -> Iterator[str]:
        """Every patient id, a page of 1000 at a time (memory does not grow with patients)."""
        pages = self.fetch_pages(
            "by-filter/patients",
            SpringPagePaginator(),
            params={"size": self.page_size},
            method="POST",
            body={},
        )
        for page in pages:
            for patient in page:
                yield str(patient["id"])

    def for_each_patient(self, read: Callable[[str], Iterable[list[Record]]]) -> Iterator[Record]:
        """Records of ``read(patient_id)`` for every patient; a patient deleted mid-sync is skipped.

        A per-patient endpoint answering 404 means the patient (or its record list)
        went away after it was listed: that is logged without the id and counted.
        """
        skipped = 0
        for patient_id in self.patient_ids():
            try:
                for page in read(patient_id):
                    yield from page
            except WelkinNotFound as exc:
                skipped += 1
                self.logger.warning("Skipped a patient that no longer exists: %s", exc)
        if skipped:
            self.logger.warning(
                "Stream '%s' skipped %d patient(s) deleted during the sync.", self.name, skipped
            )
        self.skipped_patients = skipped


def decoded(pages: Iterable[Page]) -> Iterator[list[Record]]:
    """``pages`` with raw export pages decoded, less the boundary items already given.

    An inclusive ``start`` repeats the previous page's last items (ExportBoundary).
    """
    boundary = ExportBoundary()
    for page in pages:
        if isinstance(page, RawPage):
            yield boundary.fresh(decode_page(page.content).get("data") or [])
        else:
            yield page


def surface_timestamps(item: Record) -> Record:
    """Copy ``jsonBody.created_at/updated_at`` of a CDT-style record to ``createdAt/updatedAt``.

    Per-patient reads have no top-level timestamps, export items should have them
    (spec 11.1, but be tolerant); both end up with the same columns, and
    ``updatedAt`` is the replication key. Other items are returned unchanged.
    """
    body = item.get("jsonBody")
    if isinstance(body, dict):
        for top, inner in (("updatedAt", "updated_at"), ("createdAt", "created_at")):
            if item.get(top) is None and body.get(inner) is not None:
                item[top] = body[inner]  # a key neither level has stays missing
    return item
