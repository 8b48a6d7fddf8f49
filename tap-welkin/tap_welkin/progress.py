"""Progress lines and a closing summary a person reads, on stderr, free of PHI.

singer-sdk's METRIC lines say little to a person (a 56 s sync printed 1,084 of them).
While a sync runs, at most every ``interval`` seconds, one line per active stream gives
its records so far, requests (pages) and rate. At the end each stream gets one line
(records, requests, seconds, outcome), and the run a total. Only stream names and
counts are logged.

Records are counted by the message writer (``record``); requests and stream outcomes
come from singer-sdk's metric points, read by a handler on its metrics logger.
"""

from __future__ import annotations

import logging
import os
import time
import typing as t
from contextlib import contextmanager
from dataclasses import dataclass

from singer_sdk import metrics

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PROGRESS_INTERVAL = 30.0
# Seconds between progress lines, for whoever wants them more (or less) often.
INTERVAL_ENV = "TAP_WELKIN_PROGRESS_SECONDS"


@dataclass
class StreamProgress:
    """Counts of one stream."""

    records: int = 0
    requests: int = 0
    started: float = 0.0
    seconds: float = 0.0
    outcome: str = "running"


class Progress:
    """The run's per-stream counts, its progress lines and its summary."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Count from now; log through ``logger`` at most every ``interval`` seconds."""
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_report = self.started
        self.streams: dict[str, StreamProgress] = {}

    def _stream(self, name: str) -> StreamProgress:
        found = self.streams.get(name)
        if found is None:
            found = self.streams[name] = StreamProgress(started=self.clock())
        return found

    def record(self, stream: str, count: int = 1) -> None:
        """``count`` RECORD messages of ``stream`` were written."""
        self._stream(stream).records += count
        self._maybe_report()

    def request(self, stream: str) -> None:
        """One HTTP request of ``stream`` was answered."""
        self._stream(stream).requests += 1
        self._maybe_report()

    def finished(self, stream: str, seconds: float, outcome: str) -> None:
        """One sync of ``stream`` ended (a CDT stream syncs once per batch of its reader)."""
        found = self._stream(stream)
        found.seconds += seconds
        if found.outcome != "failed":
            found.outcome = outcome

    def _maybe_report(self) -> None:
        now = self.clock()
        if now - self.last_report < self.interval:
            return
        self.last_report = now
        for name, found in self.streams.items():
            if found.outcome != "running":
                continue
            elapsed = max(now - found.started, 1e-9)
            self.logger.info(
                "Progress %s: %d records so far, %d requests, %.0f records/s",
                name,
                found.records,
                found.requests,
                found.records / elapsed,
            )

    def summary(self, outcome: str) -> None:
        """The closing lines: one per stream, then the run's total."""
        for name, found in self.streams.items():
            self.logger.info(
                "Stream %s %s: %d records, %d requests, %.1f s",
                name,
                found.outcome if found.outcome != "running" else outcome,
                found.records,
                found.requests,
                found.seconds,
            )
        self.logger.info(
            "Run %s: %d streams, %d records, %d requests, %.1f s",
            outcome,
            len(self.streams),
            sum(s.records for s in self.streams.values()),
            sum(s.requests for s in self.streams.values()),
            self.clock() - self.started,
        )


class MetricsReader(logging.Handler):
    """Feeds singer-sdk's metric points (requests, stream ends) to a :class:`Progress`."""

    def __init__(self, progress: Progress) -> None:
        """Read points for ``progress``; emits nothing itself."""
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        """Count one metric point (a log record whose argument is a ``Point``)."""
        point = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if not isinstance(point, metrics.Point):
            return
        stream = str(point.tags.get(metrics.Tag.STREAM, ""))
        if not stream:
            return
        if point.metric == metrics.Metric.HTTP_REQUEST_DURATION:
            self.progress.request(stream)
        elif point.metric == metrics.Metric.SYNC_DURATION:
            status = point.tags.get(metrics.Tag.STATUS, "")
            self.progress.finished(
                stream, float(point.value), str(getattr(status, "value", status))
            )


_CURRENT: list[Progress] = []


def record_written(stream: str, count: int = 1) -> None:
    """Count ``count`` RECORDs of ``stream`` in the running command's progress, if any."""
    if _CURRENT:
        _CURRENT[-1].record(stream, count)


@contextmanager
def reporting(logger: logging.Logger) -> Iterator[Progress]:
    """Report progress and the summary of the command run inside (the CLI only)."""
    try:
        interval = float(os.environ.get(INTERVAL_ENV) or PROGRESS_INTERVAL)
    except ValueError:
        interval = PROGRESS_INTERVAL
    progress = Progress(logger, interval=interval)
    reader = MetricsReader(progress)
    metrics_logger = metrics.get_metrics_logger()
    metrics_logger.addHandler(reader)
    _CURRENT.append(progress)
    outcome = "failed"
    try:
        yield progress
        outcome = "succeeded"
    except SystemExit as exc:
        outcome = "succeeded" if exc.code in (0, None) else "failed"
        raise
    finally:
        _CURRENT.remove(progress)
        metrics_logger.removeHandler(reader)
        if progress.streams:
            progress.summary(outcome)
