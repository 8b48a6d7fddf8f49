"""Fixtures for the end-to-end tests: real emulators, real Meltano runs, real databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_kit import MELTANO, ROOT, Meltano
from welkin_dagster.meltano_run import linked_sys_dir
from welkin_emulator.testing import EmulatorProcess, seed_database

SEED_PATIENTS = 120


@pytest.fixture
def meltano(tmp_path: Path, test_log_dir: Path) -> Meltano:
    """A Meltano runner whose state, outputs, target state and scratch live in ``tmp_path``.

    Meltano's scratch (``.meltano/run``: config, catalog, state.json per plugin name) is the
    test's own, so tests on parallel xdist workers never read each other's.
    """
    if not MELTANO.exists():
        pytest.fail("Meltano is not installed: run `make meltano` (make test does)")
    env = {
        "MELTANO_ENVIRONMENT": "dev",
        "MELTANO_SYS_DIR_ROOT": str(linked_sys_dir(ROOT, tmp_path / ".meltano")),
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TARGET_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "jsonl"),
        "TARGET_WELKIN_STATE_DIR": str(tmp_path / "target-state"),
        "TARGET_WELKIN_REJECTS_PATH": str(tmp_path / "rejects.jsonl"),
    }
    return Meltano(workdir=tmp_path, log_dir=test_log_dir, env=env)


@pytest.fixture
def seeded_emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """A freshly seeded emulator of its own (tests change its data)."""
    db = tmp_path / "source.db"
    seed_database(db, SEED_PATIENTS, seed=11)
    with EmulatorProcess(db) as emulator:
        yield emulator


@pytest.fixture
def empty_emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """An emulator with formations but no patients: the destination of a copy."""
    db = tmp_path / "destination.db"
    seed_database(db, 0, seed=11)
    with EmulatorProcess(db) as emulator:
        yield emulator
