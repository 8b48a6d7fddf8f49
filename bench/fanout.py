"""Benchmark 6: the fan-out of stream groups over workers, and the shared budget when it binds.

The orchestration (``orchestration/``) runs one process per stream group. Here each group is a
tap-welkin process (its catalog selects the group's streams, its records go to /dev/null),
at most W of them at once, against one emulator with 100 ms latency per request:

* wall time of a full sync of the 4 groups with W = 1, 2 and 4 workers and a generous budget
  (shared through a SQLite backend, so the budget's bookkeeping is paid too);
* the achieved share of the budget when it binds: 4 workers, a budget of ``--budget``
  requests/s that they could exceed together, requests/s at the emulator (its request counter
  sampled four times a second, start-up and tail excluded) over the budget.

Run alone: ``.venv/bin/python bench/fanout.py [--patients N] [--budget R]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import BenchResult, Emulator, markdown_table  # noqa: E402

DEFAULT_PATIENTS = 300
PAGE_SIZE = 5  # small pages: enough requests per group for latency, not start-up, to dominate
LATENCY_MS = 100
GENEROUS = 1000  # requests/s: never binds
GROUPS: dict[str, t.Callable[[str], bool]] = {
    "patients": lambda s: s == "patients",
    "users": lambda s: s == "users",
    "care": lambda s: s in ("encounters", "calendar_events"),
    "cdts": lambda s: s.startswith("cdt_") and s != "cdt_records",
}


def group_catalogs(emu: Emulator, config: Path) -> dict[str, Path]:
    """One catalog file per stream group."""
    catalog = common.discover(config)
    names = common.stream_names(catalog)
    return {
        group: common.write_json(
            common.WORK / "fanout" / f"catalog.{group}.json",
            common.select_streams(catalog, [n for n in names if chosen(n)]),
        )
        for group, chosen in GROUPS.items()
    }


def sync_all(config: Path, catalogs: dict[str, Path], workers: int, tag: str = "") -> list[float]:
    """Sync every group, ``workers`` at a time; when each ended (``perf_counter``), sorted."""

    def one(group: str) -> float:
        argv = [
            common.tool("tap-welkin"),
            "--config",
            str(config),
            "--catalog",
            str(catalogs[group]),
        ]
        common.run_measured(argv, stderr_name=f"fanout-{group}-w{workers}{tag}").check()
        return time.perf_counter()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sorted(pool.map(one, catalogs))


def sampled_rate(emu: Emulator, run: t.Callable[[], list[float]]) -> tuple[float, int]:
    """Requests/s at the emulator while the budget binds, and the run's total requests.

    From 10% of the run's requests (start-up done) to when the second-last worker ended
    (one worker alone cannot bind the budget).
    """
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter(), emu.requests()["total"]))
            time.sleep(0.25)

    emu.reset_requests()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    ended = run()
    done.set()
    sampler.join()
    total = emu.requests()["total"]
    low = next(s for s in samples if s[1] >= total * 0.1)
    high = [s for s in samples if s[0] <= ended[-2]][-1]
    return (high[1] - low[1]) / (high[0] - low[0]), total


def run(patients: int | None = None, budget: int = 6) -> BenchResult:
    """Wall times for 1, 2, 4 workers and the achieved share of a binding budget."""
    patients = patients or common.scaled(DEFAULT_PATIENTS, minimum=200)
    db = common.seeded_db(patients, "fanout")
    backend = common.WORK / "fanout" / "budget.db"
    with Emulator(db, extra_args=("--latency-ms", str(LATENCY_MS))) as emu:
        base = {"page_size": PAGE_SIZE, "rate_limit_backend_url": f"sqlite:///{backend}"}
        generous = common.write_json(
            common.WORK / "fanout" / "config.generous.json",
            common.tap_config(emu, **base, max_requests_per_second=GENEROUS),
        )
        binding = common.write_json(
            common.WORK / "fanout" / "config.binding.json",
            common.tap_config(emu, **base, max_requests_per_second=budget),
        )
        catalogs = group_catalogs(emu, generous)
        rows = []
        walls: dict[int, float] = {}
        for workers in (1, 2, 4):
            emu.reset_requests()
            started = time.perf_counter()
            walls[workers] = sync_all(generous, catalogs, workers)[-1] - started
            requests = emu.requests()["total"]
            rows.append(
                [
                    f"{workers}",
                    GENEROUS,
                    requests,
                    f"{walls[workers]:.1f}",
                    f"{walls[1] / walls[workers]:.2f}",
                    "-",
                ]
            )
            common.log(f"fanout: {workers} worker(s) {walls[workers]:.1f} s")
        rate, requests = sampled_rate(emu, lambda: sync_all(binding, catalogs, 4, "-binding"))
        share = rate / budget
        rows.append(["4 (budget binds)", budget, requests, "-", "-", f"{share:.2f}"])
    table = markdown_table(
        ["workers", "budget req/s", "requests", "wall s", "speed-up vs 1", "achieved share"], rows
    )
    summary = (
        f"4 stream groups at {LATENCY_MS} ms latency: {walls[1]:.1f} s with 1 worker, "
        f"{walls[2]:.1f} s with 2, {walls[4]:.1f} s with 4 ({walls[1] / walls[4]:.2f}x); "
        f"a binding shared budget of {budget}/s is used at {share:.2f} (goal >= 0.9)"
    )
    notes = [
        f"{patients} patients, pages of {PAGE_SIZE}, {LATENCY_MS} ms per request; every worker "
        "draws from one budget shared through a SQLite file (`rate_limit_backend_url`).",
        "The stream groups differ in size: the largest bounds the wall time with 4 workers.",
    ]
    return BenchResult("6. Fan-out over workers, one budget", [table], summary, notes)


def main() -> None:
    """Run alone and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int)
    parser.add_argument("--budget", type=int, default=6)
    args = parser.parse_args()
    run(args.patients, args.budget).print()


if __name__ == "__main__":
    main()
