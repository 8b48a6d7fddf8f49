"""Calls per record on a 1,000-patient load and on its unchanged rerun (the issue's closing figures)."""

from __future__ import annotations

from .helpers import PATIENT_SCHEMA, run_target, writes

TOKEN = "POST /{tenant}/admin/api_clients/{clientName}"


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
    # One lookup by key before each create: 2.0 calls per record, plus the token.
    assert counts["total"] - counts[TOKEN] == 2000
    assert first.states == [{"done": True}]

    emu.reset_requests()
    rerun = run_target(config, messages)
    counts = emu.requests()
    assert rerun.summary["patients"]["unchanged"] == 1000
    assert writes(counts) == 0  # 0 write calls per record
    # and one read: Welkin still has the patient written last (else the id map is dropped).
    assert counts["total"] - counts.get(TOKEN, 0) == 1
