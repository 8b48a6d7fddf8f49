"""Every command the README shows is run here, on the pinned Meltano; none is skipped silently.

``readme_commands`` collects the README's shell blocks, its inline `meltano …`, `make …`,
`.venv/bin/…`, `export …` and `cp …` spans, and every job of meltano.yml it names.
``COVERAGE`` says which test runs each one, or why it is not run here; a command the
README gains without an entry fails ``test_every_readme_command_is_covered``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from pipeline_kit import MELTANO, ROOT, Meltano, duckdb_query, emulator_env
from postgres import postgres_server
from welkin_emulator.testing import EmulatorProcess, seed_database
from welkin_facts import client, stream_counts

README = ROOT / "README.md"
STARTS = ("meltano ", "make ", ".venv/bin/", "export ", "cp ")
DEMO = "test_make_demo_then_the_users_own_jobs_load_everything"
PROD = "test_prod_environment_commands"
EMULATOR = "test_emulator_commands"
CONFIG_SET = "test_config_set_keeps_the_secret_out_of_meltano_yml"
ORCHESTRATION = "test_orchestration.py"
FOLLOW = "test_webhooks_e2e.py::test_follow_runs_the_event_job_on_pings_with_the_dumped_catalog"
COVERAGE: dict[str, str] = {
    "make demo": DEMO,
    "meltano run tap-welkin target-duckdb": DEMO,
    "meltano run tap-csv target-welkin": DEMO,
    "meltano run welkin-to-duckdb": DEMO,
    "meltano run csv-to-welkin": DEMO,
    "meltano run welkin-split-by-stream": DEMO,
    "meltano schedule list": DEMO,
    "meltano schedule run welkin-hourly": DEMO,
    "meltano state list": DEMO,
    "meltano state get <id>": DEMO,
    "meltano run --full-refresh ...": DEMO,
    "meltano run --full-refresh": DEMO,
    "export PATH=$PWD/.venv-meltano/bin:$PATH": DEMO,
    "cp .env.example .env": PROD,
    "meltano --environment=prod config list tap-welkin": PROD,
    "meltano config list tap-welkin": PROD,
    "meltano --environment=prod run tap-welkin target-postgres": PROD,
    "meltano run welkin-to-postgres": PROD,
    ".venv/bin/welkin-emulator seed --db welkin.db --patients 1000": EMULATOR,
    ".venv/bin/welkin-emulator serve --port 18080 --db welkin.db": EMULATOR,
    "meltano config set tap-welkin secret_key": CONFIG_SET,
    "meltano test tap-welkin target-welkin": (
        "test_meltano_test.py::test_meltano_test_passes_against_a_welkin_emulator"
    ),
    "meltano run welkin-events-to-duckdb": (
        "test_webhooks_e2e.py::test_writes_reach_duckdb_through_the_event_job"
    ),
    'meltano config set welkin-webhooks secret "$(openssl rand -hex 24)"': (
        "test_webhooks_e2e.py::test_receiver_from_meltano_with_the_secret_set_in_env_file"
    ),
    "meltano invoke welkin-webhooks:serve": (
        "test_webhooks_e2e.py::test_receiver_from_meltano_with_the_secret_set_in_env_file"
    ),
    # (the test dumps the catalog into a temporary file)
    "meltano invoke --dump=catalog tap-welkin-events > .state/tap-welkin-events.catalog.json": FOLLOW,
    "TAP_WELKIN_EVENTS__CATALOG=.state/tap-welkin-events.catalog.json "
    "meltano invoke welkin-webhooks:follow": FOLLOW,
    "meltano run --force welkin-events-to-duckdb": FOLLOW,
    # Running at scale: the Dagster job, the shared state and the shared budget.
    "make orchestration": "not run here: `make test` builds it before any end-to-end test",
    "../.venv-dagster/bin/dagster job execute -m welkin_dagster.definitions -j welkin_sync": (
        f"{ORCHESTRATION}::test_dagster_job_fans_out_under_one_budget_and_retries_a_killed_worker"
    ),
    "../.venv-dagster/bin/dagster job execute -m welkin_dagster.definitions -j welkin_events": (
        f"{ORCHESTRATION}::test_dagster_event_job_pulls_what_the_webhooks_named"
    ),
    "meltano run tap-welkin-events target-postgres --state-id-suffix <instance>.events": (
        f"{ORCHESTRATION}::test_dagster_event_job_pulls_what_the_webhooks_named"
    ),
    "meltano upgrade database": (
        f"{ORCHESTRATION}::test_dagster_job_fans_out_under_one_budget_and_retries_a_killed_worker"
    ),
    "meltano run tap-welkin target-postgres --state-id-suffix <instance>.<group>": (
        "test_shared_state.py::test_bookmarks_land_in_the_postgresql_state_backend"
    ),
    "export MELTANO_DATABASE_URI=postgresql+psycopg://meltano:<password>@db.internal/meltano": (
        "test_shared_state.py::test_bookmarks_land_in_the_postgresql_state_backend"
    ),
    "export TAP_WELKIN_RATE_LIMIT_BACKEND_URL=postgresql://welkin_budget:<password>@db.internal/meltano": (
        "test_shared_budget.py::test_four_processes_share_one_request_budget"
    ),
    "export TAP_WELKIN_MAX_REQUESTS_PER_SECOND=16": (
        "test_shared_budget.py::test_four_processes_share_one_request_budget"
    ),
    "cd orchestration && ../.venv-dagster/bin/dagster dev -m welkin_dagster.definitions": (
        "not run: the Dagster web UI serves until stopped; the same definitions run in "
        f"{ORCHESTRATION}"
    ),
    "meltano run": "not run: the bare word in prose; every `meltano run …` form above is run",
    # Not run here, each for a reason:
    "make test": "not run: it is the command that runs this test",
    "make bench": "not run: minutes of benchmarks; bench/ keeps its own results",
    "meltano install": "not run here: `make meltano` runs it before any end-to-end test",
    "export MELTANO_STATE_BACKEND_URI=s3://bucket/meltano-state": "not run: needs an S3 bucket",
}


def readme_commands() -> set[str]:
    """The commands the README shows (see the module docstring)."""
    text = README.read_text()
    found: set[str] = set()
    outside: list[str] = []
    block: str | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            block = None if block is not None else line[3:].strip()
            continue
        if block in {"sh", "bash", "shell"}:
            command = line.split("  #", 1)[0].strip()
            if command:
                found.add(command)
        elif block is None:
            outside.append(line)
    prose = "\n".join(outside)
    found |= {span for span in re.findall(r"`([^`\n]+)`", prose) if span.startswith(STARTS)}
    jobs = [job["name"] for job in yaml.safe_load((ROOT / "meltano.yml").read_text())["jobs"]]
    found |= {f"meltano run {job}" for job in jobs if f"`{job}`" in prose}
    return found


def test_every_readme_command_is_covered() -> None:
    commands = readme_commands()
    assert commands - set(COVERAGE) == set(), "README commands no test runs"
    assert set(COVERAGE) - commands == set(), "COVERAGE lists commands the README no longer shows"
    tests = {name for name in globals() if name.startswith("test_")}
    for command, runner in COVERAGE.items():
        if "::" in runner:  # a test of another module
            module, name = runner.split("::")
            assert f"def {name}(" in (Path(__file__).parent / module).read_text(), command
        else:
            assert runner in tests or runner.startswith("not run"), command


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


def _duckdb_count(path: Path, table: str) -> int:
    return int(duckdb_query(path, f'select count(*) from welkin."{table}"')[0][0])  # type: ignore[arg-type]


@pytest.mark.timeout(2400)  # the whole demo, then nine Meltano commands
def test_make_demo_then_the_users_own_jobs_load_everything(
    meltano: Meltano, tmp_path: Path
) -> None:
    # `make demo` as a user runs it (fewer patients), sharing the user's Meltano database.
    path = f"{ROOT / '.venv-meltano' / 'bin'}:{os.environ['PATH']}"
    shell = subprocess.run(
        ["bash", "-c", "export PATH=$PWD/.venv-meltano/bin:$PATH && command -v meltano"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shell.stdout.strip() == str(MELTANO)
    demo_env = {**os.environ, "DEMO_PATIENTS": "40", "PATH": path}
    demo_env["MELTANO_DATABASE_URI"] = meltano.env["MELTANO_DATABASE_URI"]
    demo = subprocess.run(
        ["make", "demo"], cwd=ROOT, env=demo_env, capture_output=True, text=True, timeout=1800,
        check=False,
    )  # fmt: skip
    (meltano.log_dir / "readme-make-demo.log").write_text(demo.stdout + demo.stderr)
    assert demo.returncode == 0, (demo.stdout + demo.stderr)[-3000:]
    assert "meltano run --full-refresh tap-welkin target-duckdb: ok" in demo.stdout
    assert "meltano run --full-refresh tap-csv target-welkin: ok" in demo.stdout

    # Then the user's own jobs, against a Welkin the demo never saw: full loads.
    seed_database(tmp_path / "fresh.db", 30, seed=5)
    with EmulatorProcess(tmp_path / "fresh.db") as fresh:
        env = {
            **emulator_env("TAP_WELKIN", fresh.url),
            **emulator_env("TARGET_WELKIN", fresh.url),
        }
        expected = stream_counts(fresh.url)
        meltano.run("run", "welkin-to-duckdb", extra_env=env)
        warehouse = Path(meltano.env["TARGET_DUCKDB_PATH"])
        assert _duckdb_count(warehouse, "patients") == expected["patients"] == 30
        fresh.reset_requests()
        meltano.run("run", "csv-to-welkin", extra_env=env)
        sample = (ROOT / "data" / "sample" / "ehr_patients.csv").read_text().splitlines()[1:]
        api = client(fresh.url)
        for line in sample:  # created in this Welkin, not "unchanged" from the demo's id map
            api.request("GET", f"patients/{line.split(',')[0]}", params={"type": "EID"})
        assert fresh.requests().get("POST /{tenant}/{instance}/patients", 0) == len(sample)

        states = meltano.run("state", "list", extra_env=env).stdout.split()
        user_id = "dev:tap-welkin-to-target-duckdb"
        assert user_id in states
        assert [s for s in states if s.startswith(user_id) and s != user_id]  # the demo's own
        bookmarks = json.loads(meltano.run("state", "get", user_id, extra_env=env).stdout)
        assert bookmarks["singer_state"]["bookmarks"]["patients"]["replication_key_value"]

        meltano.run("run", "--full-refresh", "tap-welkin", "target-duckdb", extra_env=env)
        meltano.run("run", "welkin-split-by-stream", extra_env=env)
        assert "welkin-hourly" in meltano.run("schedule", "list", extra_env=env).stdout
        meltano.run("schedule", "run", "welkin-hourly", extra_env=env)
        # Welkin now also holds the CSV's patients, and the warehouse all of them.
        assert _duckdb_count(warehouse, "patients") == 30 + len(sample)


@pytest.mark.timeout(1200)
def test_prod_environment_commands(meltano: Meltano, tmp_path: Path) -> None:
    # `cp .env.example .env` in a copy of the project's files; its values reach Meltano.
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    subprocess.run(["cp", ".env.example", ".env"], cwd=tmp_path, check=True)
    dotenv = _env_file(tmp_path / ".env")
    assert dotenv["TAP_WELKIN_SECRET_KEY"]
    listed = meltano.run(
        "--environment=prod", "config", "list", "tap-welkin", extra_env=dotenv
    ).stdout
    assert "secret_key" in listed and dotenv["TAP_WELKIN_SECRET_KEY"] not in listed
    assert "secret_key" in meltano.run("config", "list", "tap-welkin").stdout

    seed_database(tmp_path / "w.db", 25, seed=6)
    with EmulatorProcess(tmp_path / "w.db") as emu, postgres_server() as pg:
        env = {
            **dotenv,
            **emulator_env("TAP_WELKIN", emu.url),
            "TARGET_POSTGRES_HOST": "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(pg.port),
            "TARGET_POSTGRES_USER": pg.user,
            "TARGET_POSTGRES_PASSWORD": pg.password,
            "TARGET_POSTGRES_DATABASE": pg.database,
        }
        meltano.run("--environment=prod", "run", "tap-welkin", "target-postgres", extra_env=env)
        assert int(pg.psql('select count(*) from welkin."patients"')) == 25
        meltano.run("run", "welkin-to-postgres", extra_env=env)
        assert int(pg.psql('select count(*) from welkin."patients"')) == 25


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_emulator_commands(tmp_path: Path) -> None:
    binary = str(ROOT / ".venv" / "bin" / "welkin-emulator")
    seed = subprocess.run(
        [binary, "seed", "--db", "welkin.db", "--patients", "1000"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "seeded" in seed.stderr
    if not _free(18080):
        pytest.fail("port 18080 (the dev environment's emulator port) is taken")
    serve = subprocess.Popen(
        [binary, "serve", "--port", "18080", "--db", "welkin.db"],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _free(18080) and time.monotonic() < deadline:
            time.sleep(0.2)
        health = requests.get("http://127.0.0.1:18080/_emulator/health", timeout=10)
        assert health.json() == {"status": "ok"}
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def test_config_set_keeps_the_secret_out_of_meltano_yml(tmp_path: Path) -> None:
    # In a copy of the project file, so the repository's .env stays untouched.
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    env = {
        **os.environ,
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    secret = "readme-set-secret-41"  # noqa: S105 - a test value
    subprocess.run(
        [str(MELTANO), "config", "set", "tap-welkin", "secret_key", secret],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"TAP_WELKIN_SECRET_KEY='{secret}'" in (tmp_path / ".env").read_text().replace('"', "'")
    assert secret not in (tmp_path / "meltano.yml").read_text()
