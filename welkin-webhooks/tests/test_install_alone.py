"""welkin-webhooks installs with one pip install of the repository's subdirectory, and runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_installs_alone_from_a_git_subdirectory(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    venv = tmp_path / "venv"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    result = subprocess.run([*install, f"git+file://{clone}#subdirectory=welkin-webhooks"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    helped = subprocess.run([str(venv / "bin" / "welkin-webhooks"), "serve", "--help"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert helped.returncode == 0 and "--event-log" in helped.stdout
    no_secret = subprocess.run([str(venv / "bin" / "welkin-webhooks"), "serve", "--port", "0"],
                               capture_output=True, text=True, check=False,
                               env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert no_secret.returncode == 2 and "WELKIN_WEBHOOKS_SECRET" in no_secret.stderr
    # The event log's one definition travels inside the wheel (welkin_client.eventlog), without
    # the HTTP client's dependencies.
    code = "import welkin_client.eventlog, importlib.util as u; print(u.find_spec('singer_sdk'))"
    found = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert found.stdout.strip() == "None"
