"""``welkin-webhooks follow``: the event job runs at start, on new pings, and on SIGTERM stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from welkin_webhooks.testing import ReceiverProcess

SECRET = "follow-secret"
PING = {"eventEntity": "PATIENT", "eventSubtype": "PATIENT_UPDATED", "sourceId": "p-1"}


def wait_for(predicate, what: str, timeout: float = 60) -> None:  # noqa: ANN001
    """Poll ``predicate`` (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def runs(marks: Path) -> list[str]:
    return marks.read_text().split() if marks.exists() else []


def test_runs_at_start_then_once_per_new_ping_and_stops_on_sigterm(tmp_path: Path) -> None:
    marks = tmp_path / "runs.txt"
    with ReceiverProcess(tmp_path / "events.db", secret=SECRET) as receiver:
        # The command records each run; the second run fails once (retried, not lost).
        script = f'echo run >> {marks}; n=$(wc -l < {marks}); [ "$n" -ne 2 ] || exit 3'
        cmd = [sys.executable, "-m", "welkin_webhooks", "follow", "--event-log",
               receiver.event_log, "--poll", "0.1", "--every", "3600", "--", "sh", "-c", script]  # fmt: skip
        follow = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "WELKIN_WEBHOOKS_PARENT_PID": str(os.getpid())})  # fmt: skip
        try:
            wait_for(lambda: len(runs(marks)) == 1, "the run at start")
            headers = {receiver.header: SECRET}
            assert requests.post(receiver.url, json=PING, headers=headers, timeout=10).ok
            # The ping's run exits 3: retried after a pause, although no new ping came.
            wait_for(lambda: len(runs(marks)) == 3, "the ping's run and its retry")
            time.sleep(1.5)  # no new ping, last run succeeded: nothing more runs
            assert len(runs(marks)) == 3
            assert requests.post(receiver.url, json=PING, headers=headers, timeout=10).ok
            wait_for(lambda: len(runs(marks)) == 4, "the second ping's run")
        finally:
            follow.send_signal(signal.SIGTERM)
            _, stderr = follow.communicate(timeout=30)
    assert follow.returncode == 0
    assert "run 2: exit 3" in stderr and "run 4: exit 0" in stderr
    assert "started (event log at seq 2)" in stderr


def test_without_a_command_is_a_usage_error(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "welkin_webhooks", "follow", "--event-log",
         str(tmp_path / "events.db")], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 2 and "give the command after --" in out.stderr
