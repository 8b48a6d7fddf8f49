"""The emulator stays on loopback unless told otherwise, and its control routes can need a token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from welkin_emulator.server import is_loopback
from welkin_emulator.testing import EmulatorProcess

CONTROL_ROUTES = [
    ("GET", "/_emulator/faults"),
    ("PUT", "/_emulator/faults"),
    ("POST", "/_emulator/faults/clear"),
    ("GET", "/_emulator/faults/script"),
    ("POST", "/_emulator/faults/script"),
    ("DELETE", "/_emulator/faults/script"),
    ("GET", "/_emulator/requests"),
    ("DELETE", "/_emulator/requests"),
    ("POST", "/_emulator/reset"),
]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - the point of the test
        ("::", False),
        ("192.168.1.10", False),
        ("welkin.example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])  # noqa: S104
def test_a_host_beyond_loopback_is_refused_without_allow_remote(tmp_path: Path, host: str) -> None:
    cmd = [sys.executable, "-m", "welkin_emulator", "serve", "--host", host, "--port", "0",
           "--db", str(tmp_path / "r.db")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--allow-remote" in done.stderr
    assert "listening on" not in done.stderr
    assert "Traceback" not in done.stderr


def test_allow_remote_serves_with_a_loud_warning(tmp_path: Path) -> None:
    extra = ("--host", "0.0.0.0", "--allow-remote")  # noqa: S104
    with EmulatorProcess(tmp_path / "a.db", extra_args=extra, control_token="tok-7f3a") as emu:
        assert emu.url.startswith("http://0.0.0.0:")
        log = emu.log_tail()
        assert "reachable from other machines" in log
        assert "need the control token" in log
        assert "tok-7f3a" not in log
        assert emu.faults()["error_rate"] == 0


def test_without_a_control_token_the_warning_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WELKIN_EMULATOR_CONTROL_TOKEN", raising=False)
    extra = ("--host", "0.0.0.0", "--allow-remote")  # noqa: S104
    with EmulatorProcess(tmp_path / "n.db", extra_args=extra) as emu:
        assert "need NO token" in emu.log_tail()


def test_control_routes_need_the_token(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path / "t.db", control_token="tok-51c2") as emu:
        # The helper sends the token: existing suites' calls keep working.
        assert emu.set_faults(error_rate=0.0)["error_rate"] == 0
        emu.script_faults([])
        assert emu.requests()["total"] == 0
        for method, path in CONTROL_ROUTES:
            url = emu.url + path
            assert requests.request(method, url, timeout=5).status_code == 401, path
            wrong = {"Authorization": "Bearer tok-51c3"}
            assert requests.request(method, url, headers=wrong, timeout=5).status_code == 401
        right = {"Authorization": "Bearer tok-51c2"}
        assert requests.get(emu.url + "/_emulator/faults", headers=right, timeout=5).ok
        # Health stays open for readiness probes; the emulated API is not a control route.
        assert requests.get(emu.url + "/_emulator/health", timeout=5).ok
        assert emu.token()


def test_control_token_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WELKIN_EMULATOR_CONTROL_TOKEN", "tok-env-9d")
    with EmulatorProcess(tmp_path / "e.db") as emu:
        assert requests.get(emu.url + "/_emulator/faults", timeout=5).status_code == 401
        assert emu.faults()["error_rate"] == 0
        assert "tok-env-9d" not in emu.log_tail()


def test_without_a_token_control_routes_stay_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WELKIN_EMULATOR_CONTROL_TOKEN", raising=False)
    with EmulatorProcess(tmp_path / "o.db") as emu:
        assert requests.get(emu.url + "/_emulator/faults", timeout=5).ok
