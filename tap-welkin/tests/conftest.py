"""tap-welkin test fixtures: the shared seeded emulator and the helper module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import tap_welkin_testkit as kit  # noqa: E402
from welkin_emulator.testing import EmulatorProcess  # noqa: E402


@pytest.hookimpl(trylast=True)  # after pytest's tmp_path plugin has set up its factory
def pytest_configure(config: pytest.Config) -> None:
    """Keep emulator databases and tap configs under pytest's session temp folder.

    The suite-wide hygiene scan (tests/hygiene) takes the patient values and
    secrets to look for from there. The shared emulator starts at import time (the
    SDK's test class needs it), before any fixture, hence this hook.
    """
    factory = getattr(config, "_tmp_path_factory", None)  # set by pytest's tmp_path plugin
    if factory is not None:
        kit.TEMP_ROOT = factory.mktemp("tap-welkin")


@pytest.fixture(scope="session", autouse=True)
def _tap_logs_in_suite_folder(test_log_dir: Path) -> None:
    """Subprocess stderr goes to the suite's ``test_log_dir``, which the hygiene scan reads."""
    kit.LOG_DIR = test_log_dir


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
def catalog(emulator: EmulatorProcess) -> dict[str, Any]:
    """The shared emulator's discovered catalog with every stream selected."""
    return kit.select_all(kit.discover(kit.tap_config(emulator), name="catalog"))


@pytest.fixture(scope="session")
def baseline(emulator: EmulatorProcess, catalog: dict[str, Any]) -> kit.TapRun:
    """A clean full sync of the shared emulator over the export API (all streams selected)."""
    emulator.clear_faults()
    return kit.run_tap(kit.tap_config(emulator), catalog=catalog, name="baseline")
