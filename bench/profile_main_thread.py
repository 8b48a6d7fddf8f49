"""Run a console script under cProfile timed by the main thread's CPU clock.

``python -m cProfile`` times with the wall clock, so a main thread waiting for a page from
tap-welkin's read-ahead threads would count as the waiting function's time; ``time.thread_time``
counts only the CPU the main thread (which writes every record) spends.

Usage: ``python bench/profile_main_thread.py OUTPUT.prof SCRIPT [ARGS...]``.
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    """Profile ``SCRIPT ARGS`` and write the stats to ``OUTPUT.prof``."""
    output, script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    profiler = cProfile.Profile(time.thread_time)
    try:
        profiler.runcall(runpy.run_path, script, run_name="__main__")
    except SystemExit:
        pass
    finally:
        profiler.dump_stats(output)


if __name__ == "__main__":
    main()
