"""`meltano test` runs each plugin's check on the pinned Meltano, and fails when it should."""

from __future__ import annotations

import socket

import pytest
from pipeline_kit import Meltano, emulator_env
from welkin_emulator.testing import EmulatorProcess

PLUGINS = ("tap-welkin", "target-welkin")


def test_meltano_test_passes_against_a_welkin_emulator(
    meltano: Meltano, seeded_emulator: EmulatorProcess
) -> None:
    env = {
        **emulator_env("TAP_WELKIN", seeded_emulator.url),
        **emulator_env("TARGET_WELKIN", seeded_emulator.url),
    }
    seeded_emulator.reset_requests()
    result = meltano.run("test", *PLUGINS, extra_env=env)
    assert result.returncode == 0
    log = meltano.log_text()
    assert "Connection test passed" in log
    counts = seeded_emulator.requests()
    # Both checks reached Welkin: a token each, the formation read by each.
    assert counts["POST /{tenant}/admin/api_clients/{clientName}"] >= 2
    assert counts["GET /{tenant}/{instance}/formations/{version}/cdts"] >= 2
    # The target's check writes nothing.
    assert not [
        route
        for route in counts
        if route.split(" ", 1)[0] in {"POST", "PUT", "PATCH"}
        # The token call, and Welkin's patient search (a read sent as POST).
        and not any(read in route for read in ("api_clients", "by-filter"))
    ]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_meltano_test_fails_with_one_clear_line_when_welkin_is_unreachable(
    meltano: Meltano, plugin: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    prefix = plugin.upper().replace("-", "_")
    env = {**emulator_env(prefix, closed), f"{prefix}_MAX_RETRIES": "2"}
    result = meltano.run("test", plugin, extra_env=env, check=False)
    assert result.returncode != 0
    log = meltano.log_text()
    assert "gave up after 2 attempts" in log
    assert closed.removeprefix("http://") in log  # names the host to check
    # No traceback from the plugin (Meltano draws its own box around a failed discovery).
    assert not [m for m in ("tap_welkin/", "target_welkin/", "welkin_client/") if m in log]
    assert "demo-secret" not in log
