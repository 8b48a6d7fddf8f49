"""Benchmark 6: target-welkin knows Welkin from Welkin (issue 12's figures, side by side).

1. First load of N new patients (2,000 by default) and one ``allergies`` CDT record each into an
   empty instance: calls per record (goal <= 1.05).
2. The same input again with an EMPTY ``state_dir`` (a fresh container): writes and reads (goal 0 /
   <= ceil(records in the instance / 1000) + 5).
3. The same input again with the first run's ``state_dir``: writes and reads (goal 0 / <= 5).
4. 1% of the patients changed in Welkin, then the input again with its ``state_dir``: the changed
   patients are patched back; reads (goal <= 5 + ceil(changed / 1000)).
5. Write calls per second against the budget R at 50 ms latency (300 patients + records, R 40).
6. After an instance reset (a fresh emulator, same tenant and instance, the id map kept): how many
   of 25 patients are present after the rerun.

Run alone: ``.venv/bin/python bench/target_index.py [--patients N]``.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import target_write_rate as twr  # noqa: E402
from common import BenchResult, Emulator, markdown_table  # noqa: E402

DEFAULT_PATIENTS = 2_000
RESET_PATIENTS = 25
CHANGED_SHARE = 0.01


def _clean(path: Path) -> None:
    for leftover in path.parent.glob(path.name + "*"):
        if leftover.is_file():
            leftover.unlink()
        else:
            for child in sorted(leftover.rglob("*"), reverse=True):
                child.unlink() if child.is_file() else child.rmdir()
            leftover.rmdir()


def reads(load: twr.Load) -> int:
    """GET calls (the token aside)."""
    return sum(v for k, v in load.counts.items() if k.startswith("GET "))


def match_line(load: twr.Load) -> str:
    """How the target read Welkin, from its log."""
    for line in reversed(load.proc.stderr_tail(200).splitlines()):
        if "Match index" in line:
            return line.split("): ", 1)[-1][:300]
    return "?"


def change_patients(emu: Emulator, db: Path, share: float) -> int:
    """PATCH ``share`` of the patients through the API; the number changed."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM patients ORDER BY id")]
    finally:
        conn.close()
    chosen = ids[:: max(1, round(1 / share))]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token()}"
    for pid in chosen:
        response = session.patch(
            f"{emu.api_url}/patients/{pid}", json={"city": "Salem"}, timeout=60
        )
        response.raise_for_status()
    return len(chosen)


def reset_case(work: Path) -> tuple[int, int]:
    """(present, of) after a rerun into a reset instance with the old id map."""
    state = work / "reset-state"
    _clean(state)
    path = work / "reset-input.singer"
    records = twr.write_input(path, "reset", RESET_PATIENTS, cdt_per_patient=0)
    for name in ("reset-before.db", "reset-after.db"):
        _clean(work / name)
    with Emulator(work / "reset-before.db") as before:
        twr.load(before, "reset-before", path, records, state, 0, 4)
    with Emulator(work / "reset-after.db") as after:
        twr.load(after, "reset-after", path, records, state, 0, 4)
        conn = sqlite3.connect(f"file:{work / 'reset-after.db'}?mode=ro", uri=True)
        try:
            present = conn.execute(
                "SELECT COUNT(*) FROM patients "
                "WHERE json_extract(body, '$.externalId') LIKE 'reset-%'"
            ).fetchone()[0]
        finally:
            conn.close()
    return int(present), RESET_PATIENTS


def run(patients: int | None = None) -> BenchResult:  # noqa: PLR0914 - one table of six runs
    """The six runs and the table of issue 12's figures."""
    patients = patients or common.scaled(DEFAULT_PATIENTS, minimum=50)
    work = common.WORK
    work.mkdir(parents=True, exist_ok=True)
    db = work / "target-index.db"
    _clean(db)
    state, fresh = work / "target-index-state", work / "target-index-fresh"
    for folder in (state, fresh):
        _clean(folder)
    path = work / "target-index-input.singer"
    records = twr.write_input(path, "idx", patients)
    with Emulator(db) as emu:
        first = twr.load(emu, "first load", path, records, state, 0, 4)
        empty = twr.load(emu, "empty state_dir", path, records, fresh, 0, 4)
        cached = twr.load(emu, "with state_dir", path, records, state, 0, 4)
        changed = change_patients(emu, db, CHANGED_SHARE)
        after = twr.load(emu, "changed 1%", path, records, state, 0, 4)
    with Emulator(work / "target-index-rate.db", extra_args=("--latency-ms", "50")) as emu:
        _clean(work / "target-index-rate-state")
        rate_input = work / "target-index-rate.singer"
        rate_records = twr.write_input(rate_input, "rate", 300)
        rated = twr.load(
            emu, "rate", rate_input, rate_records, work / "target-index-rate-state", 40, 4
        )
    present, of = reset_case(work)
    calls = first.counts.get("total", 0) / records
    rows = [
        ["first load, calls per record", "2.00", f"{calls:.3f}", "<= 1.05", calls <= 1.05],
        [
            "rerun, EMPTY state_dir: writes / reads",
            "n/a (N lookups)",
            f"{empty.writes} / {reads(empty)}",
            f"0 / <= {math.ceil(records / 1000) + 5}",
            empty.writes == 0 and reads(empty) <= math.ceil(records / 1000) + 5,
        ],
        [
            "unchanged rerun with state_dir: writes / reads",
            "0 writes",
            f"{cached.writes} / {reads(cached)}",
            "0 / <= 5",
            cached.writes == 0 and reads(cached) <= 5,
        ],
        [
            f"rerun after {changed} patients changed in Welkin: writes / reads",
            "-",
            f"{after.writes} / {reads(after)}",
            f"{changed} / <= {5 + math.ceil(changed / 1000)}",
            after.writes == changed and reads(after) <= 5 + math.ceil(changed / 1000),
        ],
        [
            "write calls per second / budget R, 50 ms latency",
            "0.95",
            f"{rated.write_rate / 40:.2f}",
            ">= 0.95",
            rated.write_rate / 40 >= 0.95,
        ],
        [
            "after an instance reset, records present",
            "0 of 25",
            f"{present} of {of}",
            "all",
            present == of,
        ],
    ]
    table = markdown_table(["figure", "before", "measured", "goal", "met"], rows)
    detail = markdown_table(twr.HEADERS, [x.row() for x in (first, empty, cached, after, rated)])
    summary = (
        f"first load {calls:.3f} calls/record; empty state_dir rerun {empty.writes} writes / "
        f"{reads(empty)} reads; with state_dir {cached.writes} / {reads(cached)}; "
        f"writes/s ÷ R {rated.write_rate / 40:.2f}; after a reset {present} of {of} present."
    )
    notes = [
        f"Input: {patients:,} patients and {patients:,} `allergies` records ({records:,} records).",
        "Reads are GET calls; the token request is counted in calls per record, not in reads.",
        f"How each run read Welkin: first load: {match_line(first)}; empty state_dir: "
        f"{match_line(empty)}; with state_dir: {match_line(cached)}.",
    ]
    return BenchResult("6. Target: Welkin as the source of truth", [table, detail], summary, notes)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, help=f"default {DEFAULT_PATIENTS} x BENCH_SCALE")
    args = parser.parse_args()
    common.timed(lambda: run(args.patients)).print()


if __name__ == "__main__":
    main()
