"""Benchmark 5: peak resident memory of tap-welkin and target-welkin as the data grows.

Peak RSS comes from the kernel's accounting of each child process (``wait4`` rusage
``ru_maxrss``), so nothing runs inside the measured process.

* tap-welkin: a full sync of every stream (stdout to /dev/null) of an empty instance (start-up),
  of 10,000 and of 100,000 seeded patients.
* target-welkin: an empty input (start-up), then first loads of 1,000 and of 10,000 new patients
  with one CDT record each, no latency and no budget, and the unchanged rerun of the larger one.
  A first load costs two API calls a record and runs at 100-300 calls/s on a 2-core machine, so
  100,000 patients would take 15-30 minutes: the target's sizes are a tenth of the tap's, still
  10x apart (override with ``--target-patients``).

Memory must not grow with N: the ratio large/small of peak RSS, and of the growth over
start-up, should stay near 1.

Run alone: ``.venv/bin/python bench/memory.py [--tap-patients 10000 100000]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import target_write_rate  # noqa: E402
from common import BenchResult, Emulator, markdown_table  # noqa: E402

DEFAULT_TAP_PATIENTS = (10_000, 100_000)
DEFAULT_TARGET_PATIENTS = (1_000, 10_000)


def tap_peak(patients: int) -> tuple[common.ProcResult, int]:
    """A full sync of ``patients`` (0: an empty instance) to /dev/null; returns it and requests."""
    if patients:
        db = common.seeded_db(patients, "memory-tap")
    else:
        db = common.WORK / "memory-empty.db"
        for leftover in common.WORK.glob(db.name + "*"):
            leftover.unlink()
    with Emulator(db) as emu:
        config = common.write_json(common.WORK / "tap.memory.json", common.tap_config(emu))
        catalog = common.export_streams_catalog(config, "memory")
        emu.reset_requests()
        argv = [common.tool("tap-welkin"), "--config", str(config), "--catalog", str(catalog)]
        proc = common.run_measured(argv, stderr_name=f"tap-mem-{patients}").check()
        requests = emu.requests().get("total", 0)
    db.unlink(missing_ok=True)
    return proc, requests


def target_peak(
    emu: Emulator, patients: int, label: str, state: Path, rerun: bool = False
) -> tuple[common.ProcResult, int]:
    """target-welkin loading ``patients`` new patients (+1 CDT record each); returns calls too."""
    source = common.WORK / f"memory-target-{patients}.singer"
    if patients:
        records = target_write_rate.write_input(source, f"mem{patients}", patients)
    else:
        source.write_text("")
        records = 0
    result = target_write_rate.load(emu, label, source, records or 1, state, 0, 4)
    return result.proc, result.counts.get("total", 0)


def growth_row(
    name: str, size: int, unit: str, proc: common.ProcResult, base: float, calls: int
) -> list[t.Any]:
    """One table row."""
    return [
        name,
        f"{size:,} {unit}",
        calls,
        f"{proc.wall_s:.1f}",
        f"{proc.maxrss_mb:.0f}",
        f"{proc.maxrss_mb - base:.0f}",
    ]


def run(
    tap_sizes: t.Sequence[int] | None = None,
    target_sizes: t.Sequence[int] | None = None,
    *,
    target: bool = True,
) -> BenchResult:
    """Measure both plugins at start-up and at two sizes."""
    tap_sizes = tap_sizes or [common.scaled(n, minimum=100) for n in DEFAULT_TAP_PATIENTS]
    target_sizes = target_sizes or [common.scaled(n, minimum=20) for n in DEFAULT_TARGET_PATIENTS]
    rows: list[list[t.Any]] = []
    common.log("memory: tap on an empty instance")
    tap_base, calls = tap_peak(0)
    rows.append(growth_row("tap-welkin", 0, "patients", tap_base, tap_base.maxrss_mb, calls))
    tap_runs = []
    for size in tap_sizes:
        common.log(f"memory: tap, {size} patients")
        proc, calls = tap_peak(size)
        tap_runs.append(proc)
        rows.append(growth_row("tap-welkin", size, "patients", proc, tap_base.maxrss_mb, calls))

    target_runs: list[common.ProcResult] = []
    base_mb = 0.0
    if target:
        target_runs, base_mb = _target_runs(target_sizes, rows)

    headers = ["plugin", "size", "API calls", "wall s", "peak RSS MiB", "growth over start-up MiB"]
    tap_ratio = tap_runs[-1].maxrss_mb / tap_runs[0].maxrss_mb

    def growth_ratio(runs: list[common.ProcResult], base: float) -> str:
        small, large = runs[0].maxrss_mb - base, runs[-1].maxrss_mb - base
        return f"{large / small:.1f}x" if small >= 5 else f"{large - small:+.0f} MiB"

    summary = (
        f"Peak RSS, {tap_sizes[-1] // tap_sizes[0]}x more data: tap-welkin "
        f"{tap_runs[0].maxrss_mb:.0f} → {tap_runs[-1].maxrss_mb:.0f} MiB "
        f"(ratio {tap_ratio:.2f}, growth over start-up "
        f"{growth_ratio(tap_runs, tap_base.maxrss_mb)})"
    )
    if target_runs:
        target_ratio = target_runs[-1].maxrss_mb / target_runs[0].maxrss_mb
        summary += (
            f"; target-welkin {target_runs[0].maxrss_mb:.0f} → "
            f"{target_runs[-1].maxrss_mb:.0f} MiB (ratio {target_ratio:.2f}, growth "
            f"{growth_ratio(target_runs, base_mb)})"
        )
    summary += "." if target_runs else " (target-welkin not measured in this run)."
    notes = [
        "Tap runs select the default streams: not `cdt_records` (the envelope duplicate of the "
        "CDT streams), the audit feeds or the per-patient-only streams "
        f"({', '.join(common.per_patient_streams())}: a request a patient, 300,000 at 100,000 "
        "patients), stdout to /dev/null.",
        f"Target sizes are {target_sizes[0]:,} and {target_sizes[-1]:,} patients (one "
        "`allergies` record each, so twice as many records), a tenth of the tap's: a first load "
        "costs two calls a record and runs at a few hundred calls/s here, so 100,000 patients "
        "do not fit in `make bench`.",
    ]
    figure = {"tap peak RSS, 10x the patients ÷ 1x": tap_ratio}
    return BenchResult("5. Memory", [markdown_table(headers, rows)], summary, notes, figures=figure)


def _target_runs(
    target_sizes: t.Sequence[int], rows: list[list[t.Any]]
) -> tuple[list[common.ProcResult], float]:
    """Measure target-welkin at start-up and at each size (rows appended); runs and base MiB."""
    db = common.WORK / "memory-target.db"
    for leftover in common.WORK.glob(db.name + "*"):
        leftover.unlink()
    state_root = common.WORK / "memory-target-state"
    shutil.rmtree(state_root, ignore_errors=True)
    target_runs = []
    with Emulator(db) as emu:
        common.log("memory: target on an empty input")
        target_base, calls = target_peak(emu, 0, "mem-empty", state_root / "empty")
        base_mb = target_base.maxrss_mb
        rows.append(growth_row("target-welkin", 0, "patients", target_base, base_mb, calls))
        for size in target_sizes:
            common.log(f"memory: target, {size} patients")
            proc, calls = target_peak(emu, size, f"mem-{size}", state_root / str(size))
            target_runs.append(proc)
            rows.append(growth_row("target-welkin", size, "patients", proc, base_mb, calls))
        largest = target_sizes[-1]
        common.log(f"memory: target, unchanged rerun of {largest} patients")
        proc, calls = target_peak(emu, largest, f"mem-{largest}-rerun", state_root / str(largest))
        rows.append(
            growth_row("target-welkin (unchanged rerun)", largest, "patients", proc, base_mb, calls)
        )
    db.unlink(missing_ok=True)

    return target_runs, base_mb


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tap-patients", type=int, nargs="+", help="default 10000 100000")
    parser.add_argument("--target-patients", type=int, nargs="+", help="default 1000 10000")
    parser.add_argument("--tap-only", action="store_true", help="skip target-welkin")
    args = parser.parse_args()
    common.timed(
        lambda: run(args.tap_patients, args.target_patients, target=not args.tap_only)
    ).print()


if __name__ == "__main__":
    main()
