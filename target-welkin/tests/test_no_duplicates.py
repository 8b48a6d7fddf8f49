"""No duplicates and nothing lost: reruns, a killed run, ambiguous create failures, one key at a time."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter

import pytest

from .helpers import PATIENT_SCHEMA, TARGET_BIN, lines_of, run_cli, run_target, writes

POST_PATIENTS = "POST /{tenant}/{instance}/patients"


def patients(key, count, **extra):
    return [
        {"externalId": f"{key}-{i}", "firstName": f"F{i}", "lastName": "Lexample", **extra}
        for i in range(count)
    ]


def count_by_external_id(welkin, key):
    return Counter(
        p["externalId"] for p in welkin.patients() if str(p.get("externalId")).startswith(f"{key}-")
    )


def test_second_identical_run_makes_zero_write_calls(
    emu, config, key, singer, welkin, test_log_dir
):
    config["streams"] = {
        "feed": {
            "resource": "cdt",
            "cdt": "allergies",
            "patient_field": "eid",
            "patient_key": "externalId",
        }
    }
    messages = [
        *singer.stream("patients", patients(key, 40), PATIENT_SCHEMA),
        *singer.stream(
            "feed",
            [
                {"eid": f"{key}-{i}", "external_id": f"{key}-a{i}", "allergy": "Oat"}
                for i in range(40)
            ],
        ),
        singer.state({"bookmarks": {"patients": 40}}),
    ]
    first = run_cli(config, messages, test_log_dir, "rerun-first")
    assert first.returncode == 0
    assert first.summary["patients"]["created"] == 40 and first.summary["feed"]["created"] == 40
    assert writes(emu.requests()) == 80  # one POST per record, nothing else

    emu.reset_requests()
    second = run_cli(config, messages, test_log_dir, "rerun-second")
    counts = emu.requests()
    assert second.returncode == 0
    assert writes(counts) == 0
    assert (
        second.summary["patients"]["unchanged"] == 40 and second.summary["feed"]["unchanged"] == 40
    )
    # Only the token, the CDT formation list, one check per resource that Welkin still
    # has the record written last, and the export delta of each feed since the last run.
    assert counts["total"] == 6, counts
    assert counts["GET /{tenant}/{instance}/export/{type}"] == 2, counts
    assert second.states == [{"bookmarks": {"patients": 40}}]


def test_killed_run_rerun_leaves_no_duplicate_and_nothing_missing(
    emu, config, key, singer, welkin, test_log_dir, tmp_path
):
    total = 120
    # Each patient followed by its insurance record, so the kill cuts through both. (A CDT
    # with a required field: the emulator processes a request whose body the kill cut
    # short as an empty body, which Welkin refuses only when something is required.)
    config["streams"] = {"cdt_cdt_insurance": {"patient_key": "externalId"}}
    messages = [singer.schema("patients", PATIENT_SCHEMA), singer.schema("cdt_cdt_insurance")]
    for patient in patients(key, total):
        messages.append(singer.record("patients", patient))
        insurance = {
            "patientId": patient["externalId"],
            "external_id": patient["externalId"] + "-a",
            "cdtf-member-id": "M-1",
        }
        messages.append(singer.record("cdt_cdt_insurance", insurance))
    emu.set_faults(latency_ms=15)  # slow enough to kill it mid-way
    config_path = tmp_path / "kill-config.json"
    config_path.write_text(json.dumps(config))
    test_log_dir.mkdir(parents=True, exist_ok=True)
    with (test_log_dir / f"target-welkin-killed-{key}.stderr.log").open("w") as err:
        proc = subprocess.Popen(
            [TARGET_BIN, "--config", str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(lines_of(messages))
        proc.stdin.close()
        deadline = time.monotonic() + 60
        while emu.requests().get(POST_PATIENTS, 0) < total // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # a crash: no drain, no goodbye
        proc.wait(10)
    landed = count_by_external_id(welkin, key)
    assert 0 < sum(landed.values()) < total  # it really died mid-way

    emu.clear_faults()
    rerun = run_cli(config, messages, test_log_dir, "killed-rerun")
    assert rerun.returncode == 0
    final = count_by_external_id(welkin, key)
    assert set(final) == {f"{key}-{i}" for i in range(total)}  # nothing missing
    assert max(final.values()) == 1  # no duplicate
    for patient in welkin.patients():
        if str(patient.get("externalId")).startswith(f"{key}-"):
            records = welkin.cdt_records(patient["id"], "cdt-insurance")
            assert [r["jsonBody"]["external_id"] for r in records] == [
                patient["externalId"] + "-a"
            ], json.dumps([r["jsonBody"] for r in records])


FAULTS = {
    "5xx after commit": {"action": "error", "status": 502, "after": True},
    "dropped connection after commit": {"action": "drop", "after": True},
    "timeout after commit": {"action": "timeout", "after": True, "seconds": 2.5},
    "429 before processing": {"action": "throttle", "retry_after": 0},
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_ambiguous_create_failures_leave_no_duplicates(emu, config, key, singer, welkin, fault):
    config["request_timeout"] = 1
    user = {"username": f"{key}-host", "email": f"{key}@example.org"}
    event = {
        "externalId": f"{key}-ev",
        "startDateTime": "2031-01-01T09:00:00Z",
        "endDateTime": "2031-01-01T09:30:00Z",
        "hostId": f"{key}-u",
        "participants": [{"participantId": f"{key}-u", "participantRole": "psm"}],
    }
    messages = [
        *singer.stream("users", [{**user, "id": f"{key}-u"}]),
        *singer.stream("patients", patients(key, 3), PATIENT_SCHEMA),
        *singer.stream(
            "cdt_allergies",
            [{"patientId": f"{key}-0", "external_id": f"{key}-a", "allergy": "Oat"}],
        ),
        *singer.stream("calendar_events", [event]),
        *singer.stream(
            "encounters",
            [
                {
                    "patientId": f"{key}-1",
                    "external_id": f"{key}-enc",
                    "templateName": "etmp-follow-up",
                    "title": "T",
                }
            ],
        ),
    ]
    config["streams"] = {
        "cdt_allergies": {"patient_key": "externalId"},
        "encounters": {"patient_key": "externalId"},
    }
    routes = [
        "/{tenant}/admin/users",
        "/{tenant}/{instance}/patients",
        "/{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}",
        "/{tenant}/{instance}/calendar/events",
        "/{tenant}/{instance}/patients/{patientId}/encounters",
    ]
    emu.script_faults([{**FAULTS[fault], "method": "POST", "route": r, "times": 1} for r in routes])

    run = run_target(config, messages)

    assert sum(run.summary[s]["retried"] for s in run.summary) == 5
    assert count_by_external_id(welkin, key) == {f"{key}-{i}": 1 for i in range(3)}
    patient = welkin.patient_by("EID", f"{key}-0")
    assert len(welkin.cdt_records(patient["id"], "allergies")) == 1
    assert len([e for e in welkin.events() if e["externalId"] == f"{key}-ev"]) == 1
    assert welkin.user(f"{key}-host") is not None
    assert len(welkin.encounters(welkin.patient_by("EID", f"{key}-1")["id"])) == 1
    counts = emu.requests()
    if FAULTS[fault].get("after"):
        # The create landed; the recheck found it, so there was no second POST.
        assert counts[POST_PATIENTS] == 3
        assert counts["POST /{tenant}/admin/users"] == 1
        assert counts["POST /{tenant}/{instance}/patients/{patientId}/encounters"] == 1
    else:
        assert counts[POST_PATIENTS] == 4  # refused before processing: sent again


def test_one_key_is_never_written_twice_at_once(emu, config, key, singer, welkin):
    config["max_workers"] = 8
    same_key = [
        {"externalId": f"{key}-same", "firstName": f"V{i}", "lastName": "Lexample"}
        for i in range(25)
    ]
    others = patients(key, 15)
    run = run_target(
        config,
        singer.stream(
            "patients",
            [r for pair in zip(same_key, others, strict=False) for r in pair] + same_key[15:],
            PATIENT_SCHEMA,
        ),
    )
    assert run.summary["patients"]["created"] == 16
    counts = emu.requests()
    assert counts[POST_PATIENTS] == 16  # one create for the shared key, despite 8 writers
    assert counts["PATCH /{tenant}/{instance}/patients/{patientId}"] == 24
    assert (
        welkin.patients_with("externalId", f"{key}-same")[0]["firstName"] == "V24"
    )  # input order kept
    assert max(count_by_external_id(welkin, key).values()) == 1


def test_records_waiting_for_a_late_parent_keep_their_order(emu, config, key, singer, welkin):
    # The allergy comes before its patient (as tap-welkin orders streams); a newer
    # version of the same allergy comes after the patient. The newer one must win.
    allergy = {"patientId": f"{key}-src-p", "external_id": f"{key}-a", "allergy": "Oat"}
    messages = [
        *singer.stream("cdt_allergies", [{**allergy, "severity": "Mild"}]),
        singer.state({"at": "allergies"}),
        *singer.stream(
            "patients",
            [
                {
                    "id": f"{key}-src-p",
                    "externalId": f"{key}-p",
                    "firstName": "A",
                    "lastName": "Bexample",
                }
            ],
        ),
        singer.record("cdt_allergies", {**allergy, "severity": "Severe"}),
        singer.state({"at": "end"}),
    ]
    run = run_target(config, messages)
    patient = welkin.patient_by("EID", f"{key}-p")
    records = welkin.cdt_records(patient["id"], "allergies")
    assert [r["jsonBody"]["severity"] for r in records] == ["Severe"]
    assert (
        run.summary["cdt_allergies"]["created"] == 1
        and run.summary["cdt_allergies"]["updated"] == 1
    )
    # The first STATE waited for the deferred record; only the last one went out.
    assert run.states == [{"at": "end"}]


def test_token_expiring_mid_run_costs_nothing(emu, config, key, singer, welkin):
    # One-second tokens and slow responses: the token runs out during the run. 60 creates at
    # 100 ms each on the target's 4 writers take 1.5 s at the least, however fast the machine
    # (at 20 ms, a quiet machine finished in 0.7 s, within the first token).
    emu.set_faults(token_lifetime=1, latency_ms=100)
    run = run_target(config, singer.stream("patients", patients(key, 60), PATIENT_SCHEMA))
    counts = emu.requests()
    assert run.summary["patients"]["created"] == 60
    assert counts["POST /{tenant}/admin/api_clients/{clientName}"] > 1  # it was refreshed
    assert counts[POST_PATIENTS] >= 60  # a 401 on an expired token is sent again
    assert count_by_external_id(welkin, key) == {f"{key}-{i}": 1 for i in range(60)}
