"""The whole suite's logs contain no secret, no token and no seeded patient value.

Runs last (see the root conftest). Every emulator database the suite created is
still under pytest's session temp folder, and under ``WELKIN_TEST_TMP`` when most of the
suite ran in an earlier pytest (`make test` runs it on xdist workers with that folder as
``--basetemp``, then the tests marked ``alone``, these last). The patient values in them, the sample CSV values and every
secret the suite configured are searched for in every log line the suite produced:
in-process logging and the stderr of every process the tests started
(``build/test-logs``, every worker's folder in it).
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

# It reads every other test's output: after all of them, with none beside it.
pytestmark = pytest.mark.alone
ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "build" / "test-logs"
KNOWN_SECRETS = {"demo-secret", "noexport-secret"}
# Welkin tokens are JWTs; the emulator's are JWT-shaped too.
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]+")
# Single-token values, matched word by word (a substring scan of every line would be slow).
DISTINCT_FIELDS = ("email", "phone", "secondaryPhone", "mrn", "externalId", "externalGuid")
WORD = re.compile(r"[\w.@+-]+")
# No exception: not even the emulator's banner shows a secret (not the demo ones either).


class PhiValues:
    """Values that must never reach a log, and a matcher for them."""

    def __init__(self) -> None:
        self.distinct: set[str] = set()
        self.last_names_by_first: dict[str, set[str]] = defaultdict(set)

    def add_patient(self, patient: dict[str, object]) -> None:
        for key in DISTINCT_FIELDS:
            value = patient.get(key)
            if isinstance(value, str) and len(value) >= 6:
                self.distinct.add(value)
        first, last = patient.get("firstName"), patient.get("lastName")
        if isinstance(first, str) and isinstance(last, str) and first and last:
            self.last_names_by_first[first].add(last)

    def leaks(self, line: str) -> list[str]:
        """What of this line is PHI: distinct values, or a first and last name together."""
        words = set(WORD.findall(line))
        found = [w for w in words if w in self.distinct]
        for word in words:
            lasts = self.last_names_by_first.get(word)
            if lasts and words & lasts:
                found.append(f"{word} {sorted(words & lasts)[0]}")
        return found


def _emulator_databases(bases: list[Path]) -> list[Path]:
    dbs = []
    for path in (found for base in bases for found in base.rglob("*.db")):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                tables = {r[0] for r in conn.execute("select name from sqlite_master")}
        except sqlite3.DatabaseError:
            continue
        if {"patients", "records"} <= tables:
            dbs.append(path)
    return dbs


def _collect_phi(bases: list[Path]) -> PhiValues:
    phi = PhiValues()
    for db in _emulator_databases(bases):
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            for (body,) in conn.execute("select body from patients"):
                phi.add_patient(json.loads(body))
    with (ROOT / "data" / "sample" / "ehr_patients.csv").open() as sample:
        for row in csv.DictReader(sample):
            phi.add_patient(row)
    return phi


def _collect_secrets(bases: list[Path]) -> set[str]:
    secrets = set(KNOWN_SECRETS)
    for path in (found for base in bases for found in base.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key, value in item.items():
                    if key in {"secret_key", "secret", "password"} and isinstance(value, str):
                        secrets.add(value)
                    stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
    return {s for s in secrets if len(s) >= 6}


@pytest.fixture(autouse=True)
def _after_every_other_test() -> None:
    """An xdist worker cannot know whether the others are done: refuse to run on one."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail(
            "run tests/hygiene after the rest of the suite, in a pytest without -n "
            '(`make test` does: the rest with -n 2 -m "not alone", then -m alone)'
        )


def _log_files() -> list[Path]:
    return [p for p in LOG_DIR.rglob("*") if p.is_file()]


def test_the_scanner_finds_what_it_looks_for() -> None:
    phi = PhiValues()
    phi.add_patient({"firstName": "Ada", "lastName": "Quill", "email": "ada.quill@example.org"})
    assert phi.leaks("created patient ada.quill@example.org")
    assert phi.leaks('{"firstName": "Ada", "lastName": "Quill"}')
    assert not phi.leaks("Ada wrote a quill pen review")  # case differs: no pair
    assert not phi.leaks("2 patients created, 0 rejected")
    assert JWT.search("Authorization: Bearer eyJhbGciOiJIUzI1.eyJzdWIiOiJERU1PIn0.c2ln")


def test_suite_logs_hold_no_secret_token_or_patient_value(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    bases = [tmp_path_factory.getbasetemp()]
    if os.environ.get("WELKIN_TEST_TMP"):
        bases.append(Path(os.environ["WELKIN_TEST_TMP"]))
    files = _log_files()
    assert len(files) >= 5, f"expected the suite's logs under {LOG_DIR}, found {len(files)} files"
    phi = _collect_phi(bases)
    assert len(phi.distinct) >= 100, (
        "expected the suite's seeded emulator databases to hold patients"
    )
    secrets = _collect_secrets(bases)

    problems: list[str] = []
    scanned = 0
    for path in files:
        with path.open(errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                scanned += 1
                where = f"{path.relative_to(LOG_DIR)}:{number}"
                problems += [f"{where}: secret" for s in secrets if s in line]
                if JWT.search(line):
                    problems.append(f"{where}: token")
                # Say where, never what: the report itself must not leak.
                if phi.leaks(line):
                    problems.append(f"{where}: patient value")
    assert scanned > 0
    assert not problems, f"{len(problems)} leaks, first ones:\n" + "\n".join(problems[:20])
