"""Each plugin installs alone, the way a user installs it: one pip install of a git URL.

The repository's committed HEAD is cloned and each plugin is installed from
`git+file://<clone>#subdirectory=<plugin>` (the form MeltanoHub uses for monorepos) into an
empty virtual environment. Nothing else from this repository is installed, so the shared
client must travel inside the plugin's wheel and no dependency may name `welkin-client`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _uv() -> str | None:
    for candidate in (Path(sys.executable).parent / "uv", ROOT / ".venv-meltano" / "bin" / "uv"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("uv")


def _install(venv: Path, requirement: str) -> None:
    """An empty venv with `requirement` installed (uv when available: seconds, not minutes)."""
    uv = _uv()
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    result = subprocess.run([*install, requirement], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


def _distributions(venv: Path) -> set[str]:
    code = "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {name.strip().lower().replace("_", "-") for name in out.split()}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("repo") / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    return target


@pytest.mark.parametrize("plugin", ["tap-welkin", "target-welkin"])
def test_plugin_installs_alone_from_a_git_subdirectory(
    plugin: str, clone: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _install(venv, f"git+file://{clone}#subdirectory={plugin}")

    about = subprocess.run(
        [str(venv / "bin" / plugin), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert about.returncode == 0, about.stderr[-3000:]
    assert json.loads(about.stdout)["name"] == plugin

    installed = _distributions(venv)
    assert plugin in installed
    ours = {"welkin-client", "welkin-emulator", "tap-welkin", "target-welkin"} - {plugin}
    assert not installed & ours, f"{plugin} pulled in {sorted(installed & ours)}"
