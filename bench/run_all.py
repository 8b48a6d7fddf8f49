"""Run every benchmark and write ``bench/results.md`` (``make bench``).

Each benchmark runs in turn against its own emulator; a failing one is reported in the results
and the others still run. Sizes scale with ``BENCH_SCALE`` (``BENCH_SCALE=0.05 make bench`` for a
quick check). Seeded databases are cached under ``bench/.work/``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import traceback
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import fanout  # noqa: E402
import kill_trials  # noqa: E402
import latency  # noqa: E402
import memory  # noqa: E402
import requests_per_record  # noqa: E402
import target_index  # noqa: E402
import target_write_rate  # noqa: E402
import throughput  # noqa: E402
import webhooks  # noqa: E402
from common import BenchResult  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.md"
BENCHMARKS: list[tuple[str, str, t.Callable[[], BenchResult]]] = [
    ("requests", "1. Requests per record", requests_per_record.run),
    ("throughput", "2. Throughput against the floor", throughput.run),
    ("latency", "3. Latency hiding", latency.run),
    ("target", "4. Target write rate", target_write_rate.run),
    ("memory", "5. Memory", memory.run),
    ("webhooks", "6. Webhook freshness", webhooks.run),
    ("index", "7. Target: Welkin as the source of truth", target_index.run),
    ("fanout", "8. Fan-out over workers, one budget", fanout.run),
    ("kills", "9. Kill trials", kill_trials.run),
]


def main() -> int:
    """Run the selected benchmarks (all by default) and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", nargs="+", choices=[key for key, _, _ in BENCHMARKS], help="run only these"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--tap-only",
        action="store_true",
        help="skip target-welkin (benchmark 4 and the target half of 5): a shorter run",
    )
    args = parser.parse_args()
    facts = common.machine_facts()
    started = time.perf_counter()
    sections: list[str] = []
    summaries: list[str] = []
    done: list[BenchResult] = []
    failed = 0
    for key, title, bench in BENCHMARKS:
        if (args.only and key not in args.only) or (args.tap_only and key == "target"):
            continue
        job = (
            functools.partial(memory.run, target=False)
            if args.tap_only and key == "memory"
            else bench
        )
        common.log(f"=== {title}")
        try:
            result = common.timed(job)
        except Exception as exc:  # one failing benchmark must not hide the others
            failed += 1
            detail = traceback.format_exc()
            common.log(f"{title} failed: {exc}")
            sections.append(
                f"## {title}\n\n**Failed:** `{type(exc).__name__}`\n\n```\n{detail[-3000:]}\n```\n"
            )
            summaries.append(f"- **{title}**: failed ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        result.print()
        done.append(result)
        sections.append(result.markdown())
        summaries.append(f"- **{title}**: {result.summary}")
    total = time.perf_counter() - started
    header = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run_all.py`); rerun it after every change. Figures are "
        "ratios measured side by side in one run; absolute times are context for this machine "
        "only. See `bench/README.md` for what each benchmark does.",
        "",
        "| fact | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items()),
        f"| total run time | {total / 60:.1f} min |",
        f"| benchmarks | {', '.join(args.only or [k for k, _, _ in BENCHMARKS])}"
        f"{' (tap only)' if args.tap_only else ''} |",
        "",
        "## Figures against the goals",
        "",
        common.goals_table(done),
        "",
        "## Summaries",
        "",
        *summaries,
        "",
    ]
    args.output.write_text("\n".join(header) + "\n" + "\n".join(sections))
    common.log(f"wrote {args.output} in {total / 60:.1f} min ({failed} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
