"""Pins the singer-sdk behaviour tap_welkin.sdk_compat relies on."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import sys
import typing as t

import pytest
from singer_sdk.helpers import _catalog, _state
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import SelectionMask
from singer_sdk.streams import RESTStream, core
from tap_welkin import output, sdk_compat
from tap_welkin.output import WelkinMessageWriter


def test_sdk_calls_the_deselection_pass_by_module_name() -> None:
    # install() swaps the name core looks up for each record; the SDK must still do so.
    source = inspect.getsource(core.Stream._generate_record_messages)  # noqa: SLF001
    assert "pop_deselected_record_properties(record, self.schema, self.mask)" in source
    sdk_compat.install()
    assert core.pop_deselected_record_properties is sdk_compat.pop_deselected_properties  # type: ignore[attr-defined]


def test_mask_without_false_selects_every_property() -> None:
    # Missing breadcrumbs inherit their parent; the root defaults to selected.
    mask = SelectionMask({(): True, ("properties", "id"): True})
    assert mask[("properties", "other")] is True
    assert mask[("properties", "other", "properties", "deep")] is True


def test_skipped_pass_matches_the_sdk_walk() -> None:
    all_selected = SelectionMask({(): True, ("properties", "id"): True})
    one_off = SelectionMask({(): True, ("properties", "secret"): False})
    for mask in (all_selected, one_off):
        ours: dict[str, t.Any] = {"id": "1", "secret": "x", "nested": {"a": 1}}
        theirs = {"id": "1", "secret": "x", "nested": {"a": 1}}
        sdk_compat.pop_deselected_properties(ours, {}, mask)
        _catalog.pop_deselected_record_properties(theirs, {}, mask)
        assert ours == theirs
    assert "secret" not in ours


def test_rest_stream_has_the_private_request_call() -> None:
    params = list(inspect.signature(RESTStream._request).parameters)  # noqa: SLF001
    assert params[:3] == ["self", "prepared_request", "context"]


def test_record_writes_the_direct_path_replaces() -> None:
    # DirectRecordWrites stands in for exactly these steps of the SDK.
    write = inspect.getsource(core.Stream._write_record_message)  # noqa: SLF001
    assert "self._generate_record_messages(record)" in write
    assert "self.state_manager.is_flushed = False" in write
    generate = inspect.getsource(core.Stream._generate_record_messages)  # noqa: SLF001
    for step in (
        "conform_record_data_types(",
        "for stream_map in self.stream_maps:",
        "mapped_record = stream_map.transform(record)",
        "stream=stream_map.stream_alias",
        "version=self._stream_version",
        "time_extracted=utc_now()",
    ):
        assert step in generate, step


def _written(
    monkeypatch: pytest.MonkeyPatch, write: t.Callable[[WelkinMessageWriter], None]
) -> bytes:
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    writer = WelkinMessageWriter()
    write(writer)
    writer.flush()
    return out.getvalue()


@pytest.mark.parametrize("version", [None, 1700000000])
def test_direct_record_line_is_the_sdk_message(
    monkeypatch: pytest.MonkeyPatch, version: int | None
) -> None:
    record = {"id": "1", "n": 2.5, "nested": {"a": [1, None]}, "text": "é\n"}
    when = dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:  # type: ignore[override]
            return t.cast("Frozen", when)

    sdk = _written(
        monkeypatch,
        lambda w: w.write_message(
            RecordMessage(stream="s", record=dict(record), version=version, time_extracted=when)
        ),
    )
    monkeypatch.setattr(output.dt, "datetime", Frozen)
    direct = _written(monkeypatch, lambda w: w.write_record("s", dict(record), version))
    assert direct == sdk
    assert direct.endswith(b"\n")
    assert direct.count(b"\n") == 1


def test_bookmark_rules_the_direct_increment_repeats() -> None:
    # Sorted streams: the value is set unconditionally; checked ones keep the greatest
    # value, unsorted ones in progress_markers.
    source = inspect.getsource(_state.increment_state)
    assert "progress_dict = stream_or_partition_state[PROGRESS_MARKERS]" in source
    assert "if old_rk_value is None or not check_sorted or new_rk_value >= old_rk_value:" in source
    assert _state.PROGRESS_MARKERS == "progress_markers"
    unsorted: dict[str, t.Any] = {}
    for value in ("2025-01-02", "2025-01-01"):
        _state.increment_state(
            unsorted,
            latest_record={"u": value},
            replication_key="u",
            is_sorted=False,
            check_sorted=True,
        )
    assert unsorted["progress_markers"]["replication_key_value"] == "2025-01-02"


def test_page_loop_repeats_the_sdk_record_loop() -> None:
    # DirectRecordWrites._sync_records stands in for these steps, a page at a time.
    sync = inspect.getsource(core.Stream.sync)
    assert "for _ in self._sync_records(context=context):" in sync
    loop = inspect.getsource(core.Stream._sync_records)  # noqa: SLF001
    for step in (
        "self._check_max_record_limit(current_record_index=record_index)",
        "record = self.post_process(record, current_context)",
        "self._process_record(",
        "self._write_record_message(record)",
        "self._increment_stream_state(record, context=current_context)",
        "% self.STATE_MSG_FREQUENCY == 0",
        "record_counter.increment()",
        "self._write_starting_replication_value(current_context)",
        "state = self.get_context_state(current_context)",
        "self._finalize_state(state)",
        "self._finalize_state(self.stream_state)",
        "self._write_state_message()",
    ):
        assert step in loop, step
    process = inspect.getsource(core.Stream._process_record)  # noqa: SLF001
    assert "self.generate_child_contexts(" in process  # nothing to do without child streams


@pytest.mark.parametrize("checked", [True, False])
@pytest.mark.parametrize("old", [None, "2025-01-02", "2025-01-09"])
def test_page_bookmark_is_the_per_record_increments(checked: bool, old: str | None) -> None:
    # Sorted, unchecked (export): bookmark in the state; unsorted, checked: in progress_markers.
    values = ["2025-01-05", "2025-01-03", "2025-01-07", "2025-01-04"]
    bookmark: dict[str, t.Any] = {}
    if old is not None:
        bookmark = {"replication_key": "u", "replication_key_value": old}
    state: dict[str, t.Any] = {"progress_markers": bookmark} if checked else bookmark
    for value in values:
        _state.increment_state(
            state,
            latest_record={"u": value},
            replication_key="u",
            is_sorted=not checked,
            check_sorted=checked,
        )
    page = sdk_compat.page_bookmark(values, old, checked=checked)
    assert (page if page is not None else old) == bookmark["replication_key_value"]


@pytest.mark.parametrize("version", [None, 1700000000])
def test_page_of_records_is_the_same_lines(
    monkeypatch: pytest.MonkeyPatch, version: int | None
) -> None:
    records = [{"id": str(i), "n": i / 3, "b": {"x": [None, True]}} for i in range(5)]
    when = dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:  # type: ignore[override]
            return t.cast("Frozen", when)

    monkeypatch.setattr(output.dt, "datetime", Frozen)

    def one_by_one(writer: WelkinMessageWriter) -> None:
        for record in records:
            writer.write_record("s", dict(record), version)

    single = _written(monkeypatch, one_by_one)
    page = _written(monkeypatch, lambda w: w.write_records("s", records, version))
    assert page == single
    assert page.count(b"\n") == len(records)
