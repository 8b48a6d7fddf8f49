"""The logs of full syncs name no secret, token, patient id or seeded patient value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import tap_welkin_testkit as kit
from welkin_emulator.testing import EmulatorProcess

FREE_TEXT = re.compile(r"[\s\d@]")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
PATIENT_FIELDS = (
    "id", "firstName", "lastName", "middleName", "email", "phone", "mrn", "externalId",
    "externalGuid", "addressLine1", "addressLine2", "zip", "birthDate",
)  # fmt: skip


def _strings(value: Any) -> Iterator[str]:  # noqa: ANN401
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _mentions(log: str, value: str) -> bool:
    """``value`` as a whole token (a zip code inside a float is no leak)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", log) is not None


def seeded_values(emu: EmulatorProcess) -> set[str]:
    """Patient identifiers and values an operator must never find in a log."""
    api = kit.WelkinApi(emu)
    values: set[str] = set()
    for patient in api.export("PATIENT"):
        values.update(str(patient[f]) for f in PATIENT_FIELDS if patient.get(f))
    for kind in ("CDT_RECORD", "ENCOUNTER"):
        for item in api.export(kind):
            values.add(item["id"])
            # Free text, phones, emails and ids; not enum words such as "ENCOUNTER".
            values.update(v for v in _strings(item["jsonBody"]) if FREE_TEXT.search(v))
    # Short values and timestamps are too common to mean anything.
    return {v for v in values if len(v) >= 4 and not v.startswith("20")}


def test_full_sync_logs_are_clean(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    # Most verbose: DEBUG, list endpoints (one request per patient), a 404 to report.
    shared.script_faults(
        [
            {
                "action": "error",
                "status": 404,
                "route": "/{tenant}/{instance}/patients/{patientId}/encounters",
            }
        ]
    )
    rest = kit.run_tap(
        kit.tap_config(shared, export=False),
        catalog=catalog,
        name="hygiene-debug",
        env={"LOGLEVEL": "DEBUG"},
    )
    assert "DEBUG" in rest.stderr and "Skipped a patient" in rest.stderr
    forbidden = seeded_values(shared)
    assert len(forbidden) > 100  # the check below means something
    for run in (baseline, rest):
        log = run.stderr
        assert shared.client_secret not in log
        assert shared.noexport_client_secret not in log
        assert not JWT.search(log), "a token reached the log"
        leaked = sorted(v for v in forbidden if _mentions(log, v))
        assert not leaked, f"{len(leaked)} seeded values in {run.log_file.name}"
