"""Webhook freshness: seconds from a write in Welkin to its row in DuckDB, and requests per run.

Real processes over HTTP: the emulator pings ``welkin-webhooks`` after each write, and the
README's loop loads DuckDB through Meltano: ``welkin-webhooks follow -- meltano run --force
welkin-events-to-duckdb`` with the event job's catalog dumped once (no discovery per run).
Side by side, under the same load, the loop the README showed before: ``while sleep 5; do
meltano run --force welkin-events-to-duckdb; done`` (Meltano discovers before every run).
``WRITES`` writes (patient creates and updates, CDT records) arrive at ``RATE`` per second.
After each run the loop copies the warehouse file (milliseconds); a write's latency is the
copy time of the first snapshot that holds it, minus the moment the write was answered.

Second table: requests per event-mode run (the tap alone) against the number of touched
resources (by id and export delta), the idle run, and the idle run through Meltano.

``python bench/webhooks.py`` (``BENCH_SCALE`` scales the writes; needs ``make meltano``).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import BenchResult  # noqa: E402
from welkin_emulator.testing import EmulatorProcess  # noqa: E402
from welkin_webhooks.testing import ReceiverProcess  # noqa: E402

WRITES = 200
RATE = 10.0  # writes per second
MELTANO = common.ROOT / ".venv-meltano" / "bin" / "meltano"
DUCKDB_PYTHON = common.ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
JOB = "meltano run --force welkin-events-to-duckdb"
#: The loops measured: (label, shell command); ``$SNAP`` copies the warehouse after each run.
LOOPS = [
    ("follow (README)", f"{{follow}} -- sh -c '{JOB}; eval \"$SNAP\"'"),
    ("while sleep 5 (before)", f'while sleep 5; do {JOB}; eval "$SNAP"; done'),
]


class Writer:
    """Writes at ``RATE``/s and remembers when each answer came: ``marker -> epoch seconds``."""

    def __init__(self, emu: EmulatorProcess, writes: int, tag: str) -> None:
        self.emu, self.writes, self.tag = emu, writes, tag
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.token()}"
        self.done_at: dict[str, float] = {}
        self.patients: list[str] = []

    def run(self) -> None:
        base = self.emu.api_url
        for i in range(self.writes):
            started = time.monotonic()
            marker = f"{self.tag}{i:04d}"
            if i % 3 == 0 or not self.patients:
                body = {"firstName": marker, "lastName": "Bench"}
                created = self.session.post(f"{base}/patients", json=body, timeout=30).json()
                self.patients.append(created["id"])
            elif i % 3 == 1:
                pid = self.patients[-1]
                self.session.patch(f"{base}/patients/{pid}", json={"city": marker}, timeout=30)
            else:
                path = f"{base}/patients/{self.patients[-1]}/cdts/allergies"
                self.session.post(path, json={"allergy": marker}, timeout=30)
            self.done_at[marker] = time.time()
            time.sleep(max(0.0, 1 / RATE - (time.monotonic() - started)))


SNAPSHOT_MARKERS = """
import duckdb, json, sys
c = duckdb.connect(sys.argv[1], read_only=True)
q = ('select "firstName" from welkin.patients union all select city from welkin.patients '
     'union all select allergy from welkin.cdt_allergies')
print(json.dumps([r[0] for r in c.sql(q).fetchall() if r[0]]))
"""


def markers_in(snapshot: Path) -> set[str]:
    """The write markers in one warehouse snapshot (read with target-duckdb's duckdb)."""
    out = subprocess.run([str(DUCKDB_PYTHON), "-c", SNAPSHOT_MARKERS, str(snapshot)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return set(json.loads(out))


class Pipeline:
    """The Meltano project against one emulator and one receiver, in ``work``."""

    def __init__(self, emu: EmulatorProcess, receiver: ReceiverProcess, work: Path) -> None:
        self.emu, self.receiver, self.work = emu, receiver, work
        self.warehouse = work / "warehouse.duckdb"
        self.snaps_name = "snaps"
        self.env = {
            **os.environ,
            "PATH": f"{MELTANO.parent}:{common.BIN}:{os.environ['PATH']}",
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TARGET_DUCKDB_PATH": str(self.warehouse),
            "TAP_WELKIN_EVENTS_EVENT_LOG_URL": f"sqlite:///{receiver.event_log}",
            "TAP_WELKIN_API_URL": emu.url, "TAP_WELKIN_TENANT": emu.tenant,
            "TAP_WELKIN_INSTANCE": emu.instance, "TAP_WELKIN_API_CLIENT": emu.client_name,
            "TAP_WELKIN_SECRET_KEY": emu.client_secret, "TAP_WELKIN_MAX_REQUESTS_PER_SECOND": "0",
        }  # fmt: skip

    def meltano(self, *args: str, env: dict[str, str] | None = None) -> str:
        """One ``meltano`` command in the repository's project; its stdout."""
        full = {**self.env, **(env or {})}
        return subprocess.run([str(MELTANO), *args], cwd=common.ROOT, env=full,
                              capture_output=True, text=True, check=True).stdout  # fmt: skip

    def catalog(self) -> dict[str, str]:
        """The README's one-off catalog dump; the env that makes the event job use it."""
        path = self.work / "tap-welkin-events.catalog.json"
        path.write_text(self.meltano("invoke", "--dump=catalog", "tap-welkin-events"))
        return {"TAP_WELKIN_EVENTS__CATALOG": str(path)}

    def freshness(
        self, label: str, loop: str, env: dict[str, str], writes: int
    ) -> dict[str, t.Any]:
        """Run ``loop`` while ``writes`` writes arrive; latencies and the loop's runs."""
        snaps = self.work / self.snaps_name
        snaps.mkdir(exist_ok=True)
        for old in snaps.iterdir():
            old.unlink()
        follow = f"{shlex.quote(common.tool('welkin-webhooks'))} follow --poll 0.2 " \
                 f"--event-log sqlite:///{self.receiver.event_log}"  # fmt: skip
        snap = f"cp {self.warehouse} {snaps}/$(date +%s.%N)"
        shell = loop.replace("{follow}", follow)
        proc = subprocess.Popen(["sh", "-c", shell], cwd=common.ROOT, start_new_session=True,
                                env={**self.env, **env, "SNAP": snap}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        writer = Writer(self.emu, writes, tag="w" if "follow" in loop else "v")
        writer.run()
        deadline = time.time() + 180
        seen: dict[str, float] = {}
        checked: set[Path] = set()
        while len(seen) < writes and time.time() < deadline:
            time.sleep(2)
            for snapshot in sorted(set(snaps.iterdir()) - checked):
                checked.add(snapshot)
                for marker in markers_in(snapshot) & set(writer.done_at):
                    seen.setdefault(marker, float(snapshot.name))
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
        latencies = sorted(seen[m] - writer.done_at[m] for m in seen)
        return {"label": label, "writes": writes, "latencies": latencies, "runs": len(checked),
                "span": writes / RATE}  # fmt: skip


#: The request table's rows: (touched resources, what they are).
COST_ROWS = [(0, "patients"), (1, "patients"), (5, "patients"), (20, "patients"),
             (100, "patients"), (1, "allergy records + 1 patient"),
             (20, "allergy records + 1 patient")]  # fmt: skip


def touch(session: requests.Session, emu: EmulatorProcess, count: int, kind: str) -> None:
    """Create ``count`` patients, or allergy records of one new patient."""
    if kind == "patients":  # else allergy records of one new patient
        for _ in range(count):
            session.post(f"{emu.api_url}/patients", json={"firstName": "c", "lastName": "c"},
                         timeout=30)  # fmt: skip
        return
    pid = session.post(f"{emu.api_url}/patients", json={"firstName": "a", "lastName": "a"},
                       timeout=30).json()["id"]  # fmt: skip
    for i in range(count):
        session.post(f"{emu.api_url}/patients/{pid}/cdts/allergies", json={"allergy": f"a{i}"},
                     timeout=30)  # fmt: skip


def request_costs(emu: EmulatorProcess, files: dict[str, Path]) -> list[list[t.Any]]:
    """Requests of one event run (the tap alone) per number of touched resources."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token()}"
    rows = []
    for touched, kind in COST_ROWS:
        touch(session, emu, touched, kind)
        time.sleep(1.0)  # deliveries land
        emu.reset_requests()
        out = subprocess.run(
            [common.tool("tap-welkin"), "--config", str(files["config"]), "--catalog",
             str(files["catalog"]), "--state", str(files["state"])],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        messages = [json.loads(line) for line in out.splitlines() if line.startswith(b"{")]
        states = [m["value"] for m in messages if m["type"] == "STATE"]
        if states:
            files["state"].write_text(json.dumps(states[-1]))
        records = sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] != "cdt_records")
        counts = emu.requests()
        export = sum(v for k, v in counts.items() if "/export/" in k)
        by_id = sum(v for k, v in counts.items() if k.startswith("GET") and k.endswith("Id}"))
        formation = sum(v for k, v in counts.items() if "/formations/" in k)
        token = counts.get(common.TOKEN_ROUTE, 0)
        rows.append([f"{touched} {kind}", records, counts["total"], token, formation, by_id,
                     export])  # fmt: skip
    return rows


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of sorted ``values`` (nearest rank)."""
    return values[min(len(values) - 1, int(len(values) * share))] if values else float("nan")


def run() -> BenchResult:
    """Both loops and the request counts against one emulator and one receiver."""
    if not (MELTANO.exists() and DUCKDB_PYTHON.exists()):
        raise FileNotFoundError("Meltano and target-duckdb are not installed: run `make meltano`")
    writes = common.scaled(WRITES, minimum=30)
    db = common.seeded_db(common.scaled(200, minimum=50), "webhooks")
    work = common.WORK / "webhooks"
    work.mkdir(parents=True, exist_ok=True)
    for leftover in [*work.glob("events.db*"), *work.glob("meltano.db*"), *work.glob("*.duckdb")]:
        leftover.unlink()
    with ReceiverProcess(work / "events.db", secret="bench") as receiver, \
            EmulatorProcess(db) as emu:  # fmt: skip
        emu.set_faults(token_limit=0)
        emu.set_webhooks([{"name": "wh-bench", "url": receiver.url,
                           "headers": {receiver.header: "bench"}}])  # fmt: skip
        pipeline = Pipeline(emu, receiver, work)
        catalog_env = pipeline.catalog()
        loops = []
        for index, (label, loop) in enumerate(LOOPS):
            load = os.getloadavg()[0]
            pipeline.snaps_name = f"snaps-{index}"
            env = catalog_env if "follow" in loop else {}
            loops.append(pipeline.freshness(label, loop, env, writes))
            loops[-1]["load"] = max(load, os.getloadavg()[0])
        pipeline.meltano("run", "--force", "welkin-events-to-duckdb", env=catalog_env)  # catch up
        emu.reset_requests()
        pipeline.meltano("run", "welkin-events-to-duckdb", env=catalog_env)
        idle_meltano = emu.requests()["total"]
        plain = {"api_url": emu.url, "tenant": emu.tenant, "instance": emu.instance,
                 "api_client": emu.client_name, "secret_key": emu.client_secret,
                 "max_requests_per_second": 0}  # fmt: skip
        config = {**plain, "event_log_url": f"sqlite:///{work / 'events.db'}"}
        files = {"config": common.write_json(work / "config.json", config),
                 "state": common.write_json(work / "state.json", {})}  # fmt: skip
        files["catalog"] = common.write_json(
            work / "catalog.json",
            common.select_streams(common.discover(common.write_json(work / "plain.json", plain)),
                                  ["patients", "cdt_allergies"]),
        )  # fmt: skip
        # A first run takes the freshness writes' events: the rows below start idle.
        request_costs(emu, files)
        costs = request_costs(emu, files)
    return summarise(loops, costs, idle_meltano)


def summarise(
    loops: list[dict[str, t.Any]], costs: list[list[t.Any]], idle_meltano: int
) -> BenchResult:
    """The two tables, the summary and the headline figure."""
    rows = []
    for loop in loops:
        lat = loop["latencies"]
        rows.append([loop["label"], loop["writes"], len(lat), f"{percentile(lat, 0.5):.2f}",
                     f"{percentile(lat, 0.95):.2f}", f"{lat[-1] if lat else float('nan'):.2f}",
                     loop["runs"], f"{loop['load']:.1f}"])  # fmt: skip
    table1 = common.markdown_table(
        ["loop", "writes", "seen", "p50 s", "p95 s", "max s", "runs", "load avg"], rows
    )
    table2 = common.markdown_table(
        ["touched", "records", "requests", "token", "formation", "GET by id", "export pages"],
        costs,
    )
    follow, before = (percentile(loop["latencies"], 0.95) for loop in loops)
    return BenchResult(
        title="6. Webhook freshness (ping and pull)",
        tables=[table1, table2],
        summary=f"p95 write→row in DuckDB {follow:.1f} s with the README's follow loop "
        f"({before:.1f} s with the previous `while sleep 5` loop, side by side) over "
        f"{loops[0]['writes']} writes (goal < 10 s); an idle event run sends {costs[0][2]} "
        f"requests (through Meltano with the dumped catalog: {idle_meltano})",
        notes=[
            f"writes at {RATE:.0f}/s through the API; rows read from a copy of the DuckDB file "
            "taken after each `meltano run` (an upper bound on when the row landed)",
            "follow runs the event job as soon as the log's head moves (polled every 0.2 s), "
            "never two at once: a write waits for the run in progress, then its own, so p95 is "
            "about two `meltano run`s; a run is mostly Meltano's and the tap's start-up, "
            "stretched by the machine's load",
            "the request table runs the tap alone (the same requests Meltano's run sends with "
            "the dumped catalog); the first row is idle",
        ],
        figures={"p95 s from a write to its DuckDB row (README loop)": follow},
    )


if __name__ == "__main__":
    result = common.timed(run)
    result.print()
