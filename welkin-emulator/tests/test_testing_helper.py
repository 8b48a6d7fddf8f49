"""The helper colleagues' tests use: start, stop, no orphans, seeding errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from welkin_emulator.testing import EmulatorProcess, seed_database


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_start_stop_and_banner(tmp_path: Path) -> None:
    emu = EmulatorProcess(tmp_path / "h.db")
    with emu:
        assert emu.running
        assert emu.url.startswith("http://127.0.0.1:")
        assert requests.get(f"{emu.url}/_emulator/health", timeout=5).json() == {"status": "ok"}
        pid = emu.proc.pid
        banner = emu.log_tail()
        assert f"welkin-emulator listening on {emu.url}" in banner
        assert "DEMOCLIENT" in banner and "NOEXPORT" in banner
        # Not even the published demo secrets (the README says it never logs secrets).
        assert emu.client_secret not in banner
        assert emu.noexport_client_secret not in banner
        assert "secret" not in banner.replace("demo secret", "").replace("a secret from", "")
        assert "instances sandbox" in banner
    assert not emu.running
    time.sleep(0.1)
    assert not alive(pid)


def test_config_secrets_are_not_printed(tmp_path: Path) -> None:
    config = {
        "tenants": [
            {
                "name": "t1",
                "instances": ["i1"],
                "apiClients": [{"name": "C1", "secret": "very-private-value"}],
            }
        ]
    }
    with EmulatorProcess(tmp_path / "c.db", config=config) as emu:
        assert "very-private-value" not in emu.log_tail()
        assert emu.token("C1", "very-private-value", tenant="t1")


def test_server_dies_with_its_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from welkin_emulator.testing import EmulatorProcess
        emu = EmulatorProcess({str(tmp_path / "p.db")!r}).start()
        print(emu.proc.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    assert alive(server_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server_pid), "orphaned emulator"


def test_bad_database_path_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        seed_database(tmp_path / "missing-dir" / "x.db", 1)
    with pytest.raises(RuntimeError, match=r"did not start|not healthy"):
        EmulatorProcess(tmp_path / "missing-dir" / "y.db", startup_timeout=10).start()
