"""Pins the singer-sdk behaviour tap_welkin.sdk_compat relies on."""

from __future__ import annotations

import inspect
import typing as t

from singer_sdk.helpers import _catalog
from singer_sdk.singerlib.catalog import SelectionMask
from singer_sdk.streams import RESTStream, core
from tap_welkin import sdk_compat


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
