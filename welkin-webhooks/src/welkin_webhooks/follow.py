"""``welkin-webhooks follow -- COMMAND``: run the event job when pings arrive, not on a timer.

A timed loop (``while sleep 5; do meltano run …; done``) makes every write wait for the sleep
and for the run in progress, and pays a Meltano start-up (seconds of CPU) on every idle turn.
``follow`` instead watches the event log's head (one indexed query every ``--poll`` seconds, no
request to Welkin) and runs COMMAND as soon as the head has moved past the head seen when the
last run started: a write waits at most for the run in progress and its own run. It also runs
COMMAND at start and every ``--every`` seconds without new pings, so failed deliveries that the
event job recovers from Welkin's webhook audit are not left waiting for the next ping.

Runs never overlap (a warehouse such as DuckDB takes one writer). A failed run is logged with its
exit code and retried after a growing pause (up to ``--every``). SIGTERM or SIGINT stops the loop:
the run in progress gets SIGTERM and is waited for.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import FrameType

log = logging.getLogger("welkin_webhooks.follow")


@dataclass
class Follower:
    """The loop's settings and its one running child."""

    command: Sequence[str]
    head: Callable[[], int]
    poll: float = 0.5
    every: float = 300.0
    stop: threading.Event = field(default_factory=threading.Event)
    child: subprocess.Popen[bytes] | None = None
    runs: int = 0

    def run_once(self, seq: int) -> int:
        """Run the command once (events up to ``seq`` are in the log); its exit code."""
        self.runs += 1
        started = time.monotonic()
        log.info("run %d: started (event log at seq %d)", self.runs, seq)
        self.child = subprocess.Popen(list(self.command))  # noqa: S603 - the operator's command
        code = self.child.wait()
        self.child = None
        log.info("run %d: exit %d after %.1f s", self.runs, code, time.monotonic() - started)
        return code

    def loop(self) -> None:
        """Run at start, on every new ping, and every ``every`` seconds; until ``stop``."""
        last_seq, next_due, failures = -1, 0.0, 0
        while not self.stop.is_set():
            try:
                seq = self.head()
            except Exception as exc:  # a log briefly unreachable: try again, keep following
                log.warning("cannot read the event log's head (%s)", type(exc).__name__)
                self.stop.wait(self.every / 10)
                continue
            # After a failed run, wait for its retry time even if pings keep coming.
            if (seq > last_seq and not failures) or time.monotonic() >= next_due:
                code = self.run_once(seq)
                failures = failures + 1 if code else 0
                last_seq = last_seq if code else seq
                pause = min(self.every, 2.0**failures) if failures else self.every
                next_due = time.monotonic() + pause
                continue
            self.stop.wait(self.poll)

    def terminate(self, signum: int, _frame: FrameType | None) -> None:
        """Stop looping; the run in progress gets the signal and finishes its own way."""
        self.stop.set()
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)


def follow(command: Sequence[str], head: Callable[[], int], *, poll: float, every: float) -> int:
    """Run ``command`` on new events until SIGTERM/SIGINT; 0."""
    follower = Follower(command, head, poll=poll, every=every)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, follower.terminate)
    log.info("following the event log (poll %.1f s, a run at least every %.0f s)", poll, every)
    follower.loop()
    return 0
