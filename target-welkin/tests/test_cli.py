"""The target as a command: STATE timing, fatal errors, dry run, and what its log may contain."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import read_rejects
from .helpers import PATIENT_SCHEMA, run_cli, writes


def test_state_goes_out_once_the_records_before_it_are_written(
    emu, config, key, singer, welkin, test_log_dir
):
    # The second batch hits a 403 (a permission problem: fatal). The first STATE was
    # emitted after the first batch landed; the second never is.
    first = [
        {"externalId": f"{key}-a{i}", "firstName": "A", "lastName": "Bexample"} for i in range(5)
    ]
    second = [
        {"externalId": f"{key}-b{i}", "firstName": "A", "lastName": "Bexample"} for i in range(5)
    ]
    messages = [
        *singer.stream("patients", first, PATIENT_SCHEMA),
        singer.state({"bookmarks": {"patients": "first"}}),
        singer.schema("users"),
        singer.record("users", {"username": f"{key}-u", "email": f"{key}@example.org"}),
        *(singer.record("patients", r) for r in second),
        singer.state({"bookmarks": {"patients": "second"}}),
    ]
    emu.script_faults(
        [{"action": "error", "status": 403, "method": "POST", "route": "/{tenant}/admin/users"}]
    )
    run = run_cli(config, messages, test_log_dir, "state-timing")
    assert run.returncode != 0
    assert run.states == [{"bookmarks": {"patients": "first"}}]
    assert all(welkin.patient_by("EID", r["externalId"]) for r in first)
    assert "403" in run.stderr
    assert "Traceback" not in run.stderr  # an expected error: one line
    # The log says how far the run got before it stopped.
    stopped = next(line for line in run.stderr.splitlines() if "Run stopped early" in line)
    so_far = json.loads(stopped.split("summary so far: ", 1)[1])
    assert so_far["patients"]["created"] >= 5


def test_wrong_secret_stops_the_run_before_any_record(emu, config, key, singer, test_log_dir):
    config["secret_key"] = "not-the-secret-8c1d"
    run = run_cli(
        config,
        singer.stream(
            "patients", [{"externalId": f"{key}-x", "firstName": "A", "lastName": "Bexample"}]
        ),
        test_log_dir,
        "wrong-secret",
    )
    assert run.returncode != 0
    assert "refused the API client's secret" in run.stderr
    assert "Traceback" not in run.stderr
    assert "not-the-secret-8c1d" not in run.stderr
    counts = emu.requests()
    assert counts.get("total", 0) == counts.get("POST /{tenant}/admin/api_clients/{clientName}", 0)


def test_misconfigured_cdt_stops_the_run(emu, config, singer, test_log_dir):
    config["streams"] = {"feed": {"resource": "cdt", "cdt": "no-such-cdt"}}
    run = run_cli(
        config, singer.stream("feed", [{"patientId": "p", "x": 1}]), test_log_dir, "misconfigured"
    )
    assert run.returncode != 0
    assert "stream 'feed': this Welkin instance has no such CDT" in run.stderr
    assert "Traceback" not in run.stderr
    assert writes(emu.requests()) == 0


def test_dry_run_looks_up_and_writes_nothing(emu, config, key, singer, welkin, test_log_dir):
    welkin.create_patient(
        {"externalId": f"{key}-old", "firstName": "Old", "lastName": "Nameexample"}
    )
    records = [
        {"externalId": f"{key}-old", "firstName": "New", "lastName": "Nameexample"},
        *(
            {"externalId": f"{key}-n{i}", "firstName": "A", "lastName": "Bexample"}
            for i in range(3)
        ),
    ]
    allergies = [{"patientId": f"{key}-n0", "external_id": f"{key}-a", "allergy": "Oat"}]
    config.update(dry_run=True, streams={"cdt_allergies": {"patient_key": "externalId"}})
    messages = [
        *singer.stream("patients", records, PATIENT_SCHEMA),
        *singer.stream("cdt_allergies", allergies),
    ]
    emu.reset_requests()
    run = run_cli(config, messages, test_log_dir, "dry-run")
    assert run.returncode == 0
    assert writes(emu.requests()) == 0
    assert (
        run.summary["patients"]["would_create"] == 3
        and run.summary["patients"]["would_update"] == 1
    )
    assert run.summary["cdt_allergies"]["would_create"] == 1  # its patient would be created first
    assert "Dry run plan (nothing was written)" in run.stderr
    assert welkin.patient_by("EID", f"{key}-n0") is None
    assert welkin.patient_by("EID", f"{key}-old")["firstName"] == "Old"
    # The real run afterwards does what the plan said.
    config["dry_run"] = False
    real = run_cli(config, messages, test_log_dir, "after-dry-run")
    assert real.summary["patients"]["created"] == 3 and real.summary["patients"]["updated"] == 1


def test_log_and_rejects_hold_no_values(emu, config, key, singer, test_log_dir):
    # Values of good and bad records, marked so they can be searched for.
    marker = f"PHI{key.replace('-', '')}"
    records = [
        {
            "externalId": f"{key}-1",
            "firstName": f"{marker}first",
            "lastName": f"{marker}last",
            "email": f"{marker}@example.org",
            "birthDate": "1971-03-04",
        },
        {
            "externalId": f"{key}-2",
            "firstName": f"{marker}bad",
            "lastName": "Xexample",
            "birthDate": f"{marker}date",
        },
        {"externalId": f"{key}-3", "firstName": f"{marker}nolast"},
    ]
    config["log_level"] = "DEBUG"
    run = run_cli(
        config,
        [*singer.stream("ehr_patients", records), f'{{"broken {marker}'],
        test_log_dir,
        "hygiene",
    )
    config["streams"] = {"ehr_patients": {"resource": "patients"}}
    run2 = run_cli(
        config,
        [*singer.stream("ehr_patients", records), f'{{"broken {marker}'],
        test_log_dir,
        "hygiene2",
    )
    rejects = Path(str(config["rejects_path"])).read_text()
    assert len(read_rejects(config)) >= 3
    for text in (run.stderr, run2.stderr, rejects):
        assert marker not in text
        assert config["secret_key"] not in text
    assert "Bearer" not in run2.stderr


def test_welkin_down_stops_the_run_and_state_stays_behind(
    emu, config, key, singer, welkin, test_log_dir
):
    config["max_retries"] = 2
    messages = [
        *singer.stream(
            "patients",
            [{"externalId": f"{key}-1", "firstName": "A", "lastName": "Bexample"}],
            PATIENT_SCHEMA,
        ),
        singer.state({"bookmarks": {"patients": "before"}}),
        singer.record(
            "patients", {"externalId": f"{key}-2", "firstName": "A", "lastName": "Bexample"}
        ),
        singer.state({"bookmarks": {"patients": "after"}}),
    ]
    emu.script_faults(
        [
            {
                "action": "error",
                "status": 503,
                "method": "GET",
                "route": "/{tenant}/{instance}/export/{type}",
                "times": -1,
            }
        ]
    )
    run = run_cli(config, messages, test_log_dir, "welkin-down")
    assert run.returncode != 0
    assert run.states == []  # nothing was written, so no STATE moved forward
    assert "503" in run.stderr
    assert "Traceback" not in run.stderr
    assert read_rejects(config) == []  # an outage is not the record's fault


def test_unusable_match_key_stops_the_run(emu, config, singer, test_log_dir):
    config["streams"] = {"feed": {"resource": "patients", "match_keys": ["email"]}}
    run = run_cli(
        config, singer.stream("feed", [{"email": "a@example.org"}]), test_log_dir, "bad-key"
    )
    assert run.returncode != 0
    assert "streams.feed.match_keys: ['email'] cannot match Welkin patients" in run.stderr
    assert "Traceback" not in run.stderr
    assert writes(emu.requests()) == 0


def test_batch_messages_are_rejected(emu, config, singer, test_log_dir):
    batch = {"type": "BATCH", "stream": "patients", "encoding": {"format": "jsonl"}, "manifest": []}
    config["max_reject_ratio"] = 1.0  # the batch is the run's only "record"
    run = run_cli(config, [singer.schema("patients"), batch], test_log_dir, "batch")
    assert run.returncode == 0, run.stderr[-2000:]
    [reject] = read_rejects(config)
    assert reject["key"] == "line 2"
    assert reject["stream"] == "patients"
    assert "BATCH message: not supported: run the tap without batch_config" in reject["reason"]
