"""Throttling, server errors, dropped connections and expiring tokens do not change the output."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import tap_welkin_testkit as kit
from welkin_emulator.testing import EmulatorProcess

TOKEN_ROUTE = "POST /{tenant}/admin/api_clients/{clientName}"


def test_429_with_retry_after_and_5xx_are_survived(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    shared.set_faults(throttle_rate=0.2, retry_after=1, error_rate=0.15, drop_rate=0.03, seed=5)
    run = kit.run_tap(kit.tap_config(shared), catalog=catalog, name="faults")
    assert run.records == baseline.records
    assert run.counts() == baseline.counts()
    # Retry-After (1 s) was honoured for the 429s, and the 5xx were retried too.
    assert "Retrying in 1.0 s" in run.stderr
    assert "429" in run.stderr
    assert any(f" {code} " in run.stderr for code in ("500", "502", "503"))


def test_malformed_json_is_retried(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    shared.script_faults(
        [{"action": "malformed", "route": "/{tenant}/{instance}/export/{type}", "times": 3}]
    )
    run = kit.run_tap(kit.tap_config(shared), catalog=catalog, name="malformed")
    assert run.records == baseline.records
    assert "sent a body that is not JSON on GET /{tenant}/{instance}/export/{type}" in run.stderr


def test_401_token_expired_is_refreshed_once(
    shared: EmulatorProcess, catalog: dict[str, Any], baseline: kit.TapRun
) -> None:
    shared.script_faults(
        [
            {
                "action": "error",
                "status": 401,
                "method": "GET",
                "route": "/{tenant}/{instance}/export/{type}",
            }
        ]
    )
    run = kit.run_tap(kit.tap_config(shared), catalog=catalog, name="token-401")
    assert run.records == baseline.records
    assert shared.requests()[TOKEN_ROUTE] == 2  # the first token, and one after the 401


@pytest.fixture(scope="module")
def short_tokens() -> Iterator[EmulatorProcess]:
    """An emulator whose tokens live two seconds and which answers in 80 ms.

    Every feed is read at once, so a sync takes about the longest feed's requests: 80 ms
    keeps it over two token lifetimes.
    """
    emu = kit.start_emulator(
        patients=20, seed=31, extra_args=("--token-lifetime", "2", "--latency-ms", "80")
    )
    yield emu
    emu.stop()


def test_sync_outlives_the_token(short_tokens: EmulatorProcess) -> None:
    api = kit.WelkinApi(short_tokens)
    truth = {i["id"] for i in api.export("ENCOUNTER")}
    short_tokens.reset_requests()
    started = time.monotonic()
    # The list endpoints cost a request per patient: long enough for several tokens.
    run = kit.run_tap(kit.tap_config(short_tokens, export=False), name="short-token")
    elapsed = time.monotonic() - started
    assert elapsed > 4
    assert set(run.records["encounters"]) == truth
    assert len(run.records["patients"]) == 20
    assert short_tokens.requests()[TOKEN_ROUTE] >= 3
