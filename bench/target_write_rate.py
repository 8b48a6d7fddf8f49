"""Benchmark 4: target-welkin's write rate against its request budget.

target-welkin loads N new patients (300 by default), each with one ``allergies`` CDT record that
points at its patient by external id, into an emulator answering every request after 50 ms, with
``max_requests_per_second`` R (40 by default) and ``max_workers`` W (the target's default, 4).
The emulator's request counter is sampled every 0.2 s, so the rate is measured from the first
to the last API call (process start-up excluded). Then the same input again: an unchanged rerun
should make no write call. A second load with no budget shows whether the budget or the
concurrency bounds the rate.

Run alone: ``.venv/bin/python bench/target_write_rate.py [--patients N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import BenchResult, Emulator, markdown_table  # noqa: E402

DEFAULT_PATIENTS = 300
DEFAULT_RATE = 40.0
DEFAULT_LATENCY_MS = 50.0
DEFAULT_WORKERS = 4
WRITE_METHODS = ("POST ", "PATCH ", "PUT ", "DELETE ")

PATIENT_SCHEMA = {
    "type": "object",
    "properties": {
        "externalId": {"type": ["string", "null"]},
        "firstName": {"type": ["string", "null"]},
        "lastName": {"type": ["string", "null"]},
        "birthDate": {"type": ["string", "null"]},
        "city": {"type": ["string", "null"]},
    },
}
ALLERGY_SCHEMA = {
    "type": "object",
    "properties": {
        "patient_eid": {"type": ["string", "null"]},
        "external_id": {"type": ["string", "null"]},
        "allergy": {"type": ["string", "null"]},
        "severity": {"type": ["string", "null"]},
    },
}
STREAMS = {
    "allergies_feed": {
        "resource": "cdt",
        "cdt": "allergies",
        "patient_field": "patient_eid",
        "patient_key": "externalId",
    }
}


def write_input(path: Path, prefix: str, patients: int, cdt_per_patient: int = 1) -> int:
    """Singer messages for ``patients`` new patients and their allergy records; returns records."""
    allergens = ("Peanut", "Dust", "Pollen", "Latex", "Penicillin")
    severities = ("Mild", "Moderate", "Severe")
    with path.open("w") as fh:

        def emit(message: dict[str, t.Any]) -> None:
            fh.write(json.dumps(message) + "\n")

        emit(
            {"type": "SCHEMA", "stream": "patients", "schema": PATIENT_SCHEMA, "key_properties": []}
        )
        for i in range(patients):
            record = {
                "externalId": f"{prefix}-p{i}",
                "firstName": f"Bench{i}",
                "lastName": "Loader",
                "birthDate": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
                "city": "Portland",
            }
            emit({"type": "RECORD", "stream": "patients", "record": record})
        emit(
            {
                "type": "SCHEMA",
                "stream": "allergies_feed",
                "schema": ALLERGY_SCHEMA,
                "key_properties": [],
            }
        )
        for i in range(patients):
            for j in range(cdt_per_patient):
                record = {
                    "patient_eid": f"{prefix}-p{i}",
                    "external_id": f"{prefix}-a{i}-{j}",
                    "allergy": allergens[(i + j) % len(allergens)],
                    "severity": severities[i % len(severities)],
                }
                emit({"type": "RECORD", "stream": "allergies_feed", "record": record})
        emit({"type": "STATE", "value": {"bench": prefix}})
    return patients * (1 + cdt_per_patient)


class CounterSampler:
    """Samples the emulator's request total every ``interval`` seconds in a thread.

    The active window is known to one interval at each end: 50 ms is 0.7% of a 15 s run.
    """

    def __init__(self, emu: Emulator, interval: float = 0.05) -> None:
        self.emu = emu
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="counter-sampler", daemon=True)

    def __enter__(self) -> CounterSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), self.emu.requests().get("total", 0)))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.emu.requests().get("total", 0)))
            self._stop.wait(self.interval)

    def active_window(self) -> tuple[float, int]:
        """Seconds from the first sample that saw a call to the first that saw the final count.

        Returns the window and the calls counted within it.
        """
        final = self.samples[-1][1]
        first = next(((ts, n) for ts, n in self.samples if n > 0), None)
        last = next(((ts, n) for ts, n in self.samples if n >= final), None)
        if first is None or last is None or last[0] <= first[0]:
            return 0.0, 0
        return last[0] - first[0], last[1] - first[1]


@dataclasses.dataclass
class Load:
    """One target-welkin run and what it cost."""

    label: str
    budget: float
    records: int
    counts: dict[str, int]
    proc: common.ProcResult
    window_s: float
    window_calls: int

    @property
    def writes(self) -> int:
        """POST/PATCH/PUT/DELETE calls (the token's POST is not a write)."""
        return sum(
            v
            for k, v in self.counts.items()
            if k.startswith(WRITE_METHODS) and k != common.TOKEN_ROUTE
        )

    @property
    def reads(self) -> int:
        """GET calls and the token (everything that is not a write)."""
        return self.counts.get("total", 0) - self.writes

    @property
    def rate(self) -> float:
        """All calls per second within the active window."""
        return self.window_calls / self.window_s if self.window_s else 0.0

    @property
    def write_rate(self) -> float:
        """Write calls per second over the active window (writes' share of the window's calls)."""
        total = self.counts.get("total", 0)
        return self.rate * self.writes / total if total else 0.0

    def row(self) -> list[t.Any]:
        """A table row."""
        total = self.counts.get("total", 0)
        budget = f"{self.budget:g}" if self.budget else "none"
        if self.window_s < 1 or self.window_calls < 10:  # too few calls to call it a rate
            rates = ["-", "-", "-", "-"]
        else:
            rates = [
                f"{self.rate:.1f}",
                f"{self.write_rate:.1f}",
                f"{self.rate / self.budget:.2f}" if self.budget else "-",
                f"{self.write_rate / self.budget:.2f}" if self.budget else "-",
            ]
        return [
            self.label,
            budget,
            self.records,
            self.writes,
            self.reads,
            f"{total / self.records:.2f}" if self.records else "-",
            f"{self.writes / self.records:.2f}" if self.records else "-",
            f"{self.window_s:.1f}",
            f"{self.proc.wall_s:.1f}",
            f"{self.proc.cpu_s:.1f}",
            *rates,
        ]


HEADERS = [
    "run",
    "budget R/s",
    "records",
    "write calls",
    "other calls (GET, token)",
    "calls/record",
    "writes/record",
    "active s",
    "process wall s",
    "target CPU s",
    "calls/s",
    "writes/s",
    "calls/s ÷ R",
    "writes/s ÷ R",
]


def load(
    emu: Emulator,
    label: str,
    input_path: Path,
    records: int,
    state_dir: Path,
    budget: float,
    workers: int,
) -> Load:
    """Run target-welkin on ``input_path`` with a fresh request counter."""
    config = common.write_json(
        common.WORK / f"target.{label}.json",
        {
            **emu.connection(),
            "max_requests_per_second": budget,
            "max_workers": workers,
            "state_dir": str(state_dir),
            "rejects_path": str(state_dir / "rejects.jsonl"),
            "streams": STREAMS,
        },
    )
    emu.reset_requests()
    with CounterSampler(emu) as sampler:
        proc = common.run_measured(
            [common.tool("target-welkin"), "--config", str(config)],
            stdin=input_path,
            stderr_name=f"target-{label}",
        ).check()
    window, calls = sampler.active_window()
    counts = emu.requests()
    rejects = state_dir / "rejects.jsonl"
    if rejects.exists() and rejects.stat().st_size:
        common.log(f"{label}: {len(rejects.read_text().splitlines())} rejects in {rejects}")
    common.log(f"{label}: {counts.get('total', 0)} calls in {proc.wall_s:.1f} s")
    return Load(label, budget, records, counts, proc, window, calls)


def run(
    patients: int | None = None,
    rate: float = DEFAULT_RATE,
    latency_ms: float = DEFAULT_LATENCY_MS,
    workers: int = DEFAULT_WORKERS,
) -> BenchResult:
    """Load, reload unchanged, and load again without a budget."""
    patients = patients or common.scaled(DEFAULT_PATIENTS, minimum=40)
    db = common.WORK / "target-write.db"
    for leftover in common.WORK.glob(db.name + "*"):
        leftover.unlink()
    state_root = common.WORK / "target-write-state"
    if state_root.exists():
        for path in sorted(state_root.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    loads: list[Load] = []
    with Emulator(db, extra_args=("--latency-ms", str(latency_ms))) as emu:
        budgeted = common.WORK / "target-input-budget.singer"
        records = write_input(budgeted, "bud", patients)
        state = state_root / "budget"
        loads.append(load(emu, "first load", budgeted, records, state, rate, workers))
        loads.append(load(emu, "unchanged rerun", budgeted, records, state, rate, workers))
        free = common.WORK / "target-input-free.singer"
        write_input(free, "free", patients)
        loads.append(
            load(emu, "first load, no budget", free, records, state_root / "free", 0, workers)
        )
    first, rerun, unbounded = loads
    table = markdown_table(HEADERS, [x.row() for x in loads])
    routes = "; ".join(f"{k} x{v}" for k, v in sorted(first.counts.items()) if k != "total")
    summary = (
        f"With a budget of {rate:g}/s and {latency_ms:.0f} ms latency, target-welkin made "
        f"{first.rate:.1f} calls/s ({first.rate / rate:.2f} of R), {first.write_rate:.1f} "
        f"writes/s ({first.write_rate / rate:.2f} of R), "
        f"{first.counts.get('total', 0) / records:.2f} calls and "
        f"{first.writes / records:.2f} writes per record; the unchanged rerun made "
        f"{rerun.writes} write calls ({rerun.counts.get('total', 0)} calls in all); without a "
        f"budget, {workers} workers reach {unbounded.rate:.1f} calls/s."
    )
    notes = [
        f"Input: {patients:,} new patients and {patients:,} `allergies` records (one each, "
        f"patient referenced by externalId), {records:,} records; max_workers {workers}; "
        f"the emulator answers every request after {latency_ms:.0f} ms.",
        f"Calls of the first load: {routes}.",
        "The budget covers every request (lookups and the token too), so `calls/s ÷ R` near 1 "
        "means the budget is what bounds the load; `writes/s ÷ R` is the share of it that "
        "writes. The no-budget row shows the concurrency ceiling: "
        f"{workers} workers / {latency_ms / 1000:g} s = {workers / (latency_ms / 1000):.0f} "
        "calls/s at most.",
    ]
    return BenchResult("4. Target write rate", [table], summary, notes)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, help=f"default {DEFAULT_PATIENTS} x BENCH_SCALE")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="request budget R/s")
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    args = parser.parse_args()
    common.timed(lambda: run(args.patients, args.rate, args.latency_ms, args.workers)).print()


if __name__ == "__main__":
    main()
