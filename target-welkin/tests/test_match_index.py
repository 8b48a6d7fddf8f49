"""The match index: Welkin, read in bulk, decides what exists; the id map only makes reruns cheaper."""

from __future__ import annotations

import json
import logging
import subprocess
from collections import Counter

from target_welkin.client import PatientsApi
from target_welkin.idmap import IdMap
from target_welkin.index import IndexSpec, MatchIndex
from welkin_client import WelkinClient
from welkin_emulator.testing import EmulatorProcess

from .helpers import (
    PATIENT_SCHEMA,
    TARGET_BIN,
    WelkinReader,
    lines_of,
    run_cli,
    run_target,
    writes,
)

EXPORT = "GET /{tenant}/{instance}/export/{type}"
STREAMS = {
    "feed": {
        "resource": "cdt",
        "cdt": "allergies",
        "patient_field": "eid",
        "patient_key": "externalId",
    }
}


def inputs(singer, key, count):
    people = [
        {"externalId": f"{key}-{i}", "firstName": f"F{i}", "lastName": "Lexample"}
        for i in range(count)
    ]
    allergies = [
        {"eid": f"{key}-{i}", "external_id": f"{key}-a{i}", "allergy": "Oat"} for i in range(count)
    ]
    return [*singer.stream("patients", people, PATIENT_SCHEMA), *singer.stream("feed", allergies)]


def reads(counts):
    return sum(n for route, n in counts.items() if route.startswith("GET "))


def test_first_load_costs_one_call_per_record(emu, config, key, singer):
    config["streams"] = STREAMS
    run = run_target(config, inputs(singer, key, 30))
    counts = emu.requests()
    assert run.summary["patients"]["created"] == 30 and run.summary["feed"]["created"] == 30
    assert writes(counts) == 60
    # The index read of each feed, and again after the writes; no lookup per record.
    assert "GET /{tenant}/{instance}/patients/{patientId}" not in counts, counts
    assert not [route for route in counts if "/cdts/" in route and route.startswith("GET")]
    assert reads(counts) == 1 + counts[EXPORT], counts


def test_empty_state_dir_rerun_writes_nothing_and_reads_in_bulk(emu, config, key, singer, tmp_path):
    config["streams"] = STREAMS
    messages = inputs(singer, key, 25)
    assert run_target(config, messages).summary["feed"]["created"] == 25
    config["state_dir"] = str(tmp_path / "fresh-container")  # the id map is gone
    emu.reset_requests()
    again = run_target(config, messages)
    counts = emu.requests()
    assert again.summary["patients"]["unchanged"] == 25
    assert again.summary["feed"]["unchanged"] == 25
    assert writes(counts) == 0, counts
    # Formations and one export read per feed (the shared emulator holds < 1000 of each).
    assert counts.get(EXPORT, 0) <= 4, counts
    assert reads(counts) <= counts.get(EXPORT, 0) + 1, counts


def index_of(emu, tmp_path, page_size):
    client = WelkinClient(
        {
            "tenant": emu.tenant,
            "instance": emu.instance,
            "api_client": emu.client_name,
            "secret_key": emu.client_secret,
            "api_url": emu.url,
            "max_requests_per_second": 0,
        }
    )
    idmap = IdMap(tmp_path / "idmap.sqlite", secret="s")
    index = MatchIndex(client, idmap, logging.getLogger("test"), page_size=page_size)
    api = PatientsApi(client)
    index.register(
        IndexSpec(
            "patients",
            ("externalId", "externalGuid", "mrn"),
            scoped=False,
            values=api.values,
            fields={},
            exists=lambda welkin_id, _parent: api.get(welkin_id, None) is not None,
        )
    )
    return index, idmap


def test_index_reads_the_feed_when_it_costs_no_more_than_the_input(emu, key, tmp_path, welkin):
    welkin.create_patient({"externalId": f"{key}-x", "firstName": "A", "lastName": "B"})
    index, idmap = index_of(emu, tmp_path / "a", page_size=1000)
    # A mapping of a patient Welkin no longer has (deleted there) goes with the full read.
    idmap.record("patients", [f"externalId={key}-gone"], "no-such-id", payload={"a": 1})
    idmap.fold([], ("PATIENT", None))  # no cursor: a full read
    index._check_latest = lambda spec, feed: None  # type: ignore[method-assign] # not the sentinel
    emu.reset_requests()
    index.ensure("patients", queued=5)
    assert idmap.find("patients", [f"externalId={key}-gone"]) == []
    assert index.complete("patients")
    assert index.describe()["patients"].startswith("export (")
    assert [e.source_key for e in idmap.find("patients", [f"externalId={key}-x"])]
    assert idmap.find("patients", [f"externalId={key}-none"]) == []
    pages = emu.requests()[EXPORT]
    idmap.close()

    # The same instance read 2 records a request: more requests than the 3 queued records.
    small, small_map = index_of(emu, tmp_path / "b", page_size=2)
    emu.reset_requests()
    small.ensure("patients", queued=3)
    assert not small.complete("patients")
    assert small.describe()["patients"] == "lookup"
    assert emu.requests()[EXPORT] == 3 < pages * 500
    small_map.close()


def test_deletes_where_welkin_allows_them(emu, config, key, singer, welkin):
    config["streams"] = STREAMS
    config["allow_deletes"] = True
    assert run_target(config, inputs(singer, key, 2)).summary["feed"]["created"] == 2
    at = "2026-01-02T03:04:05Z"
    marked = [
        *singer.stream(
            "patients",
            [{"externalId": f"{key}-0", "firstName": "F0", "lastName": "L", "_sdc_deleted_at": at}],
            PATIENT_SCHEMA,
        ),
        *singer.stream(
            "feed",
            [
                {
                    "eid": f"{key}-0",
                    "external_id": f"{key}-a0",
                    "allergy": "Oat",
                    "_sdc_deleted_at": at,
                },
                {
                    "eid": f"{key}-1",
                    "external_id": f"{key}-zz",
                    "allergy": "Oat",
                    "_sdc_deleted_at": at,
                },
            ],
        ),
    ]
    emu.reset_requests()
    run = run_target(config, marked)
    assert run.summary["patients"]["skipped_delete"] == 1  # patients cannot be deleted
    assert run.summary["feed"]["deleted"] == 1
    assert run.summary["feed"]["unchanged"] == 1  # never in Welkin: nothing to delete
    counts = emu.requests()
    assert writes(counts) == 1 and sum(v for k, v in counts.items() if k.startswith("DELETE")) == 1
    patient = welkin.patient_by("EID", f"{key}-0")
    assert patient is not None
    assert welkin.cdt_records(patient["id"], "allergies") == []
    other = welkin.patient_by("EID", f"{key}-1")
    assert other is not None and len(welkin.cdt_records(other["id"], "allergies")) == 1

    # Rerun of the first load: the deleted record is written again (Welkin decides).
    rerun = run_target(config, inputs(singer, key, 2))
    assert rerun.summary["feed"]["created"] == 1 and rerun.summary["feed"]["unchanged"] == 1


def test_two_processes_at_once_make_no_duplicate(emu, config, key, singer, welkin, tmp_path):
    config["streams"] = STREAMS
    config["max_workers"] = 4
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    both = lines_of(inputs(singer, key, 60))
    people_only = lines_of(inputs(singer, key, 60)[:61])
    emu.set_faults(latency_ms=10)
    procs = []
    try:
        for text in (both, people_only, both):
            proc = subprocess.Popen(
                [TARGET_BIN, "--config", str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            procs.append((proc, text))
        results = [p.communicate(text, timeout=180) for p, text in procs]
    finally:
        emu.clear_faults()
    assert [p.returncode for p, _ in procs] == [0, 0, 0], [r[1][-2000:] for r in results]
    people = Counter(
        p["externalId"] for p in welkin.patients() if str(p.get("externalId")).startswith(f"{key}-")
    )
    assert len(people) == 60 and max(people.values()) == 1
    for i in (0, 29, 59):
        patient = welkin.patient_by("EID", f"{key}-{i}")
        assert patient is not None
        records = welkin.cdt_records(patient["id"], "allergies")
        assert [r["jsonBody"]["external_id"] for r in records] == [f"{key}-a{i}"]
    # The id map is whole: a rerun from it writes nothing.
    emu.reset_requests()
    again = run_cli(config, inputs(singer, key, 60), tmp_path, "after-two")
    assert again.returncode == 0 and writes(emu.requests()) == 0


def test_without_export_permission_records_are_looked_up(emu, config, key, singer, welkin):
    config["api_client"] = emu.noexport_client_name
    config["secret_key"] = emu.noexport_client_secret
    config["streams"] = STREAMS
    first = run_target(config, inputs(singer, key, 3))
    assert first.summary["patients"]["created"] == 3 and first.summary["feed"]["created"] == 3
    counts = emu.requests()
    assert counts.get("GET /{tenant}/{instance}/patients/{patientId}", 0) >= 3  # lookups
    emu.reset_requests()
    again = run_target(config, inputs(singer, key, 3))
    assert again.summary["patients"]["unchanged"] == 3 and writes(emu.requests()) == 0


def test_a_read_cut_short_is_tried_again_once_the_input_has_grown(tmp_path):
    with EmulatorProcess(tmp_path / "small.db") as small:
        reader = WelkinReader(small)
        for i in range(5):
            reader.create_patient({"externalId": f"s-{i}", "firstName": "A", "lastName": "B"})
        index, idmap = index_of(small, tmp_path / "map", page_size=2)
        try:
            index.ensure("patients", queued=1)  # one request may be spent: not enough
            assert not index.complete("patients")
            index.ensure("patients", queued=1)  # 2 records seen, 1 request spent: 2 more
            assert not index.complete("patients")
            index.ensure("patients", queued=1)  # 3 seen < 2 x 3 spent: no read
            assert small.requests()[EXPORT] == 3
            index.ensure("patients", queued=3)  # 6 seen: a read of up to 6 requests
            assert index.complete("patients")
            assert idmap.find("patients", ["externalId=s-4"])
        finally:
            idmap.close()
