"""The one place tap-welkin relies on singer-sdk internals (pinned by tests/test_sdk_compat.py).

* singer-sdk 0.54 strips deselected properties from every record by walking the
  record against the stream's selection mask (``pop_deselected_record_properties``,
  called by name from ``singer_sdk.streams.core``). When nothing is deselected the
  walk changes nothing yet costs ~18% of the tap's CPU per record. ``install``
  replaces that name with a wrapper that skips the walk when the mask holds no
  ``False``: a missing breadcrumb inherits its parent's value and the root
  defaults to selected, so such a mask selects every property.
* ``Stream._write_record_message`` builds a ``RecordMessage`` per record through
  the deselection pass, type conformance and every stream map, then encodes its
  dict. :class:`DirectRecordWrites` writes the same bytes straight away when none
  of those steps can change the record (nothing deselected, no conformance, the
  one default stream map without flattening); otherwise it defers to the SDK.
* ``Stream._increment_stream_state`` moves the bookmark through the state
  manager for every record. :class:`DirectRecordWrites` sets the same two keys
  itself in the two cases tap-welkin uses once the SDK has made the state entry:
  a sorted, unchecked stream (export) and an unsorted, checked one (list
  endpoints, CDT streams: the greatest value, in ``progress_markers``).
* ``Stream._sync_records`` runs the SDK's per-record loop (record limit, post-processing,
  child contexts, write, state, STATE cadence, record counter). For a stream that
  offers its records a page at a time (:meth:`DirectRecordWrites.get_record_pages`)
  and where that loop would only write and count, :class:`DirectRecordWrites` writes
  each page at once, moves the bookmark once per page (to the page's last value on a
  sorted stream, its greatest on a checked one), writes STATE after the page that
  crosses each ``STATE_MSG_FREQUENCY`` records, and finalizes state as the SDK does.
* ``RESTStream._request`` sends one request (see :func:`request_sender`).
"""

from __future__ import annotations

import sys
import typing as t

import requests
from singer_sdk.helpers import _catalog
from singer_sdk.helpers._state import PROGRESS_MARKERS
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import RESTStream, Stream, core

from tap_welkin.output import WelkinMessageWriter

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib.catalog import SelectionMask

_walk = _catalog.pop_deselected_record_properties


def pop_deselected_properties(
    record: dict[str, t.Any],
    schema: dict[str, t.Any],
    mask: SelectionMask,
    breadcrumb: tuple[str, ...] = (),
) -> None:
    """The SDK's deselection pass, skipped when the mask deselects nothing."""
    if False in mask.values():
        _walk(record, schema, mask, breadcrumb)


def install() -> None:
    """Route the SDK's per-record deselection pass through ``pop_deselected_properties``."""
    core.pop_deselected_record_properties = pop_deselected_properties  # type: ignore[attr-defined]


def writes_records_unchanged(stream: Stream) -> bool:
    """Whether the SDK would write every record of ``stream`` exactly as given."""
    maps = stream.stream_maps
    return (
        len(maps) == 1
        and type(maps[0]) is SameRecordTransform
        and not maps[0].flattening_enabled
        and maps[0].stream_alias == stream.name
        and stream.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
        and False not in stream.mask.values()
    )


class DirectRecordWrites(Stream):
    """Writes RECORD messages without the SDK's per-record message objects when that is exact."""

    _direct_writer: WelkinMessageWriter | None = None
    _direct_checked = False

    def direct_writer(self) -> WelkinMessageWriter | None:
        """The writer of direct RECORD lines, or None where the SDK must write them."""
        # Decided at the first use: maps, mask and writer are fixed by then.
        if not self._direct_checked:
            writer = self._tap.message_writer
            if isinstance(writer, WelkinMessageWriter) and writes_records_unchanged(self):
                self._direct_writer = writer
            self._direct_checked = True
        return self._direct_writer

    def get_record_pages(
        self, context: Context | None
    ) -> t.Iterable[list[dict[str, t.Any]]] | None:
        """The sync's records a page at a time, or None to read ``get_records`` one by one."""
        return None

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        writer = self.direct_writer()
        if writer is None:
            super()._write_record_message(record)
            return
        writer.write_record(self.name, record, self._stream_version)
        self.state_manager.is_flushed = False

    @override
    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> t.Generator[dict[str, t.Any], t.Any, t.Any]:
        writer = self.direct_writer() if write_messages and self.selected else None
        plain = (
            writer is not None
            and not context
            and not self.partitions
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.child_streams
            and type(self).post_process is Stream.post_process
        )
        pages = self.get_record_pages(None) if plain else None
        if writer is None or pages is None:
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        counter, timer = self.get_record_counter(), self.get_sync_timer()
        with counter, timer:
            counter.with_context({})
            timer.with_context({})
            self._write_starting_replication_value(None)
            written, every = 0, self.STATE_MSG_FREQUENCY
            for page in pages:
                if not page:
                    continue
                writer.write_records(self.name, page, self._stream_version)
                self.state_manager.is_flushed = False
                self._increment_page_state(page)
                before, written = written, written + len(page)
                if written // every != before // every:
                    self._write_state_message()
                counter.increment(len(page))
                yield from page
            self._finalize_state(self.get_context_state(None))
        self._finalize_state(self.stream_state)
        self._write_state_message()

    def _increment_page_state(self, page: list[dict[str, t.Any]]) -> None:
        """Move the bookmark past ``page`` as the per-record increments would, at once."""
        key = self.replication_key
        bookmarks = self._tap_state.get("bookmarks", {}).get(self.name)
        manager = self.state_manager
        sorted_, checked = manager._is_sorted, manager._check_sorted  # noqa: SLF001
        progress = bookmarks if sorted_ or bookmarks is None else bookmarks.get(PROGRESS_MARKERS)
        values = [v for r in page if isinstance(v := r.get(key), str)] if key else []
        old = progress.get("replication_key_value") if progress is not None else None
        if (
            progress is None
            or self.replication_method != "INCREMENTAL"
            or sorted_ == checked
            or len(values) != len(page)
            or not (old is None or isinstance(old, str))
        ):
            for record in page:
                self._increment_stream_state(record, context=None)
            return
        new = page_bookmark(values, old, checked=checked)
        if new is not None:
            progress["replication_key"] = key
            progress["replication_key_value"] = new

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        key = self.replication_key
        value = latest_record.get(key) if key else None
        bookmarks = self._tap_state.get("bookmarks", {}).get(self.name)
        manager = self.state_manager
        sorted_, checked = manager._is_sorted, manager._check_sorted  # noqa: SLF001
        progress = bookmarks if sorted_ or bookmarks is None else bookmarks.get(PROGRESS_MARKERS)
        if (
            progress is None
            or not isinstance(value, str)
            or (context and self.state_partitioning_keys != [])
            or self.replication_method != "INCREMENTAL"
            or sorted_ == checked
        ):
            super()._increment_stream_state(latest_record, context=context)
            return
        old = progress.get("replication_key_value")
        if old is None or not checked or (isinstance(old, str) and value >= old):
            progress["replication_key"] = key
            progress["replication_key_value"] = value
        elif not isinstance(old, str):
            super()._increment_stream_state(latest_record, context=context)


def page_bookmark(values: list[str], old: str | None, *, checked: bool) -> str | None:
    """The bookmark after records with replication values ``values`` (None: unchanged).

    The SDK's per-record rule: a value replaces the bookmark when the stream is not
    checked, or when it is not below the bookmark.
    """
    new = max(values) if checked else values[-1]
    return new if old is None or not checked or new >= old else None


def request_sender(
    stream: RESTStream[t.Any],
) -> t.Callable[[requests.PreparedRequest, t.Any], requests.Response]:
    """``stream``'s send-one-request call with its retry decorator applied.

    ``RESTStream._request(prepared, context)`` sends, validates and authenticates
    one request; the SDK exposes no public equivalent for reading a path other
    than the stream's own.
    """
    return stream.request_decorator(stream._request)  # noqa: SLF001
