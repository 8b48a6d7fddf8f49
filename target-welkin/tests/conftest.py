"""Fixtures of the target-welkin suite: one emulator for the suite, a fresh state per test.

Every test talks to a real ``welkin-emulator`` over HTTP. Tests share one
server (starting one costs about a second) and stay independent by using
their own keys (``key`` fixture), their own state folder, and by zeroing the
request counter and faults before they start.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from welkin_emulator.testing import EmulatorProcess, seed_database

from .helpers import Singer, WelkinReader

_counter = itertools.count()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """The suite's emulator (empty database: formations and the default API client only)."""
    with EmulatorProcess(tmp_path_factory.mktemp("emulator") / "welkin.db") as emu:
        yield emu


@pytest.fixture(scope="session")
def seeded_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """A second emulator with seeded patients, CDT records, encounters and events (the source)."""
    db = tmp_path_factory.mktemp("source") / "welkin.db"
    seed_database(db, patients=12, seed=7)
    with EmulatorProcess(db) as emu:
        yield emu


@pytest.fixture
def emu(emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The suite's emulator with no faults and a zeroed request counter."""
    emulator.clear_faults()
    emulator.reset_requests()
    yield emulator
    emulator.clear_faults()


def make_config(emu: EmulatorProcess, state_dir: Path, **extra: object) -> dict[str, object]:
    """A target config for ``emu`` with its id map in ``state_dir``."""
    return {
        "tenant": emu.tenant,
        "instance": emu.instance,
        "api_client": emu.client_name,
        "secret_key": emu.client_secret,
        "api_url": emu.url,
        "max_requests_per_second": 0,
        "request_timeout": 5,
        "state_dir": str(state_dir),
        "rejects_path": str(state_dir / "rejects.jsonl"),
        **extra,
    }


@pytest.fixture
def config(emu: EmulatorProcess, tmp_path: Path) -> dict[str, object]:
    """Config of the target against the suite's emulator, with a fresh id map."""
    return make_config(emu, tmp_path / "state")


@pytest.fixture
def key() -> str:
    """A prefix that makes this test's external keys its own."""
    return f"t{next(_counter)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def welkin(emu: EmulatorProcess) -> WelkinReader:
    """Reads back what the target wrote, through the API."""
    return WelkinReader(emu)


@pytest.fixture
def singer() -> Singer:
    """Builds Singer messages."""
    return Singer()


def read_rejects(config: dict[str, object]) -> list[dict[str, object]]:
    """The rejects file as a list of dicts (empty if there is none)."""
    path = Path(str(config["rejects_path"]))
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
