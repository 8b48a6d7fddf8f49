"""Shared fixtures: one seeded emulator process for the whole session, plus HTTP helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_kit import Api

from welkin_emulator.testing import EmulatorProcess, seed_database

SEED_PATIENTS = 40
SEED = 7


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("emu") / "seeded.db"
    seed_database(db, SEED_PATIENTS, seed=SEED)
    return db


@pytest.fixture(scope="session")
def emu(seeded_db: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(seeded_db) as process:
        yield process


@pytest.fixture
def api(emu: EmulatorProcess) -> Iterator[Api]:
    """An authenticated client; faults, script, counters and token throttle reset afterwards."""
    emu.reset()
    client = Api(emu)
    yield client
    client.session.close()
    emu.reset()
