"""`make demo` leaves the user's bookmarks and target-welkin id map alone.

The demo separates itself through environment variables only; these tests check with the
pinned Meltano that each one is a name Meltano reads and that it moves target-welkin's
id map and rejects file out of the user's `.state/`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"


def _demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _meltano(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(MELTANO), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def demo_env() -> dict[str, str]:
    env: dict[str, str] = _demo().demo_env("http://127.0.0.1:1")
    return env


def test_demo_state_id_suffix_is_the_variable_meltano_run_reads(demo_env: dict[str, str]) -> None:
    run_help = " ".join(_meltano("run", "--help").split())
    suffix = [name for name in demo_env if "STATE_ID_SUFFIX" in name]
    assert suffix == ["MELTANO_RUN_STATE_ID_SUFFIX"]
    assert "env var: MELTANO_RUN_STATE_ID_SUFFIX" in run_help


def test_demo_target_welkin_keeps_its_id_map_and_rejects_apart(demo_env: dict[str, str]) -> None:
    user = json.loads(
        _meltano("--environment=dev", "config", "print", "target-welkin", "--format=json")
    )
    demo = json.loads(_meltano("config", "print", "target-welkin", "--format=json", env=demo_env))
    assert demo["state_dir"] == demo_env["TARGET_WELKIN_STATE_DIR"] != user["state_dir"]
    assert demo["rejects_path"] == demo_env["TARGET_WELKIN_REJECTS_PATH"] != user["rejects_path"]
    assert Path(demo["state_dir"]).is_relative_to(ROOT / "build" / "demo")
