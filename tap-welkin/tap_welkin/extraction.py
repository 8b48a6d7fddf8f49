"""Incremental streams that read the export API, or the list endpoints when export is not allowed.

The export API (``GET export/{TYPE}``) returns a whole instance in ``updatedAt``
order, 1000 records a request, so it is the default. An API client without
export permission gets 403 there; the stream then reads the per-patient and list
endpoints instead (``extraction_path=auto``), which costs about one request per
patient. ``extraction_path`` forces either path.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import typing as t
from functools import cached_property

from welkin_client.errors import WelkinExportForbidden, WelkinNotFound
from welkin_client.pagination import (
    ExportCursorPaginator,
    SpringPagePaginator,
    export_updated_at,
)

from tap_welkin.bookmarks import COMPLETE_KEY, Bound, parse_timestamp
from tap_welkin.client import WelkinStream
from tap_welkin.deletes import with_tombstones

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


class IncrementalStream(WelkinStream):
    """A stream replicated on ``updatedAt``, from ``export/{export_type}`` or ``rest_records``."""

    replication_key = "updatedAt"
    #: ``export/{export_type}`` serves this stream.
    export_type: t.ClassVar[str]
    #: The list endpoint(s) of the fallback, as logged.
    rest_route: t.ClassVar[str]
    #: The CDTs whose deletes (data audit feed) are tombstones of this stream (deletes.py).
    deleted_cdts: t.ClassVar[tuple[str, ...]] = ()

    _prefetched: tuple[Bound, list[Record] | None, Iterator[list[Record]]] | None = None
    _fallback_reason = "forced by extraction_path=rest"

    @cached_property
    def uses_export(self) -> bool:
        """Whether this run reads the export API (resolved once, before the sync's state).

        With ``extraction_path=auto`` the first page of the export read is the
        permission check: a 403 (no export permission) or 404 (no such export)
        means the list endpoints; otherwise the page is kept for ``export_items``.
        """
        mode = str(self.config.get("extraction_path") or "auto")
        if mode in {"export", "rest"}:
            return mode == "export"
        bound = self.read_bound()
        pages = self.export_pages(bound)
        try:
            first = next(pages, None)
        except (WelkinExportForbidden, WelkinNotFound) as exc:
            self.logger.warning("Export API not available (%s); using list endpoints.", exc)
            self._fallback_reason = "the API client may not use the export API"
            return False
        self._prefetched = (bound, first, pages)
        return True

    @property
    def path(self) -> str:  # type: ignore[override]
        """The route template being read, as the SDK's request metrics name it."""
        # Not `uses_export`: the export check itself sends a request.
        if "uses_export" in self.__dict__ and not self.uses_export:
            return self.rest_route.split(" ", 1)[1].removeprefix("/{tenant}/{instance}/")
        return f"export/{self.export_type}"

    def read_bound(self) -> Bound:
        """The bound of this stream's read (the CDT reader combines several)."""
        return self.bound()

    @property
    @override
    def is_sorted(self) -> bool:
        # The export is ordered by (updatedAt, id), so its bookmark can resume
        # mid-stream; list endpoints are not, so their bookmark only moves at the end.
        return self.uses_export

    @property
    @override
    def check_sorted(self) -> bool:
        # Export: a lookback_window re-reads records older than the bookmark on
        # purpose, and export_items checks the order itself. List endpoints: the
        # SDK must compare, so the bookmark becomes the greatest value seen.
        return not self.uses_export

    def describe_path(self) -> str:
        """What this stream reads, for the one log line per run."""
        if self.uses_export:
            return f"GET /{{tenant}}/{{instance}}/export/{self.export_type} (bulk export)"
        return f"{self.rest_route} ({self._fallback_reason})"

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        bound = self.read_bound()
        self.logger.info("Stream '%s' reads %s.", self.name, self.describe_path())
        self.stream_state[COMPLETE_KEY] = False
        items = self.export_items(bound) if self.uses_export else self.rest_records(bound)
        for item in with_tombstones(self, items, bound, self.deleted_cdts):
            record = self.shape(item)
            if bound.keeps(record.get(self.replication_key)):
                yield record
        self.stream_state[COMPLETE_KEY] = True

    def shape(self, item: Record) -> Record:
        """A Welkin item as a record: CDT-style items get top-level timestamps."""
        return surface_timestamps(item)

    def rest_records(self, bound: Bound) -> Iterable[Record]:
        """The fallback read: every item updated at or after ``bound`` (more is fine)."""
        raise NotImplementedError

    def export_items(self, bound: Bound) -> Iterator[Record]:
        """Every export item from ``bound``, once, checked to be in ``updatedAt`` order.

        Raises:
            ExportOrderError: an item is older than the one before it.
        """
        previous: dt.datetime | None = None
        pages: Iterable[list[Record]]
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == bound:
            _, first, rest = prefetched
            pages = itertools.chain([] if first is None else [first], rest)
        else:
            pages = self.export_pages(bound)
        # ExportCursorPaginator.records already drops the items an inclusive
        # `start` repeats at a page boundary.
        for page in pages:
            for item in page:
                updated = export_updated_at(item)
                current = parse_timestamp(updated) if updated else None
                if current is not None and previous is not None and current < previous:
                    msg = (
                        f"export/{self.export_type} returned records out of updatedAt order; "
                        "use extraction_path=rest for this instance."
                    )
                    raise ExportOrderError(msg)
                previous = current or previous
                yield item

    def export_pages(self, bound: Bound) -> Iterator[list[Record]]:
        """The pages of ``export/{export_type}`` from ``bound`` (lazily requested)."""
        return self.fetch_pages(
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
