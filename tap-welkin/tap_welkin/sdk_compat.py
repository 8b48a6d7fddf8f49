"""The one place tap-welkin relies on singer-sdk internals (pinned by tests/test_sdk_compat.py).

singer-sdk 0.54 strips deselected properties from every record by walking the
record against the stream's selection mask (``pop_deselected_record_properties``,
called by name from ``singer_sdk.streams.core``). When nothing is deselected the
walk changes nothing yet costs ~18% of the tap's CPU per record. ``install``
replaces that name with a wrapper that skips the walk when the mask holds no
``False``: a missing breadcrumb inherits its parent's value and the root
defaults to selected, so such a mask selects every property.
"""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.helpers import _catalog
from singer_sdk.streams import RESTStream, core

if t.TYPE_CHECKING:
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


def request_sender(
    stream: RESTStream[t.Any],
) -> t.Callable[[requests.PreparedRequest, t.Any], requests.Response]:
    """``stream``'s send-one-request call with its retry decorator applied.

    ``RESTStream._request(prepared, context)`` sends, validates and authenticates
    one request; the SDK exposes no public equivalent for reading a path other
    than the stream's own.
    """
    return stream.request_decorator(stream._request)  # noqa: SLF001
