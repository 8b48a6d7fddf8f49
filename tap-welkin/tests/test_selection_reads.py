"""A run reads only the feeds of the selected streams, and the shared CDT feed once."""

from __future__ import annotations

import copy
from typing import Any

import tap_welkin_testkit as kit
from welkin_emulator.testing import EmulatorProcess

EXPORT = "GET /{tenant}/{instance}/export/{type}"
USERS = "GET /{tenant}/admin/users"


def _only(catalog: dict[str, Any], *streams: str) -> dict[str, Any]:
    chosen = copy.deepcopy(catalog)
    for entry in chosen["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return chosen


def _cdt_streams(catalog: dict[str, Any]) -> list[str]:
    names = [e["tap_stream_id"] for e in catalog["streams"]]
    return sorted(n for n in names if n.startswith("cdt_") and n != "cdt_records")


def test_one_cdt_stream_alone_reads_the_shared_feed_once(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    config = kit.tap_config(shared, page_size=20)  # several pages of export/CDT_RECORD
    every_cdt = _cdt_streams(catalog)
    kit.run_tap(config, catalog=_only(catalog, *every_cdt), name="all-cdts")
    all_cdt_reads = shared.requests()[EXPORT]
    assert all_cdt_reads > 1
    shared.reset_requests()
    alone = kit.run_tap(config, catalog=_only(catalog, every_cdt[0]), name="one-cdt")
    counts = shared.requests()
    assert counts[EXPORT] == all_cdt_reads  # the same one read, not one per CDT
    assert USERS not in counts
    assert set(alone.records) == {every_cdt[0]}
    assert alone.records[every_cdt[0]] == baseline.records[every_cdt[0]]


def test_unselected_feeds_are_not_read(shared: EmulatorProcess, catalog: dict[str, Any]) -> None:
    run = kit.run_tap(kit.tap_config(shared), catalog=_only(catalog, "users"), name="users-only")
    counts = shared.requests()
    assert EXPORT not in counts
    assert counts[USERS] == 1
    assert set(run.records) == {"users"}
