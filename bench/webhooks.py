"""Webhook freshness: seconds from a write in Welkin to its row, and requests per event run.

Real processes over HTTP: the emulator pings ``welkin-webhooks`` after each write; a loop runs
``tap-welkin`` in event mode and pipes its output into target-duckdb (Meltano's venv, when
installed; otherwise the tap's own output is the end point). ``WRITES`` writes (patient creates
and updates, CDT records) arrive at ``RATE`` per second while the loop runs back to back, as
the README's loop does. A write's latency is the end of the first loop iteration whose output
holds its resource in the written state, minus the moment the write was answered.

Second table: requests per event-mode run against the number of touched resources (by id and
export delta), and the idle run.

``python bench/webhooks.py`` (``BENCH_SCALE`` scales the writes).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
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
TARGET = common.ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb"


class Writer:
    """Writes at ``RATE``/s and remembers when each answer came: ``marker -> seconds``."""

    def __init__(self, emu: EmulatorProcess, writes: int) -> None:
        self.emu, self.writes = emu, writes
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.token()}"
        self.done_at: dict[str, float] = {}
        self.patients: list[str] = []

    def run(self) -> None:
        base = self.emu.api_url
        for i in range(self.writes):
            started = time.monotonic()
            marker = f"w{i:04d}"
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
            self.done_at[marker] = time.monotonic()
            time.sleep(max(0.0, 1 / RATE - (time.monotonic() - started)))


def markers(record: dict[str, t.Any]) -> set[str]:
    """The write markers a record carries (first name, city, allergy)."""
    values = (record.get("firstName"), record.get("city"), record.get("allergy"))
    return {v for v in values if isinstance(v, str) and v.startswith("w") and v[1:].isdigit()}


def event_run(
    config: Path, catalog: Path, state: Path, warehouse: Path | None = None
) -> list[dict[str, t.Any]]:
    """One tap run in event mode, streamed into target-duckdb when ``warehouse`` is given and
    target-duckdb is installed (both start at once, as in a shell pipe); its RECORDs.
    """
    tap = subprocess.Popen(
        [common.tool("tap-welkin"), "--config", str(config), "--catalog", str(catalog),
         "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    target = None
    if warehouse is not None and TARGET.exists():
        settings = {"path": str(warehouse), "default_target_schema": "welkin"}
        target_config = common.write_json(warehouse.with_suffix(".json"), settings)
        target = subprocess.Popen([str(TARGET), "--config", str(target_config)],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
    assert tap.stdout is not None
    messages = []
    for line in tap.stdout:
        if target is not None:
            assert target.stdin is not None
            target.stdin.write(line)
        if line.startswith(b"{"):
            messages.append(json.loads(line))
    if tap.wait() != 0:
        raise RuntimeError("tap-welkin failed in the event loop")
    if target is not None:
        assert target.stdin is not None
        target.stdin.close()
        if target.wait() != 0:
            raise RuntimeError("target-duckdb failed in the event loop")
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    if states:
        state.write_text(json.dumps(states[-1]))
    return [m for m in messages if m["type"] == "RECORD"]


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far (tap, target)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


cpu_seconds: list[float] = []


def freshness(
    emu: EmulatorProcess, files: dict[str, Path], writes: int
) -> tuple[list[float], list[float]]:
    """Latency of every write and duration of every loop iteration, in seconds."""
    writer = Writer(emu, writes)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    seen: dict[str, float] = {}
    iterations: list[float] = []
    deadline = time.monotonic() + writes / RATE + 120
    while (thread.is_alive() or len(seen) < writes) and time.monotonic() < deadline:
        began, cpu = time.monotonic(), children_cpu()
        records = event_run(files["config"], files["catalog"], files["state"], files["warehouse"])
        now = time.monotonic()
        iterations.append(now - began)
        cpu_seconds.append(children_cpu() - cpu)
        for message in records:
            for marker in markers(message["record"]):
                seen.setdefault(marker, now)
    return sorted(seen[m] - writer.done_at[m] for m in seen if m in writer.done_at), iterations


def request_costs(emu: EmulatorProcess, files: dict[str, Path]) -> list[list[t.Any]]:
    """Requests of one event run per number of touched patients (plus the idle run)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token()}"
    rows = []
    for touched in (0, 1, 5, 20, 100):
        for _ in range(touched):
            session.post(f"{emu.api_url}/patients", json={"firstName": "c", "lastName": "c"},
                         timeout=30)  # fmt: skip
        time.sleep(1.0)  # deliveries land
        emu.reset_requests()
        records = event_run(files["config"], files["catalog"], files["state"])
        counts = emu.requests()
        export = sum(v for k, v in counts.items() if "/export/" in k)
        by_id = counts.get("GET /{tenant}/{instance}/patients/{patientId}", 0)
        token = counts.get(common.TOKEN_ROUTE, 0)
        rows.append([touched, len(records), counts["total"], token, by_id, export])
    return rows


def run() -> BenchResult:
    """Both measurements against one emulator and one receiver."""
    writes = common.scaled(WRITES, minimum=30)
    db = common.seeded_db(common.scaled(200, minimum=50), "webhooks")
    work = common.WORK / "webhooks"
    work.mkdir(parents=True, exist_ok=True)
    for leftover in work.glob("events.db*"):
        leftover.unlink()
    (work / "warehouse.duckdb").unlink(missing_ok=True)
    with ReceiverProcess(work / "events.db", secret="bench") as receiver, \
            EmulatorProcess(db) as emu:  # fmt: skip
        emu.set_faults(token_limit=0)
        emu.set_webhooks([{"name": "wh-bench", "url": receiver.url,
                           "headers": {receiver.header: "bench"}}])  # fmt: skip
        plain_config = {"api_url": emu.url, "tenant": emu.tenant, "instance": emu.instance,
                        "api_client": emu.client_name, "secret_key": emu.client_secret,
                        "max_requests_per_second": 0}  # fmt: skip
        config = {**plain_config, "event_log_url": f"sqlite:///{work / 'events.db'}"}
        files = {"config": common.write_json(work / "config.json", config),
                 "state": common.write_json(work / "state.json", {}),
                 "warehouse": work / "warehouse.duckdb"}  # fmt: skip
        plain = common.write_json(work / "plain.json", plain_config)
        files["catalog"] = common.write_json(
            work / "catalog.json",
            common.select_streams(common.discover(plain), ["patients", "cdt_allergies"]),
        )
        latencies, iterations = freshness(emu, files, writes)
        costs = request_costs(emu, files)
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    end = "target-duckdb rows" if TARGET.exists() else "tap output (target-duckdb not installed)"
    mean_loop = sum(iterations) / len(iterations)
    mean_cpu = sum(cpu_seconds) / len(cpu_seconds)
    table1 = common.markdown_table(
        ["writes", "seen", "p50 s", "p95 s", "max s", "loop runs", "mean loop s",
         "CPU s per loop", "load avg", "end point"],
        [[writes, len(latencies), f"{p50:.2f}", f"{p95:.2f}", f"{latencies[-1]:.2f}",
          len(iterations), f"{mean_loop:.2f}", f"{mean_cpu:.2f}", f"{os.getloadavg()[0]:.1f}",
          end]],
    )  # fmt: skip
    table2 = common.markdown_table(
        ["touched patients", "records", "requests", "token", "GET by id", "export pages"], costs
    )
    return BenchResult(
        title="6. Webhook freshness (ping and pull)",
        tables=[table1, table2],
        summary=f"p95 write→row {p95:.1f} s over {writes} writes (goal < 10 s); an idle event "
        f"run sends {costs[0][2]} requests",
        notes=[
            f"writes at {RATE:.0f}/s; the event loop runs back to back (no sleep)",
            "a write waits for the loop run in progress, then the next one: latency is about "
            "1.5 loop runs, and a loop run is mostly process start-up (CPU s per loop) "
            "stretched by the machine's load",
        ],
    )


if __name__ == "__main__":
    result = common.timed(run)
    result.print()
