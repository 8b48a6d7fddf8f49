"""singer-sdk's standard tap tests against the seeded emulator, plus our own key checks."""

from __future__ import annotations

from typing import Any

import tap_welkin_testkit as kit
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_welkin.streams import RESOURCE_STREAMS
from tap_welkin.tap import TapWelkin
from welkin_emulator.testing import EmulatorProcess

# The SDK builds its test class at import time, so the shared emulator starts here.
_EMULATOR = kit.shared_emulator()
CONFIG = kit.tap_config(_EMULATOR)
CATALOG = kit.select_all(TapWelkin(config=CONFIG, validate_config=True).catalog_dict)

# The SDK's per-attribute tests (is_boolean, is_datetime, ...) cannot evaluate an open
# property (schema `{}`, a field no source shows) and crash at collection. The kit checks
# every record of every sync against its SCHEMA message instead (types and formats), which
# covers what they test.
# The audit feeds are empty on a freshly seeded emulator (seeding writes no audit history).
AUDIT_STREAMS = ["data_audit", "webhook_audit"]
TestTapWelkin = get_tap_test_class(
    TapWelkin,
    config=CONFIG,
    catalog=CATALOG,
    include_stream_attribute_tests=False,
    suite_config=SuiteConfig(ignore_no_records_for_streams=AUDIT_STREAMS),
)
CORE_STREAMS = {e["tap_stream_id"] for e in CATALOG["streams"]} - {c.name for c in RESOURCE_STREAMS}
KEYS = {e["tap_stream_id"]: e["key_properties"] for e in CATALOG["streams"]}


def test_primary_keys_are_unique_and_present(baseline: kit.TapRun) -> None:
    """Every stream emits records, each with its key, and no key twice in one full sync.

    (The SDK's primary-key test only checks that the key is in each record.)
    """
    counts = baseline.counts()
    streams = {entry["tap_stream_id"] for entry in CATALOG["streams"]}
    assert streams - set(AUDIT_STREAMS) <= set(counts), f"without records: {streams - set(counts)}"
    for stream, count in counts.items():
        assert all(all(r.get(k) for k in KEYS[stream]) for r in baseline.records[stream].values())
        assert len(baseline.records[stream]) == count, f"duplicate keys in {stream}"


def test_catalog_keys_and_replication(baseline: kit.TapRun) -> None:
    """Core streams: primary key ``id``; ``updatedAt`` incremental except users (full table).

    (The other streams' keys are checked in test_resources.py.)
    """
    for entry in (e for e in CATALOG["streams"] if e["tap_stream_id"] in CORE_STREAMS):
        assert list(entry["key_properties"]) == ["id"]
        if entry["tap_stream_id"] == "users":
            assert entry.get("replication_key") is None
        else:
            assert entry["replication_key"] == "updatedAt"
            assert entry["replication_method"] == "INCREMENTAL"


def test_full_sync_costs_one_request_per_export_page(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    """40 patients: each export fits one page, and export/CDT_RECORD is read once for all CDTs."""
    kit.run_tap(kit.tap_config(shared), catalog=catalog, name="request-count")
    counts = shared.requests()
    exports = 15  # one page per export stream
    assert counts["GET /{tenant}/{instance}/export/{type}"] == exports
    # The data_audit stream, and one read of the feed for every stream's tombstones.
    assert counts["GET /{tenant}/admin/audit-data"] == 2
    # One token; the users list for the users stream and for the work hours stream (whose
    # endpoint wants the users named), whose rules then take one request for 50 users.
    assert counts["POST /{tenant}/admin/api_clients/{clientName}"] == 1
    assert counts["GET /{tenant}/admin/users"] == 2
    assert counts["GET /{tenant}/{instance}/calendar/work-hours"] == 1
    # The rest: one request per Designer stream (formations) and the list-only streams'
    # per-patient reads (document summaries, care plan goals, encounter assessment links).
    assert sum(1 for s in baseline.records if s.startswith("cdt_")) >= 3


def test_small_pages_give_the_same_records_once(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    """Many page boundaries (the emulator's export `start` is inclusive): no record twice."""
    run = kit.run_tap(kit.tap_config(shared, page_size=7), catalog=catalog, name="small-pages")
    assert run.records == baseline.records
    assert run.counts() == baseline.counts()


def test_parents_are_synced_before_the_records_that_point_at_them(baseline: kit.TapRun) -> None:
    # A target writing into Welkin resolves a CDT record's patient, an event's host and an
    # encounter's event as it goes only if those come first.
    first_seen: dict[str, int] = {}
    for position, message in enumerate(baseline.messages):
        if message["type"] == "RECORD":
            first_seen.setdefault(message["stream"], position)
    order = sorted(first_seen, key=first_seen.__getitem__)
    cdt_streams = [s for s in order if s.startswith("cdt_") and s != "cdt_records"]
    assert cdt_streams
    assert order.index("users") < order.index("patients") < order.index("calendar_events")
    assert order.index("calendar_events") < order.index("encounters")
    assert all(order.index("patients") < order.index(cdt) for cdt in cdt_streams)


def test_records_keep_welkins_shape(baseline: kit.TapRun) -> None:
    # Keys Welkin leaves out stay out (no invented nulls); objects pass through whole.
    users = list(baseline.records["users"].values())
    patients = list(baseline.records["patients"].values())
    for key in ("phone", "credentials", "fullTerritoriesAccessInstances"):
        assert any(key in u for u in users) and any(key not in u for u in users), key
    assert not any("userAttributes" in u for u in users)
    assert any("accessCode" in p for p in patients) and any("accessCode" not in p for p in patients)
    contacts = [p["pointOfContact"] for p in patients if p["pointOfContact"] is not None]
    assert contacts and all(set(c) == {"id", "pointOfContact"} for c in contacts)
    names = [n for u in users for t in u["territories"] for n in t["territories"]]
    assert names and all(isinstance(n, str) for n in names)
    assert any(u["customUserAttributes"] for u in users)
