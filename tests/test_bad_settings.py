"""Each bad setting of docs/bad-settings.md, given to the real command: one clear line.

The rows live in scripts/bad_settings.py, which also writes the table; here every row
runs again and must end with exit code 1, the table's exact message, no traceback, no
record emitted and never the bad value. Rows whose settings are malformed must not
send a single request.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from welkin_emulator.testing import EmulatorProcess, seed_database

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bad_settings", ROOT / "scripts" / "bad_settings.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bad = _load()
DOCUMENTED = bad.documented_messages()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    db = tmp_path_factory.mktemp("bad-settings") / "w.db"
    seed_database(db, patients=20, seed=1)
    with EmulatorProcess(db) as emu:
        yield emu


def test_the_table_has_a_row_per_case() -> None:
    assert len(DOCUMENTED) == len(bad.ROWS) >= 12


@pytest.mark.parametrize(
    ("number", "row"),
    list(enumerate(bad.ROWS, 1)),
    ids=[f"{i}-{r.plugin}-{r.setting}-{r.shown}" for i, r in enumerate(bad.ROWS, 1)],
)
def test_bad_setting_ends_with_the_documented_line(
    emulator: EmulatorProcess, test_log_dir: Path, number: int, row: Any
) -> None:
    api_url = emulator.api_url.rsplit("/", 2)[0]
    before = emulator.requests().get("total", 0)
    outcome = bad.run_row(row, api_url, bad.closed_port_url())
    (test_log_dir / f"bad-settings-{number}.log").write_text(outcome.stderr)
    assert outcome.exit_code == 1, outcome.stderr[-3000:]
    assert outcome.message == DOCUMENTED[number - 1], outcome.stderr[-3000:]
    assert row.setting in outcome.message  # names what to fix
    assert "Traceback" not in outcome.stderr
    assert outcome.records == 0
    if row.value is not None:
        assert row.value not in outcome.stderr
    if not row.reaches_welkin:  # malformed settings stop the command before any request
        assert emulator.requests().get("total", 0) == before


def test_debug_log_level_shows_where_an_expected_error_was_raised(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    closed = bad.closed_port_url()
    config.write_text(
        f'{{"tenant": "demo", "instance": "sandbox", "api_client": "C", "secret_key": "x",'
        f' "api_url": "{closed}", "max_retries": 1}}'
    )
    command = [str(bad.BIN / "tap-welkin"), "--config", str(config)]
    quiet = subprocess.run(command, capture_output=True, text=True, check=False)
    debug = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TAP_WELKIN_LOGLEVEL": "DEBUG"},
    )
    assert quiet.returncode == debug.returncode == 1
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in debug.stderr
    assert "welkin_client/retry.py" in debug.stderr
