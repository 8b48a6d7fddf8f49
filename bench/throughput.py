"""Benchmark 2: tap-welkin's records per second against a minimal client, side by side.

Against one seeded emulator (20,000 patients by default), alternately: tap-welkin's full sync of
every stream to /dev/null, and ``bench/minimal_client.py`` (plain ``requests`` + ``json``, the
export API at 1000 a page, JSON lines to /dev/null) fetching the same records. Each is run
``--repeats`` times and the fastest run counts. Both are whole processes, start-up included.

The CPU seconds of each client and of the emulator during the run show what bounds the wall time.
A last, profiled tap run (cProfile on the main thread's CPU clock, see ``profile_main_thread.py``)
attributes the CPU time of the thread that writes every record to packages.

Run alone: ``.venv/bin/python bench/throughput.py [--patients N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pstats
import subprocess
import sys
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import BenchResult, Emulator, markdown_table  # noqa: E402

DEFAULT_PATIENTS = 20_000
MINIMAL = Path(__file__).resolve().parent / "minimal_client.py"
PROFILER = Path(__file__).resolve().parent / "profile_main_thread.py"


@dataclasses.dataclass
class Run:
    """One measured client run against the emulator."""

    name: str
    records: int
    requests: int
    proc: common.ProcResult
    emulator_cpu_s: float

    @property
    def per_second(self) -> float:
        """Records per second of wall time."""
        return self.records / self.proc.wall_s if self.proc.wall_s else 0.0

    def row(self) -> list[t.Any]:
        """A table row."""
        us = 1e6 / self.records if self.records else 0.0
        return [
            self.name,
            self.records,
            self.requests,
            f"{self.proc.wall_s:.2f}",
            f"{self.per_second:,.0f}",
            f"{self.proc.cpu_s:.2f}",
            f"{self.proc.cpu_s * us:.0f}",
            f"{self.emulator_cpu_s:.2f}",
            f"{self.emulator_cpu_s * us:.0f}",
            f"{self.proc.maxrss_mb:.0f}",
        ]


HEADERS = [
    "client",
    "records",
    "requests",
    "wall s",
    "records/s",
    "client CPU s",
    "client CPU µs/record",
    "emulator CPU s",
    "emulator CPU µs/record",
    "peak RSS MiB",
]


def minimal_argv(emu: Emulator, *extra: str) -> list[str]:
    """The command line of the minimal client against ``emu``."""
    return [sys.executable, str(MINIMAL), "--api-url", emu.url, *extra]


def run_minimal(emu: Emulator, name: str, *extra: str) -> Run:
    """Run the minimal client once, output to /dev/null."""
    emu.reset_requests()
    before = emu.cpu_seconds()
    proc = common.run_measured(minimal_argv(emu, *extra), stderr_name=name).check()
    emulator_cpu = emu.cpu_seconds() - before
    stats = json.loads(proc.stderr_tail(1))
    return Run(name, int(stats["total"]), emu.data_requests()["total"], proc, emulator_cpu)


def tap_argv(config: Path, catalog: Path | None = None) -> list[str]:
    """The command line of tap-welkin."""
    argv = [common.tool("tap-welkin"), "--config", str(config)]
    if catalog is not None:
        argv += ["--catalog", str(catalog)]
    return argv


def run_tap(emu: Emulator, config: Path, catalog: Path, records: int | None, name: str) -> Run:
    """tap-welkin's full sync to /dev/null, or (``records`` None) to a file that is counted."""
    emu.reset_requests()
    out = common.WORK / f"{name}.singer" if records is None else None
    before = emu.cpu_seconds()
    proc = common.run_measured(
        tap_argv(config, catalog), stdout=out or subprocess.DEVNULL, stderr_name=name
    ).check()
    emulator_cpu = emu.cpu_seconds() - before
    if out is not None:
        records = sum(common.read_singer(out).records.values())
        out.unlink()
    return Run(name, records or 0, emu.data_requests()["total"], proc, emulator_cpu)


def all_streams_catalog(config: Path) -> Path:
    """The benchmarks' selection (see ``common.export_streams_catalog``)."""
    return common.export_streams_catalog(config, "throughput")


GROUPS = (
    ("Decoder' objects", "JSON decode of responses"),
    ("msgspec", "Singer output (msgspec encode, write)"),
    ("singer_sdk/helpers/_typing", "singer-sdk type conformance (_conform_record_data_types)"),
    ("singer_sdk/helpers/_catalog", "singer-sdk deselected-property filter"),
    ("singer_sdk/helpers/_flattening", "singer-sdk stream maps/flattening"),
    ("singer_sdk/mapper", "singer-sdk stream maps/flattening"),
    ("jsonschema", "jsonschema validation"),
    ("singer_sdk", "singer-sdk other (sync loop, state, metrics)"),
    ("simplejson", "JSON decode of responses"),
    ("/json/", "JSON decode of responses"),
    ("orjson", "JSON decode of responses"),
    ("tap_welkin", "tap-welkin code"),
    ("welkin_client", "welkin-client code"),
    ("urllib3", "HTTP (requests, urllib3, sockets)"),
    ("requests", "HTTP (requests, urllib3, sockets)"),
    ("/http/", "HTTP (requests, urllib3, sockets)"),
    ("socket", "HTTP (requests, urllib3, sockets)"),
    ("ssl", "HTTP (requests, urllib3, sockets)"),
    ("datetime", "timestamps (datetime, dateutil)"),
    ("dateutil", "timestamps (datetime, dateutil)"),
    ("_strptime", "timestamps (datetime, dateutil)"),
    ("importlib", "start-up (imports, compile)"),
    ("<frozen", "start-up (imports, compile)"),
    ("marshal", "start-up (imports, compile)"),
    ("/logging/", "logging"),
    ("/copy.py", "copy.deepcopy"),
    ("/re/", "regular expressions (mostly compiled at start-up)"),
    ("builtins.compile", "start-up (imports, compile)"),
)


def _label(key: tuple[str, int, str]) -> str | None:
    """The group of one profiled function, or None for a builtin without a group."""
    filename, _, function = key
    where = f"{filename}:{function}"
    label = next((g for k, g in GROUPS if k in where), None)
    if label is None and filename != "~":
        label = "other Python"
    return label


def profile_tap(patients: int) -> tuple[str, float]:
    """Run the tap under cProfile on its own seed of ``patients``; return a table of its CPU
    time per package, and the total.

    Builtins (``isinstance``, ``dict.get``...) are charged to the functions that call them.
    """
    prof = common.WORK / "tap.prof"
    db = common.seeded_db(patients, "profile")
    with Emulator(db) as emu:
        config = common.write_json(common.WORK / "tap.profile.json", common.tap_config(emu))
        catalog = all_streams_catalog(config)
        argv = [sys.executable, str(PROFILER), str(prof), *tap_argv(config, catalog)]
        common.run_measured(argv, stderr_name="tap-profile").check()
    stats = pstats.Stats(str(prof))
    buckets: dict[str, float] = {}
    raw: dict[t.Any, t.Any] = stats.stats  # type: ignore[attr-defined]
    for key, (_, _, tottime, _, callers) in raw.items():
        label = _label(key)
        if label is not None:
            buckets[label] = buckets.get(label, 0.0) + tottime
            continue
        charged = 0.0
        for caller, (_, _, caller_tt, _) in callers.items():
            owner = _label(caller) or "other builtins"
            buckets[owner] = buckets.get(owner, 0.0) + caller_tt
            charged += caller_tt
        if tottime > charged:
            buckets["other builtins"] = buckets.get("other builtins", 0.0) + tottime - charged
    total = sum(buckets.values()) or 1.0
    rows = [
        [label, f"{seconds:.2f}", f"{seconds / total:.0%}"]
        for label, seconds in sorted(buckets.items(), key=lambda kv: -kv[1])
        if seconds / total >= 0.005
    ]
    prof.unlink(missing_ok=True)
    return markdown_table(["where (own time)", "CPU s (profiled)", "share"], rows), total


def run(patients: int | None = None, repeats: int = 3, profile: bool = True) -> BenchResult:
    """Seed, then time the tap and the minimal client alternately."""
    patients = patients or common.scaled(DEFAULT_PATIENTS)
    db = common.seeded_db(patients, "throughput")
    with Emulator(db) as emu:
        config = common.write_json(common.WORK / "tap.throughput.json", common.tap_config(emu))
        catalog = all_streams_catalog(config)
        # A first, counted run (output to a file): the record count, and a warm-up.
        tap_records = run_tap(emu, config, catalog, None, "tap-count").records
        runs: dict[str, list[Run]] = {"tap": [], "minimal": []}
        for i in range(repeats):
            common.log(f"throughput round {i + 1}/{repeats}, {patients} patients")
            runs["minimal"].append(run_minimal(emu, f"minimal-{i}"))
            runs["tap"].append(run_tap(emu, config, catalog, tap_records, f"tap-{i}"))
    profile_patients = max(500, patients // 4)
    profile_table, profiled = profile_tap(profile_patients) if profile else ("", 0.0)
    best_tap = min(runs["tap"], key=lambda r: r.proc.wall_s)
    best_min = min(runs["minimal"], key=lambda r: r.proc.wall_s)
    best_tap.name, best_min.name = "tap-welkin (all streams)", "minimal client (sequential)"
    table = markdown_table(HEADERS, [best_min.row(), best_tap.row()])
    speed = best_tap.per_second / best_min.per_second if best_min.per_second else 0.0
    cpu_ratio = (
        (best_tap.proc.cpu_s / best_tap.records) / (best_min.proc.cpu_s / best_min.records)
        if best_min.records and best_tap.records and best_min.proc.cpu_s
        else 0.0
    )
    all_walls = ", ".join(
        f"{k} " + "/".join(f"{r.proc.wall_s:.1f}" for r in v) for k, v in runs.items()
    )
    notes = [
        f"Seed: {patients:,} patients. Best of {repeats} alternating runs each "
        f"(wall s per run: {all_walls}).",
        (
            f"Both emitted the same number of records ({best_tap.records:,})."
            if best_tap.records == best_min.records
            else f"**Record counts differ**: tap {best_tap.records:,}, minimal client "
            f"{best_min.records:,}."
        ),
        f"The machine has {common.machine_facts()['cores']} cores: when client CPU + emulator "
        "CPU is close to the wall time, the run is CPU-bound, and client CPU per record is "
        "what to cut.",
    ]
    tables = [table]
    if profile_table:
        tables.append(
            f"**Where tap-welkin's CPU goes** (main thread, one cProfile run of a full sync of "
            f"{profile_patients:,} patients, {profiled:.1f} s of own time; profiling inflates "
            "Python-heavy parts)\n\n" + profile_table
        )
    summary = (
        f"tap-welkin: {best_tap.per_second:,.0f} records/s, minimal client: "
        f"{best_min.per_second:,.0f} records/s: the tap runs at {speed:.2f}x the floor's speed "
        f"and spends {cpu_ratio:.1f}x its CPU per record."
    )
    figures = {
        "tap records/s ÷ minimal sequential client's": speed,
        "tap CPU µs/record ÷ minimal client's": cpu_ratio,
    }
    return BenchResult("2. Throughput against the floor", tables, summary, notes, figures=figures)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, help=f"default {DEFAULT_PATIENTS} x BENCH_SCALE")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    args = parser.parse_args()
    common.timed(lambda: run(args.patients, args.repeats, not args.no_profile)).print()


if __name__ == "__main__":
    main()
