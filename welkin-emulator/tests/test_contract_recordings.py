"""Replay every recorded exchange against the emulator and hold the answers to the recording.

Each recording in ``fixtures/recordings.json`` (facts extracted from the real service's traffic)
has a scenario (``contract_*.py``) that makes the same requests, in the same order, against a live
emulator, after creating whatever the recording assumed to exist. Status, headers, body kind, key
sets at every JSON path, JSON types, value formats (UUIDs, ``…mmmZ`` and offset timestamps),
pinned constants and error bodies must all match.
"""

from __future__ import annotations

import contract_care  # noqa: F401 - registers scenarios
import contract_core  # noqa: F401 - registers scenarios
import contract_documents  # noqa: F401 - registers scenarios
import contract_encounters  # noqa: F401 - registers scenarios
import contract_messages  # noqa: F401 - registers scenarios
import pytest
from contract_not_served import NOT_SERVED
from contract_registry import RECORDINGS, SCENARIOS
from emulator_contract import PATIENT_NEWER_KEYS, check_exchange
from emulator_kit import Api


def test_every_recording_has_a_scenario_or_a_reason() -> None:
    assert len(RECORDINGS) == 95
    for name, rec in RECORDINGS.items():
        assert name in SCENARIOS or rec.get("excluded") or name in NOT_SERVED, (
            f"recording {name} is not replayed"
        )
    assert not set(SCENARIOS) & set(NOT_SERVED), "a replayed recording is still marked unserved"
    assert set(SCENARIOS) | set(NOT_SERVED) <= set(RECORDINGS)


def test_every_recording_is_served() -> None:
    assert NOT_SERVED == {}
    assert {n for n, r in RECORDINGS.items() if not r.get("excluded")} == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_recording(api: Api, name: str) -> None:
    expected = RECORDINGS[name]["exchanges"]
    fn, options = SCENARIOS[name]
    responses = fn(api)
    assert len(responses) == len(expected)
    newer = (
        PATIENT_NEWER_KEYS
        if name.startswith(("test_patient", "fixtures/patient__"))
        else frozenset()
    )
    for exp, resp in zip(expected, responses, strict=True):
        check_exchange(
            exp,
            resp,
            optional=options.optional_keys,
            skip_constants=options.skip,
            newer_keys=newer,
            formation_bodies=options.formation_bodies,
            skip_headers=options.skip_headers,
        )
