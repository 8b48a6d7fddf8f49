"""Calls per record on a 1,000-patient load and on its unchanged rerun (the issue's closing figures)."""

from __future__ import annotations

from .helpers import PATIENT_SCHEMA, run_target, writes

TOKEN = "POST /{tenant}/admin/api_clients/{clientName}"
EXPORT = "GET /{tenant}/{instance}/export/{type}"


def test_thousand_patients_one_write_each_then_none(emu, config, key, singer):
    patients = [
        {
            "externalId": f"{key}-{i}",
            "firstName": f"F{i}",
            "lastName": "Lexample",
            "birthDate": "1970-01-01",
        }
        for i in range(1000)
    ]
    messages = [*singer.stream("patients", patients, PATIENT_SCHEMA), singer.state({"done": True})]
    first = run_target(config, messages)
    counts = emu.requests()
    assert first.summary["patients"]["created"] == 1000
    assert writes(counts) == 1000  # 1.0 write call per record
    # No lookup per record: the export read before the writes (and once more after them).
    reads = counts["total"] - counts[TOKEN] - 1000
    assert reads == counts[EXPORT] and (counts["total"] - counts[TOKEN]) / 1000 <= 1.05, counts
    assert first.states == [{"done": True}]

    emu.reset_requests()
    rerun = run_target(config, messages)
    counts = emu.requests()
    assert rerun.summary["patients"]["unchanged"] == 1000
    assert writes(counts) == 0  # 0 write calls per record
    # and two reads: Welkin still has the patient written last (else the id map is dropped),
    # and the export delta since the last run is empty.
    assert counts["total"] - counts.get(TOKEN, 0) == 2, counts
    assert counts[EXPORT] == 1
