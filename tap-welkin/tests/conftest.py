"""tap-welkin test fixtures: the shared seeded emulator and the helper module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import tap_welkin_testkit as kit  # noqa: E402
from welkin_emulator.testing import EmulatorProcess  # noqa: E402


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """The shared, read-only seeded emulator (faults cleared after each use)."""
    emu = kit.shared_emulator()
    yield emu
    emu.stop()


@pytest.fixture
def shared(emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The shared emulator for one test, with faults and the request counter reset."""
    emulator.clear_faults()
    emulator.reset_requests()
    yield emulator
    emulator.clear_faults()


@pytest.fixture(scope="session")
def baseline(emulator: EmulatorProcess) -> kit.TapRun:
    """A clean full sync of the shared emulator over the export API (all streams selected)."""
    config = kit.tap_config(emulator)
    catalog = kit.select_all(kit.discover(config, name="baseline-discover"))
    return kit.run_tap(config, catalog=catalog, name="baseline")
