"""Shared helpers for tap-welkin's tests: emulators, running the tap, reading its output.

Every test talks to a real ``welkin-emulator`` process over HTTP. The tap runs
either in-process (SDK test classes) or as the ``tap-welkin`` console script,
whose stderr goes to a file under the suite's log folder for the hygiene scan.

Every record a test reads through this kit (``run_tap``, ``records_by_stream``) is
first checked against the SCHEMA message the tap sent for its stream (JSON Schema
Draft 7, formats included): a schema that lies about Welkin's data fails the test
that saw the record.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import requests
from welkin_emulator.testing import EmulatorProcess, seed_database

TAP = str(Path(sys.executable).parent / "tap-welkin")
SHARED_PATIENTS = 40
SHARED_SEED = 11
_shared: EmulatorProcess | None = None


LOG_DIR: Path | None = None  # set from the root conftest's ``test_log_dir`` fixture
TEMP_ROOT: Path | None = None  # pytest's session temp folder (see conftest.pytest_configure)


def temp_dir(prefix: str) -> Path:
    """A new folder under pytest's session temp folder (or the system's)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=TEMP_ROOT))


def log_dir() -> Path:
    """The suite's log folder: ``test_log_dir``, or the same default before fixtures run."""
    folder = LOG_DIR or Path(
        os.environ.get("WELKIN_TEST_LOG_DIR")
        or Path(__file__).resolve().parents[2] / "build" / "test-logs"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_emulator(
    patients: int, seed: int, *, extra_args: tuple[str, ...] = ()
) -> EmulatorProcess:
    """A freshly seeded emulator in its own temporary folder (stopped at exit at the latest)."""
    folder = temp_dir("emu-")
    db = folder / "welkin.db"
    seed_database(db, patients=patients, seed=seed)
    return EmulatorProcess(db, extra_args=extra_args).start()


def shared_emulator() -> EmulatorProcess:
    """One read-only seeded emulator for the whole session (also needed at import time).

    Tests that change data or fault settings use their own emulator, or clear faults after.
    """
    global _shared  # noqa: PLW0603 - a lazily started session resource
    if _shared is None or not _shared.running:
        _shared = start_emulator(SHARED_PATIENTS, SHARED_SEED)
        # The suite starts hundreds of taps (each with its own token) within five
        # minutes; Welkin's per-client token limit would block the later ones.
        _shared.set_faults(token_limit=0)
    return _shared


def tap_config(emu: EmulatorProcess, *, export: bool = True, **overrides: Any) -> dict[str, Any]:
    """A tap config for ``emu``: the export-enabled client, or the one without export permission."""
    config: dict[str, Any] = {
        "tenant": emu.tenant,
        "instance": emu.instance,
        "api_client": emu.client_name if export else emu.noexport_client_name,
        "secret_key": emu.client_secret if export else emu.noexport_client_secret,
        "api_url": emu.url,
        "max_requests_per_second": 0,
        "max_retries": 8,
    }
    config.update(overrides)
    return config


@dataclass
class TapRun:
    """The parsed stdout of one tap run."""

    returncode: int
    messages: list[dict[str, Any]]
    stderr: str
    log_file: Path
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.records = records_by_stream(self.messages)

    @property
    def state(self) -> dict[str, Any] | None:
        """The last STATE message's value."""
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    def counts(self) -> dict[str, int]:
        """RECORD messages per stream (duplicates counted)."""
        return dict(
            collections.Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")
        )


def schema_violations(messages: list[dict[str, Any]]) -> list[str]:
    """Each way a RECORD breaks the latest SCHEMA of its stream, without the offending values.

    Named by stream, the record's position in it, the field's path and the schema
    keyword that failed (values stay out: they would be patient data on a real tenant).
    """
    validators: dict[str, jsonschema.Draft7Validator] = {}
    seen: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    for message in messages:
        stream = message.get("stream", "")
        if message["type"] == "SCHEMA":
            validators[stream] = jsonschema.Draft7Validator(
                message["schema"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
            )
        elif message["type"] == "RECORD":
            seen[stream] += 1
            validator = validators.get(stream)
            if validator is None:
                problems.append(f"{stream} record {seen[stream]}: no SCHEMA message before it")
                continue
            for error in validator.iter_errors(message["record"]):
                path = "/".join(str(p) for p in error.absolute_path) or "(record)"
                expected = json.dumps(error.validator_value)[:80]
                problems.append(
                    f"{stream} record {seen[stream]}: {path} fails {error.validator!r} {expected}"
                )
    return problems


def check_records_match_schemas(messages: list[dict[str, Any]]) -> None:
    """Fail (AssertionError) when any RECORD in ``messages`` breaks its stream's SCHEMA."""
    problems = schema_violations(messages)
    if problems:
        shown = "\n".join(problems[:40])
        raise AssertionError(f"{len(problems)} schema violation(s) in the tap's output:\n{shown}")


def records_by_stream(messages: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{stream: {key: record}}`` from Singer messages, each record checked against its SCHEMA.

    ``key`` is the record's primary key (``id`` for most streams); records of a stream
    without a key are numbered.
    """
    check_records_match_schemas(messages)
    out: dict[str, dict[str, dict[str, Any]]] = collections.defaultdict(dict)
    keys: dict[str, list[str]] = {}
    for message in messages:
        if message["type"] == "SCHEMA":
            keys[message["stream"]] = list(message.get("key_properties") or [])
        elif message["type"] == "RECORD":
            records = out[message["stream"]]
            record = message["record"]
            # The stream's key (one value: as is); a stream without a key: its position.
            key = [str(record[k]) for k in keys.get(message["stream"], ["id"])]
            records["|".join(key) if key else str(len(records))] = record
    return dict(out)


def _write_json(folder: Path, name: str, value: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(value))
    return path


def run_tap(
    config: dict[str, Any],
    *,
    name: str,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    check: bool = True,
) -> TapRun:
    """Run ``tap-welkin --config …`` as a subprocess; stderr goes to the suite's log folder."""
    folder = temp_dir("run-")
    cmd = [TAP, "--config", str(_write_json(folder, "config.json", config))]
    if state is not None:
        cmd += ["--state", str(_write_json(folder, "state.json", state))]
    if catalog is not None:
        cmd += ["--catalog", str(_write_json(folder, "catalog.json", catalog))]
    cmd += list(args)
    done = subprocess.run(cmd, capture_output=True, check=False, env={**os.environ, **(env or {})})
    stderr = done.stderr.decode()
    # Written after the run: the folder is shared, and may be emptied meanwhile.
    log_file = log_dir() / f"tap-welkin-{name}-{uuid.uuid4().hex[:8]}.stderr.log"
    log_file.write_text(stderr)
    if check and done.returncode != 0:
        raise AssertionError(f"tap-welkin failed ({done.returncode}):\n{stderr[-3000:]}")
    lines = done.stdout.decode().splitlines()
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    return TapRun(done.returncode, messages, stderr, log_file)


def discover(config: dict[str, Any], *, name: str) -> dict[str, Any]:
    """The catalog from ``tap-welkin --discover``."""
    folder = temp_dir("discover-")
    out = subprocess.run(
        [TAP, "--config", str(_write_json(folder, "config.json", config)), "--discover"],
        capture_output=True,
        check=True,
    )
    log_file = log_dir() / f"tap-welkin-{name}-{uuid.uuid4().hex[:8]}.stderr.log"
    log_file.write_bytes(out.stderr)
    catalog: dict[str, Any] = json.loads(out.stdout)
    return catalog


def select_all(catalog: dict[str, Any]) -> dict[str, Any]:
    """The catalog with every stream selected (``cdt_records`` is opt-in by default)."""
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = True
    return catalog


def select_only(catalog: dict[str, Any], streams: set[str]) -> dict[str, Any]:
    """A copy of the catalog with only ``streams`` selected."""
    copy: dict[str, Any] = json.loads(json.dumps(catalog))
    for entry in copy["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return copy


class WelkinApi:
    """Just enough of a Welkin API client for tests to change data (not the code under test)."""

    def __init__(self, emu: EmulatorProcess) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.token()}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:  # noqa: ANN401
        """One request to ``{api_url}/{path}``; raises on an error status."""
        response = self.session.request(method, f"{self.emu.api_url}/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def export(self, kind: str) -> list[dict[str, Any]]:
        """Every item of ``export/{kind}`` (test-side truth)."""
        items: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {"pageSize": 1000}
        while True:
            body = self.call("GET", f"export/{kind}", params=params)
            items.update((item["id"], item) for item in body["data"])
            if not body["cursor"]["hasNext"]:
                return list(items.values())
            params["start"] = body["cursor"]["end"]
