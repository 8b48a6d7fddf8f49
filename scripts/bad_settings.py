"""The bad-settings table: each bad setting tried on the real commands, and what they say.

``python scripts/bad_settings.py`` runs every row against a fresh welkin-emulator (and a
closed port) and rewrites ``docs/bad-settings.md`` with the exact message, exit code,
seconds to fail and the records emitted first. ``tests/test_bad_settings.py`` runs the
same rows and fails when a command's message differs from the table.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "bad-settings.md"
BIN = Path(sys.executable).parent
SECRET = "s3cret-never-shown"  # noqa: S105 - a test value that must not reach a log
PATIENTS = (
    '{"type":"SCHEMA","stream":"patients","key_properties":["externalId"],'
    '"schema":{"type":"object","properties":{"externalId":{"type":"string"},'
    '"firstName":{"type":"string"},"lastName":{"type":"string"}}}}\n'
    '{"type":"RECORD","stream":"patients","record":'
    '{"externalId":"BAD-SETTINGS-1","firstName":"Ann","lastName":"Example"}}\n'
)


@dataclass(frozen=True)
class Row:
    """One bad setting: the command it is given to, the change, and how it is shown."""

    plugin: str
    setting: str
    shown: str  # the bad input as the table shows it
    change: dict[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    value: str | None = None  # a value that must never appear in the output
    reaches_welkin: bool = False  # a connection problem: the settings are well-formed


def _rows() -> list[Row]:
    tap, target = "tap-welkin", "target-welkin"
    return [
        Row(tap, "start_date", "`01/02/2020`", {"start_date": "01/02/2020"}),
        Row(tap, "start_date", "`2024-02-30`", {"start_date": "2024-02-30"}),
        Row(tap, "lookback_window", "`1 hour`", {"lookback_window": "1 hour"}),
        Row(tap, "lookback_window", "`-3600`", {"lookback_window": -3600}),
        Row(tap, "page_size", "`5000`", {"page_size": 5000}),
        Row(tap, "page_size", '`"100"` (text)', {"page_size": "100"}),
        Row(tap, "extraction_path", "`bulk`", {"extraction_path": "bulk"}),
        Row(tap, "max_retries", "`0`", {"max_retries": 0}),
        Row(tap, "request_timeout", "`0`", {"request_timeout": 0}),
        Row(tap, "tenant", "empty", {"tenant": ""}),
        Row(tap, "tenant", "missing", remove=("tenant",)),
        Row(tap, "instance", "`sandbox/x`", {"instance": "sandbox/x"}),
        Row(tap, "secret_key", "empty", {"secret_key": ""}),
        Row(tap, "secret_key", "a number", {"secret_key": 987654321}, value="987654321"),
        Row(tap, "api_url", "`ftp://…`", {"api_url": "ftp://files.example.com"}),
        Row(tap, "api_url", "`http://` beyond loopback", {"api_url": "http://example.com"}),
        Row(tap, "environment", "`Live!`", {"api_url": None, "environment": "Live!"}),
        Row(target, "max_reject_ratio", "`2`", {"max_reject_ratio": 2}),
        Row(target, "max_reject_ratio", '`"half"`', {"max_reject_ratio": "half"}),
        Row(target, "write_mode", "`merge`", {"write_mode": "merge"}),
        Row(target, "max_workers", "`0`", {"max_workers": 0}),
        Row(target, "streams", "unknown resource", {"streams": {"ehr": {"resource": "people"}}}),
        Row(tap, "secret_key", "wrong", {"secret_key": SECRET}, value=SECRET, reaches_welkin=True),
        Row(
            target, "secret_key", "wrong", {"secret_key": SECRET}, value=SECRET, reaches_welkin=True
        ),
        Row(tap, "tenant", "wrong", {"tenant": "nosuchtenant"}, reaches_welkin=True),
        Row(tap, "api_client", "wrong", {"api_client": "NOSUCHCLIENT"}, reaches_welkin=True),
        Row(tap, "instance", "wrong", {"instance": "nosuchinstance"}, reaches_welkin=True),
        Row(target, "instance", "wrong", {"instance": "nosuchinstance"}, reaches_welkin=True),
        Row(tap, "api_url", "extra path", {"api_url": "{api_url}/v8"}, reaches_welkin=True),
        # With the default max_retries: the table shows how long a user waits.
        Row(
            tap,
            "api_url",
            "nothing listens",
            {"api_url": "{closed}", "max_retries": None},
            reaches_welkin=True,
        ),
        Row(
            target,
            "api_url",
            "nothing listens",
            {"api_url": "{closed}", "max_retries": None},
            reaches_welkin=True,
        ),
    ]


ROWS = _rows()


@dataclass
class Outcome:
    """What one command printed and how it ended."""

    message: str
    exit_code: int
    seconds: float
    records: int
    stderr: str


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def config_for(row: Row, api_url: str, closed: str, workdir: Path) -> dict[str, Any]:
    """The emulator's good settings with the row's change applied."""
    config: dict[str, Any] = {
        "tenant": "demo",
        "instance": "sandbox",
        "api_client": "DEMOCLIENT",
        "secret_key": "demo-secret",
        "api_url": api_url,
        "max_retries": 3,
    }
    if row.plugin == "target-welkin":
        config["state_dir"] = str(workdir / "state")
    for key, value in row.change.items():
        config[key] = (
            value.format(api_url=api_url, closed=closed) if isinstance(value, str) else value
        )
    for key in row.remove:
        config.pop(key)
    return {k: v for k, v in config.items() if v is not None}


def normalise(line: str) -> str:
    """A message with the run's port and timings replaced, to compare across runs."""
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:{port}", line)
    return re.sub(r"in \d+\.\d s", "in {s} s", line)


def first_error(stderr: str) -> str:
    """The first ERROR line that says what is wrong (not the SDK's generic lines)."""
    generic = ("Config validation failed", "Error initializing", "Run stopped early")
    for line in stderr.splitlines():
        if "| ERROR " not in line:
            continue
        text = line.rsplit(" | ", 1)[-1].strip()
        if not text.startswith(generic):
            return normalise(text)
    return ""


def run_row(row: Row, api_url: str, closed: str) -> Outcome:
    """Run the row's command on its settings; return what it said."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(config_for(row, api_url, closed, workdir)))
        started = time.monotonic()
        done = subprocess.run(
            [str(BIN / row.plugin), "--config", str(config_path)],
            input=PATIENTS if row.plugin == "target-welkin" else "",
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    records = sum('"type":"RECORD"' in line.replace(" ", "") for line in done.stdout.splitlines())
    return Outcome(
        first_error(done.stderr),
        done.returncode,
        time.monotonic() - started,
        records,
        done.stderr,
    )


def render(outcomes: list[tuple[Row, Outcome]]) -> str:
    """The markdown table."""
    lines = [
        "# Bad settings and what the plugins say",
        "",
        "Generated by `python scripts/bad_settings.py` (real commands against a welkin-emulator",
        "and a closed port); `tests/test_bad_settings.py` fails when a message differs.",
        "Every message names the setting, never its value; no run emitted a record first.",
        "`{port}` and `{s}` stand for the run's port and seconds.",
        "",
        "| # | plugin | setting | bad input | message | exit | seconds | records first |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, (row, out) in enumerate(outcomes, 1):
        message = out.message.replace("|", "\\|")
        lines.append(
            f"| {number} | {row.plugin} | {row.setting} | {row.shown} | {message} | "
            f"{out.exit_code} | {out.seconds:.1f} | {out.records} |"
        )
    return "\n".join(lines) + "\n"


def documented_messages() -> list[str]:
    """The message column of the table, by row."""
    found = []
    for line in TABLE.read_text().splitlines():
        if re.match(r"^\| \d+ \|", line):
            cells = re.split(r"(?<!\\) \| ", line.strip("| "))
            found.append(cells[4].replace("\\|", "|"))
    return found


def main() -> None:
    """Run every row and rewrite the table."""
    sys.path.insert(0, str(ROOT / "welkin-emulator" / "src"))
    from welkin_emulator.testing import EmulatorProcess, seed_database  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        seed_database(Path(tmp) / "w.db", patients=20, seed=1)
        with EmulatorProcess(Path(tmp) / "w.db") as emulator:
            api_url = emulator.api_url.rsplit("/", 2)[0]
            closed = closed_port_url()
            outcomes = [(row, run_row(row, api_url, closed)) for row in ROWS]
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text(render(outcomes))
    print(f"wrote {TABLE.relative_to(ROOT)} ({len(outcomes)} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
