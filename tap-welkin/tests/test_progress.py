"""Progress lines during a sync, one line per stream at the end, a run total: no PHI.

Also: a CDT stream read from the export is sorted, so no "assumed to be unsorted" warning.
"""

from __future__ import annotations

import logging
import re

import pytest
import tap_welkin_testkit as kit
from tap_welkin.progress import Progress
from welkin_emulator.testing import EmulatorProcess

LINE = re.compile(r"\| (Progress|Stream|Run) [^|]*$")
PROGRESS = re.compile(
    r"Progress (?P<stream>[a-z_]+): (?P<records>\d+) records so far, \d+ requests, \d+ records/s$"
)
STREAM_END = re.compile(
    r"Stream (?P<stream>[a-z_]+) (?P<outcome>succeeded|failed): (?P<records>\d+) records, "
    r"(?P<requests>\d+) requests, [\d.]+ s$"
)
RUN_END = re.compile(
    r"Run succeeded: \d+ streams, (?P<records>\d+) records, \d+ requests, [\d.]+ s$"
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = Progress(logging.getLogger("tap-welkin"), interval=30, clock=clock)
    with caplog.at_level(logging.INFO, logger="tap-welkin"):
        for second in range(90):
            clock.now = float(second)
            progress.request("patients")
            for _ in range(10):
                progress.record("patients")
        progress.finished("patients", 90.0, "succeeded")
        progress.summary("succeeded")
    lines = [r.getMessage() for r in caplog.records]
    assert [line for line in lines if line.startswith("Progress")] == [
        "Progress patients: 300 records so far, 31 requests, 10 records/s",
        "Progress patients: 600 records so far, 61 requests, 10 records/s",
    ]
    assert lines[-2:] == [
        "Stream patients succeeded: 900 records, 90 requests, 90.0 s",
        "Run succeeded: 1 streams, 900 records, 90 requests, 89.0 s",
    ]


def test_a_slow_sync_reports_progress_and_ends_with_a_summary(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    emu = kit.start_emulator(6, 3, extra_args=("--latency-ms", "40"))
    try:
        run = kit.run_tap(
            kit.tap_config(emu, export=False),
            name="progress",
            env={"TAP_WELKIN_PROGRESS_SECONDS": "0.5"},
        )
    finally:
        emu.stop()
    ours = [m.group(0).split("| ", 1)[1] for m in map(LINE.search, run.stderr.splitlines()) if m]
    progress = [PROGRESS.match(line) for line in ours if line.startswith("Progress")]
    assert progress and all(progress), ours
    ends = {m["stream"]: m for m in map(STREAM_END.match, ours) if m}
    counts = run.counts()
    assert set(ends) == set(counts) | {"cdt_records"}
    for stream, match in ends.items():
        assert match["outcome"] == "succeeded"
        assert int(match["records"]) == counts.get(stream, 0)
    assert int(ends["patients"]["requests"]) >= 1
    total = [m for m in map(RUN_END.match, ours) if m]
    assert len(total) == 1 and int(total[0]["records"]) == sum(counts.values())
    # Only stream names and numbers: no value of any record reaches these lines.
    values = {
        str(v)
        for records in run.records.values()
        for record in records.values()
        for v in record.values()
        if isinstance(v, str) and len(v) > 3 and not any(v in stream for stream in ends)
    }  # (a CDT's name is a record value and part of its stream's name)
    assert not [line for line in ours if any(value in line for value in values)]


def test_cdt_streams_read_from_the_export_are_not_called_unsorted(shared: EmulatorProcess) -> None:
    run = kit.run_tap(kit.tap_config(shared), name="sorted-cdts")
    cdt_streams = [s for s in run.counts() if s.startswith("cdt_")]
    assert cdt_streams
    assert "assumed to be unsorted" not in run.stderr
    bookmarks = run.state["bookmarks"]
    for stream in cdt_streams:
        assert bookmarks[stream]["replication_key_value"]
        assert "progress_markers" not in bookmarks[stream]
