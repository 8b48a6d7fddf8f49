"""One request budget across processes: real workers, one emulator with a global rate limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import PostgresServer, postgres_server
from welkin_emulator.testing import EmulatorProcess, seed_database

WORKER = Path(__file__).with_name("budget_worker.py")
LIMIT = 10  # requests per second: the emulator's global limit (Welkin's, per API client)
# The workers' shared budget, with headroom: network and scheduling jitter can bring
# requests sent 1/R apart closer together by the time they reach Welkin.
BUDGET = 7
TOKEN_ROUTE = "POST /{tenant}/admin/api_clients/{clientName}"
# Admission times are wall-clock times the workers write: a busy CPU beside them (another
# test on a parallel worker) bunches them up. `make test` runs these alone.
pytestmark = pytest.mark.alone


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    db = tmp_path / "source.db"
    seed_database(db, 5, seed=3)
    with EmulatorProcess(db) as server:
        yield server


def backend_url(kind: str, tmp_path: Path, postgres: PostgresServer | None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'budget' / 'budget.db'}"
    assert postgres is not None
    return (
        f"postgresql://{postgres.user}:{postgres.password}@127.0.0.1:{postgres.port}/"
        f"{postgres.database}"
    )


def run_workers(
    emulator: EmulatorProcess, tmp_path: Path, config: dict[str, object], counts: list[int]
) -> list[subprocess.Popen[bytes]]:
    full = {
        "api_url": emulator.url,
        "tenant": "demo",
        "instance": "sandbox",
        "api_client": "DEMOCLIENT",
        "secret_key": "demo-secret",
        **config,
    }
    return [
        subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(full), str(n), str(tmp_path / f"w{i}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"w{i}.log").open("w"),
        )
        for i, n in enumerate(counts)
    ]


def admitted_times(tmp_path: Path, workers: int) -> list[float]:
    times: list[float] = []
    for i in range(workers):
        times += [float(line) for line in (tmp_path / f"w{i}.txt").read_text().split()]
    return sorted(times)


def busiest_second(times: list[float]) -> int:
    """The most requests in any one-second window (the emulator's sliding-window rule)."""
    start, most = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_four_processes_share_one_request_budget(
    kind: str, tmp_path: Path, emulator: EmulatorProcess, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("postgres") if kind == "postgresql" else None
    url = backend_url(kind, tmp_path, pg)
    emulator.set_faults(rate_limit=LIMIT, latency_ms=20)
    emulator.reset_requests()
    per_worker = 12
    started = time.monotonic()
    workers = run_workers(
        emulator,
        tmp_path,
        {"max_requests_per_second": BUDGET, "rate_limit_backend_url": url},
        [per_worker] * 4,
    )
    for worker in workers:
        assert worker.wait(timeout=120) == 0, (tmp_path / "w0.log").read_text()[-2000:]
    elapsed = time.monotonic() - started

    expected = 4 * per_worker + 4  # every worker's requests and its one token
    counts = emulator.requests()
    # No 429 (the emulator's answer to more than LIMIT in one second): any would have been
    # retried, one request more than the workers meant to send.
    assert counts["total"] == expected, counts
    assert counts[TOKEN_ROUTE] == 4
    times = admitted_times(tmp_path, 4)
    assert len(times) == expected
    # Each worker writes the time after the budget admitted a request: a worker descheduled
    # in between writes one late, into the next second (seen once, 8 for a budget of 7). The
    # hard bound is Welkin's (no 429 above); four unshared budgets would show 28.
    assert busiest_second(times) <= BUDGET + 1
    # Four workers with a budget each would take a quarter of this.
    assert elapsed >= (expected - 1) / BUDGET * 0.9
    if pg is not None:
        tables = pg.psql("select tablename from pg_tables where tablename like 'ratelimit%'")
        assert len(tables.split()) == 2  # requests and tokens of the one API client


def test_token_requests_count_against_their_own_shared_limit(
    tmp_path: Path, emulator: EmulatorProcess
) -> None:
    url = backend_url("sqlite", tmp_path, None)
    emulator.reset_requests()
    # Two workers want 100 tokens each; Welkin blocks a client after 100 in 5 minutes. Each
    # wants more than the shared 90: neither can finish, whichever starts first (with 60
    # each, one that started a second early got all its 60 and was done).
    workers = run_workers(
        emulator,
        tmp_path,
        {"max_requests_per_second": 0, "rate_limit_backend_url": url},
        [-100, -100],
    )
    try:
        deadline = time.monotonic() + 90
        seen, steady_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now = emulator.requests().get(TOKEN_ROUTE, 0)
            if now != seen:
                seen, steady_since = now, time.monotonic()
            elif now >= 90 and time.monotonic() - steady_since > 2:
                break
            time.sleep(0.2)
        # Both workers are blocked by the shared token budget, not finished.
        assert all(worker.poll() is None for worker in workers)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert emulator.requests()[TOKEN_ROUTE] == 90
