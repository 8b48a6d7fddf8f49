"""Ping and pull end to end: emulator writes → webhooks → welkin-webhooks → `meltano run` of
the event job → rows in DuckDB; and with lost, duplicated and killed deliveries, the nightly
reconcile leaves the warehouse equal to Welkin.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pipeline_kit import MELTANO, ROOT, Meltano, duckdb_query, emulator_env
from welkin_emulator.testing import EmulatorProcess
from welkin_webhooks.testing import ReceiverProcess

SECRET = "e2e-webhook-secret"


def hook(receiver: ReceiverProcess) -> dict[str, Any]:
    return {"name": "wh-e2e", "url": receiver.url, "headers": {receiver.header: SECRET}}


def settled(emu: EmulatorProcess, timeout: float = 30) -> None:
    """Wait until the emulator has no delivery left to try."""
    deadline = time.monotonic() + timeout
    while emu.webhooks()["pending"] and time.monotonic() < deadline:
        time.sleep(0.1)


def instant(value: object) -> str:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SS.mmm``.

    DuckDB gives a datetime whose ``str`` drops the fraction when it is zero; Welkin gives
    ``.000``. Both are read as one instant and written the same way.
    """
    text = str(value).replace(" ", "T").removesuffix("Z")
    moment = datetime.fromisoformat(text).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds")


def export_ids(emu: EmulatorProcess, kind: str, cdt: str | None = None) -> dict[str, str]:
    """``id -> updatedAt`` of every item of ``export/{kind}`` (Welkin's truth)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token()}"
    items: dict[str, str] = {}
    params: dict[str, Any] = {"pageSize": 1000}
    while True:
        body = session.get(f"{emu.api_url}/export/{kind}", params=params, timeout=30).json()
        for item in body["data"]:
            if cdt is not None and item.get("cdtName") != cdt:
                continue
            updated = item.get("updatedAt") or item["jsonBody"]["updated_at"]
            items[item["id"]] = instant(updated)
        if not body["cursor"]["hasNext"]:
            return items
        params["start"] = body["cursor"]["end"]


class Writer:
    """Changes patients and allergy records through the API (the test's side, not the code's)."""

    def __init__(self, emu: EmulatorProcess) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.token()}"
        self.created: list[str] = []

    def patient(self, first: str) -> str:
        body = {"firstName": first, "lastName": "Hook"}
        created = self.session.post(f"{self.emu.api_url}/patients", json=body, timeout=30)
        created.raise_for_status()
        self.created.append(created.json()["id"])
        return self.created[-1]

    def update(self, pid: str, city: str) -> None:
        url = f"{self.emu.api_url}/patients/{pid}"
        self.session.patch(url, json={"city": city}, timeout=30).raise_for_status()

    def allergy(self, pid: str, name: str) -> str:
        url = f"{self.emu.api_url}/patients/{pid}/cdts/allergies"
        made = self.session.post(url, json={"allergy": name}, timeout=30)
        made.raise_for_status()
        return str(made.json()["id"])


def table(warehouse: Path, name: str, columns: str = "id") -> list[tuple[object, ...]]:
    return duckdb_query(warehouse, f'select {columns} from welkin."{name}"')


@pytest.mark.timeout(900)  # four Meltano runs on a shared 2-core machine
def test_writes_reach_duckdb_through_the_event_job(
    meltano: Meltano, seeded_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    warehouse = meltano.workdir / "warehouse.duckdb"
    with ReceiverProcess(tmp_path / "events.db", secret=SECRET) as receiver:
        env = {
            **emulator_env("TAP_WELKIN", seeded_emulator.url),
            "TAP_WELKIN_EVENTS_EVENT_LOG_URL": f"sqlite:///{receiver.event_log}",
        }
        meltano.run("run", "welkin-to-duckdb", extra_env=env)  # the initial (reconciling) load
        before = len(table(warehouse, "patients"))
        # Every other delivery arrives twice, a third fail once and are retried.
        seeded_emulator.set_webhooks([hook(receiver)], duplicate_rate=0.5, fail_rate=0.3,
                                     base_delay=0.1, max_attempts=8, seed=3)  # fmt: skip
        writer = Writer(seeded_emulator)
        new = [writer.patient(f"New{i}") for i in range(4)]
        writer.update(new[0], "Kiruna")
        allergies = [writer.allergy(pid, f"Pollen{i}") for i, pid in enumerate(new[:3])]
        settled(seeded_emulator)
        meltano.run("run", "welkin-events-to-duckdb", extra_env=env)

        patients = dict(table(warehouse, "patients", 'id, "firstName"'))
        assert {pid: patients.get(pid) for pid in new} == {
            pid: f"New{i}" for i, pid in enumerate(new)
        }
        assert dict(table(warehouse, "patients", "id, city"))[new[0]] == "Kiruna"
        assert len(patients) == before + 4 == len(table(warehouse, "patients"))  # no duplicates
        assert set(allergies) <= {r[0] for r in table(warehouse, "cdt_allergies")}
        state = meltano.run("state", "get", "dev:tap-welkin-events-to-target-duckdb").stdout
        assert '"event_seq"' in state

        seeded_emulator.reset_requests()
        meltano.run("run", "welkin-events-to-duckdb", extra_env=env)  # idle
        idle = seeded_emulator.requests()
        # Meltano discovers the catalog before a run (token + formation lookup); the event
        # run itself sends nothing.
        assert idle["total"] <= 2, idle
        assert not any("/patients/" in key or "/export/" in key for key in idle), idle


@pytest.mark.timeout(600)
def test_a_lost_ping_arrives_through_the_webhook_audit_without_a_reconcile(
    meltano: Meltano, seeded_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    warehouse = meltano.workdir / "warehouse.duckdb"
    with ReceiverProcess(tmp_path / "events.db", secret=SECRET) as receiver:
        env = {**emulator_env("TAP_WELKIN", seeded_emulator.url),
               "TAP_WELKIN_EVENTS_EVENT_LOG_URL": f"sqlite:///{receiver.event_log}"}  # fmt: skip
        # Every delivery fails for good: Welkin's audit shows them FAILED, the log gets nothing.
        seeded_emulator.set_webhooks([hook(receiver)], fail_rate=1.0, max_attempts=1)
        writer = Writer(seeded_emulator)
        pid = writer.patient("Lost")
        allergy = writer.allergy(pid, "Elm")
        settled(seeded_emulator)
        assert seeded_emulator.webhooks()["stats"]["failed"] >= 2
        with sqlite3.connect(receiver.event_log) as conn:
            assert conn.execute("SELECT COUNT(*) FROM welkin_events").fetchone()[0] == 0
        meltano.run("run", "welkin-events-to-duckdb", extra_env=env)  # the event job only
    assert dict(table(warehouse, "patients", 'id, "firstName"')) == {pid: "Lost"}
    assert [r[0] for r in table(warehouse, "cdt_allergies")] == [allergy]
    state = meltano.run("state", "get", "dev:tap-welkin-events-to-target-duckdb").stdout
    assert '"webhook_audit_read_at"' in state


def wait_for_line(log: Path, pattern: str, timeout: float = 300) -> re.Match[str]:
    """The first match of ``pattern`` in the growing ``log`` (a hang guard, not a timing check)."""
    deadline = time.monotonic() + timeout
    while (found := re.search(pattern, log.read_text())) is None:
        assert time.monotonic() < deadline, f"no {pattern!r} in {log.name}"
        time.sleep(0.2)
    return found


@pytest.mark.timeout(900)
def test_follow_runs_the_event_job_on_pings_with_the_dumped_catalog(
    meltano: Meltano, seeded_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    warehouse = meltano.workdir / "warehouse.duckdb"
    catalog = tmp_path / "tap-welkin-events.catalog.json"
    with ReceiverProcess(tmp_path / "events.db", secret=SECRET) as receiver:
        log_url = f"sqlite:///{receiver.event_log}"
        env = {**emulator_env("TAP_WELKIN", seeded_emulator.url),
               "TAP_WELKIN_EVENTS_EVENT_LOG_URL": log_url, "WELKIN_WEBHOOKS_EVENT_LOG": log_url}  # fmt: skip
        # README: meltano invoke --dump=catalog tap-welkin-events > <catalog file>
        dumped = meltano.run("invoke", "--dump=catalog", "tap-welkin-events", extra_env=env)
        catalog.write_text(dumped.stdout)
        seeded_emulator.set_webhooks([hook(receiver)])
        seeded_emulator.reset_requests()
        # README: TAP_WELKIN_EVENTS__CATALOG=<catalog file> meltano invoke welkin-webhooks:follow
        full = {**os.environ, **meltano.env, **env, "TAP_WELKIN_EVENTS__CATALOG": str(catalog)}
        full["PATH"] = f"{MELTANO.parent}:{full['PATH']}"
        out = meltano.log_dir / f"meltano-{meltano.workdir.name}-follow.log"
        with out.open("w") as stderr:
            follow = subprocess.Popen([str(MELTANO), "invoke", "welkin-webhooks:follow"],
                                      cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=stderr,
                                      start_new_session=True)  # fmt: skip
        try:
            wait_for_line(out, r"run 1: exit 0")  # the run at start: nothing to do
            writer = Writer(seeded_emulator)
            pid = writer.patient("Followed")
            allergy = writer.allergy(pid, "Birch")
            settled(seeded_emulator)
            with sqlite3.connect(receiver.event_log) as conn:
                head = conn.execute("SELECT MAX(seq) FROM welkin_events").fetchone()[0]
            # No timer: a run starts because the pings landed, and ends with every row loaded.
            run = wait_for_line(out, rf"run (\d+): started \(event log at seq {head}\)")
            wait_for_line(out, rf"run {run.group(1)}: exit 0")
        finally:
            os.killpg(follow.pid, signal.SIGTERM)
            follow.wait(60)
    # The dumped catalog: Meltano starts no discovery (a tap process, a token, the formation).
    assert "Using custom catalog" in out.read_text()
    assert "Running catalog discovery" not in out.read_text()
    assert dict(table(warehouse, "patients", 'id, "firstName"')) == {pid: "Followed"}
    assert [r[0] for r in table(warehouse, "cdt_allergies")] == [allergy]


def killed_run(meltano: Meltano, env: dict[str, str], after: float) -> None:
    """`meltano run welkin-events-to-duckdb`, killed (the whole process group) after ``after`` s."""
    full = {**os.environ, **meltano.env, **env}
    full["PATH"] = f"{MELTANO.parent}:{full['PATH']}"
    with (meltano.log_dir / f"meltano-{meltano.workdir.name}-killed.log").open("w") as log:
        proc = subprocess.Popen([str(MELTANO), "run", "welkin-events-to-duckdb"], cwd=ROOT,
                                env=full, stdout=subprocess.DEVNULL, stderr=log,
                                start_new_session=True)  # fmt: skip
        try:
            proc.wait(after)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


@pytest.mark.timeout(1200)
def test_lost_duplicated_and_killed_deliveries_then_reconcile_equals_welkin(
    meltano: Meltano, seeded_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    warehouse = meltano.workdir / "warehouse.duckdb"
    rng = random.Random(15)
    log = tmp_path / "events.db"
    receiver = ReceiverProcess(log, secret=SECRET).start()
    env = {
        **emulator_env("TAP_WELKIN", seeded_emulator.url),
        "TAP_WELKIN_EVENTS_EVENT_LOG_URL": f"sqlite:///{log}",
    }
    try:
        meltano.run("run", "welkin-to-duckdb", extra_env=env)
        # 20% of deliveries fail for good (one attempt), 30% arrive twice.
        seeded_emulator.set_webhooks([hook(receiver)], fail_rate=0.2, duplicate_rate=0.3,
                                     max_attempts=1, seed=7)  # fmt: skip
        writer = Writer(seeded_emulator)

        def write() -> None:
            for i in range(40):
                pid = writer.patient(f"Chaos{i}")
                if i % 2:
                    writer.update(writer.created[rng.randrange(len(writer.created))], f"C{i}")
                writer.allergy(pid, f"Dust{i}")
                time.sleep(0.1)

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(rng.uniform(1, 3))
        port = receiver.port
        receiver.kill()  # the receiver dies mid-stream: those pings fail (and are not retried)
        time.sleep(rng.uniform(0.5, 2))
        receiver = ReceiverProcess(log, secret=SECRET, port=port).start()
        killed_run(meltano, env, after=rng.uniform(5, 15))  # the pipeline dies mid-run
        thread.join()
        settled(seeded_emulator)
        # A killed run stays "running" in Meltano's records until it is stale: --force (safe,
        # two overlapping event runs at worst emit some events twice).
        meltano.run("run", "--force", "welkin-events-to-duckdb", extra_env=env)
        assert seeded_emulator.webhooks()["stats"]["failed"] > 0  # pings were lost for good
        audit = writer.session.get(f"{seeded_emulator.url}/demo/admin/audit-webhook",
                                   params={"status": "FAILED", "size": 1}, timeout=30).json()  # fmt: skip
        assert audit["metaInfo"]["totalElements"] > 0  # and Welkin's audit shows them
    finally:
        receiver.stop()
    meltano.run("run", "welkin-to-duckdb", extra_env=env)  # the nightly reconcile

    truth = export_ids(seeded_emulator, "PATIENT")
    rows = table(warehouse, "patients", 'id, "updatedAt"')
    assert len(rows) == len({r[0] for r in rows}), "duplicate patient rows"
    loaded = {str(r[0]): instant(r[1]) for r in rows}
    assert set(loaded) == set(truth), "lost or extra patients"
    assert set(writer.created) <= set(loaded)
    assert {pid: loaded[pid] for pid in truth} == truth, "stale patient rows"
    allergies = export_ids(seeded_emulator, "CDT_RECORD", cdt="allergies")
    rows = table(warehouse, "cdt_allergies", 'id, "updatedAt"')
    assert len(rows) == len({r[0] for r in rows}), "duplicate allergy rows"
    assert {str(r[0]): instant(r[1]) for r in rows} == allergies


def test_receiver_from_meltano_with_the_secret_set_in_env_file(tmp_path: Path) -> None:
    # `meltano config set welkin-webhooks secret …` in a copy of the project (the repository's
    # .env stays untouched): the secret goes to .env, never to meltano.yml.
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    env = {**os.environ, "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
           "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    secret = "readme-webhook-secret-15"
    subprocess.run([str(MELTANO), "config", "set", "welkin-webhooks", "secret", secret],
                   cwd=tmp_path, env=env, capture_output=True, text=True, check=True)  # fmt: skip
    assert f"WELKIN_WEBHOOKS_SECRET='{secret}'" in (tmp_path / ".env").read_text()
    assert secret not in (tmp_path / "meltano.yml").read_text()

    # `meltano invoke welkin-webhooks:serve` in the project, settings from the environment.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "events.db"
    serve_env = {**env, "WELKIN_WEBHOOKS_SECRET": secret, "WELKIN_WEBHOOKS_PORT": str(port),
                 "WELKIN_WEBHOOKS_EVENT_LOG": f"sqlite:///{log}",
                 "PATH": f"{MELTANO.parent}:{env['PATH']}"}  # fmt: skip
    proc = subprocess.Popen([str(MELTANO), "invoke", "welkin-webhooks:serve"], cwd=ROOT,
                            env=serve_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{url}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "receiver did not start"
                time.sleep(0.5)
        ping = {"eventEntity": "PATIENT", "eventSubtype": "PATIENT_UPDATED", "sourceId": "p-1"}
        wrong = requests.post(f"{url}/welkin/webhook", json=ping, timeout=10)
        right = requests.post(f"{url}/welkin/webhook", json=ping, timeout=10,
                              headers={"X-Welkin-Webhook-Secret": secret})  # fmt: skip
        assert (wrong.status_code, right.status_code) == (401, 200)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    with sqlite3.connect(log) as conn:
        assert conn.execute("SELECT entity, source_id FROM welkin_events").fetchall() == [
            ("PATIENT", "p-1")]  # fmt: skip


def test_event_mode_over_a_postgresql_event_log(
    seeded_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    import json

    from postgres import postgres_server

    with postgres_server() as pg:
        url = f"postgresql://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/{pg.database}"
        with ReceiverProcess(url, secret=SECRET) as receiver:
            seeded_emulator.set_webhooks([hook(receiver)])
            writer = Writer(seeded_emulator)
            pids = [writer.patient(f"Pg{i}") for i in range(30)]  # many: the export delta
            pid = writer.patient("PgOne")
            settled(seeded_emulator)
        config = {**emulator_env("TAP", seeded_emulator.url), "event_log_url": url}
        config = {k.removeprefix("TAP_").lower(): v for k, v in config.items()}
        config["max_requests_per_second"] = 0
        (tmp_path / "config.json").write_text(json.dumps(config))
        tap = str(Path(sys.executable).parent / "tap-welkin")
        out = subprocess.run([tap, "--config", str(tmp_path / "config.json")], capture_output=True,
                             text=True, check=True)  # fmt: skip
    records = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    patients = {
        m["record"]["id"] for m in records if m["type"] == "RECORD" and m["stream"] == "patients"
    }
    assert patients == {*pids, pid}
    assert url not in out.stderr and pg.password not in out.stderr
