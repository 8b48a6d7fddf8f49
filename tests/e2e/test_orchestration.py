"""The Dagster jobs: four `meltano run` workers in parallel, one budget, shared state, a retry;
and the event-mode job pulling what the webhooks named."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pipeline_kit import MELTANO, ROOT, emulator_env
from postgres import PostgresServer, postgres_server
from scale_kit import pg_url, state_env, states, warehouse_env
from welkin_emulator.testing import EmulatorProcess, seed_database
from welkin_facts import client, stream_counts
from welkin_webhooks.testing import ReceiverProcess

DAGSTER = ROOT / ".venv-dagster" / "bin" / "dagster"
LIMIT = 10  # the emulator's global limit, requests per second
BUDGET = 7  # the workers' one shared budget, with headroom for jitter (see test_shared_budget)
GROUPS = {
    "patients": ["patients.*"],
    "users": ["users.*"],
    "care": ["encounters.*", "calendar_events.*"],
    "cdts": ["cdt_*.*", "!cdt_records.*"],
}
VICTIM = "main.patients"


@pytest.fixture
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    db = tmp_path / "source.db"
    seed_database(db, 40, seed=5)
    with EmulatorProcess(db) as server:
        yield server


def plan_file(tmp_path: Path, log_dir: Path, **extra: object) -> Path:
    plan = {
        "project_dir": str(ROOT),
        "environment": "dev",
        "extractor": "tap-welkin",
        "loader": "target-postgres",
        "meltano_bin": str(MELTANO),
        "max_concurrent": 4,
        "retries": 2,
        "retry_delay_seconds": 1,
        # Kept with the suite's logs, which the hygiene tests scan for secrets and PHI.
        "log_dir": str(log_dir),
        # What orchestration/workers.yml sets: a re-read row is written over itself.
        "env": yaml.safe_load((ROOT / "orchestration" / "workers.yml").read_text())["env"],
        "groups": GROUPS,
        "instances": {"main": {"env": {}}},
        **extra,
    }
    path = tmp_path / "workers.yml"
    path.write_text(yaml.safe_dump(plan))
    return path


def _sync_processes(worker: str) -> list[int]:
    """Pids of tap-welkin sync processes (not discovery) of one worker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        # The tap's own executable (not `meltano run ... tap-welkin ...`, whose env matches too).
        is_tap = any(part.endswith(b"/bin/tap-welkin") for part in cmdline)
        if (
            is_tap
            and b"--discover" not in cmdline
            and f"WELKIN_WORKER={worker}".encode() in environ
        ):
            found.append(int(entry.name))
    return found


def kill_mid_run(worker: str, after: float, killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the worker's tap ``after`` seconds into its sync (once)."""
    first_seen: float | None = None
    while not stop.is_set():
        pids = _sync_processes(worker)
        if pids and first_seen is None:
            first_seen = time.monotonic()
        if pids and first_seen is not None and time.monotonic() - first_seen >= after:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            killed.extend(pids)
            return
        time.sleep(0.05)


def dagster_job(name: str, env: dict[str, str], log: Path) -> int:
    """``dagster job execute`` of one job of the project; its exit code (output in ``log``)."""
    with log.open("w") as sink:
        run = subprocess.run(
            [str(DAGSTER), "job", "execute", "-m", "welkin_dagster.definitions", "-j", name],
            cwd=ROOT / "orchestration", env=env, stdout=sink, stderr=subprocess.STDOUT,
            timeout=900, check=False,
        )  # fmt: skip
    return run.returncode


@pytest.mark.alone  # four workers under one budget, and they must overlap: a busy CPU beside
@pytest.mark.timeout(1200)  # them (another test on a parallel worker) bends both
def test_dagster_job_fans_out_under_one_budget_and_retries_a_killed_worker(
    tmp_path: Path, pg: PostgresServer, emulator: EmulatorProcess, test_log_dir: Path
) -> None:
    if not DAGSTER.exists():
        pytest.fail("Dagster is not installed: run `make orchestration` (make test does)")
    expected = stream_counts(emulator.url)
    worker_logs_dir = test_log_dir / f"workers-{tmp_path.name}"
    shutil.rmtree(worker_logs_dir, ignore_errors=True)  # a previous run's, appended to otherwise
    emulator.set_faults(rate_limit=LIMIT, latency_ms=100)
    env = {
        **os.environ,
        **emulator_env("TAP_WELKIN", emulator.url),
        "TAP_WELKIN_MAX_REQUESTS_PER_SECOND": str(BUDGET),
        # Small pages: many requests, so the budget binds and the victim is killed mid-sync.
        "TAP_WELKIN_PAGE_SIZE": "4",
        "TAP_WELKIN_RATE_LIMIT_BACKEND_URL": pg_url(pg),
        **warehouse_env(pg),
        **state_env(pg),
        "DAGSTER_HOME": str(tmp_path / "dagster-home"),
        "WELKIN_DAGSTER_CONFIG": str(plan_file(tmp_path, worker_logs_dir)),
        "PYTHONPATH": str(ROOT / "orchestration"),
    }
    (tmp_path / "dagster-home").mkdir()
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=kill_mid_run, args=(VICTIM, 3.0, killed, stop), daemon=True)
    killer.start()
    log = test_log_dir / f"dagster-{tmp_path.name}.log"
    code = dagster_job("welkin_sync", env, log)
    stop.set()
    killer.join()
    assert code == 0, log.read_text()[-3000:]
    assert killed, "the victim worker was never seen running"

    # The emulator never saw more than LIMIT requests in one second: it answers 429 past that,
    # and the tap logs every retry.
    worker_logs = {p.stem: p.read_text() for p in worker_logs_dir.glob("*.log")}
    assert sorted(worker_logs) == sorted(["setup.database", *(f"main.{g}" for g in GROUPS)])
    assert not [name for name, text in worker_logs.items() if "Welkin API 429" in text]

    # Every row exactly once.
    for stream, count in expected.items():
        if count == 0:
            continue
        rows = pg.psql(f'select count(*), count(distinct id) from welkin."{stream}"')
        assert rows == f"{count}|{count}", stream

    # Bookmarks of every worker in the shared backend.
    found = states(pg)
    for group in GROUPS:
        assert found[f"dev:tap-welkin-to-target-postgres:main.{group}"]["bookmarks"], group

    # The killed worker failed once and was retried; the others ran once, all in parallel.
    runs = [
        row.split("|")
        for row in pg.psql("select job_name || '|' || state from runs order by started_at").split()
    ]
    outcomes = {
        f"main.{g}": [state for job, state in runs if job.endswith(f":main.{g}")] for g in GROUPS
    }
    assert outcomes.pop(VICTIM) == ["FAIL", "SUCCESS"]
    assert all(states_ == ["SUCCESS"] for states_ in outcomes.values()), outcomes
    others = f"state = 'SUCCESS' and job_name not like '%{VICTIM}'"
    assert pg.psql(f"select max(started_at) < min(ended_at) from runs where {others}") == "t"


@pytest.mark.timeout(600)
def test_dagster_event_job_pulls_what_the_webhooks_named(
    tmp_path: Path, pg: PostgresServer, emulator: EmulatorProcess, test_log_dir: Path
) -> None:
    if not DAGSTER.exists():
        pytest.fail("Dagster is not installed: run `make orchestration` (make test does)")
    secret = "dagster-webhook-secret"  # noqa: S105 - a test value
    worker_logs_dir = test_log_dir / f"workers-{tmp_path.name}"
    with ReceiverProcess(tmp_path / "events.db", secret=secret) as receiver:
        hook = {"name": "wh", "url": receiver.url, "headers": {receiver.header: secret}}
        emulator.set_webhooks([hook])
        api = client(emulator.url)
        created = [
            api.request(
                "POST", "patients", json={"firstName": f"Ping{i}", "lastName": "Pull"}
            ).json()["id"]
            for i in range(3)
        ]
        api.close()
        deadline = time.monotonic() + 30
        while emulator.webhooks()["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        env = {
            **os.environ,
            **emulator_env("TAP_WELKIN", emulator.url),
            "TAP_WELKIN_EVENTS_EVENT_LOG_URL": f"sqlite:///{receiver.event_log}",
            **warehouse_env(pg),
            **state_env(pg),
            "DAGSTER_HOME": str(tmp_path / "dagster-home"),
            "WELKIN_DAGSTER_CONFIG": str(
                plan_file(tmp_path, worker_logs_dir, events={"extractor": "tap-welkin-events"})
            ),
            "PYTHONPATH": str(ROOT / "orchestration"),
        }
        (tmp_path / "dagster-home").mkdir()
        log = test_log_dir / f"dagster-events-{tmp_path.name}.log"
        emulator.reset_requests()
        assert dagster_job("welkin_events", env, log) == 0, log.read_text()[-3000:]

    # Only the named patients reached the warehouse, pulled in a handful of requests (by id or
    # one export delta, whichever costs less), not a full sync.
    rows = pg.psql("select id from welkin.patients order by id").split()
    assert rows == sorted(created)
    assert emulator.requests()["total"] <= 6, emulator.requests()
    bookmarks = states(pg)["dev:tap-welkin-events-to-target-postgres:main.events"]["bookmarks"]
    assert bookmarks, "the event worker's bookmark is in the shared backend"
    assert sorted(p.stem for p in worker_logs_dir.glob("*.log")) == [
        "main.events",
        "setup.database",
    ]
