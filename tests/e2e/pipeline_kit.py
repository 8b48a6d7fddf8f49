"""Helpers of the end-to-end tests: a Meltano runner, emulator settings, DuckDB queries."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"


@dataclass
class Meltano:
    """Runs `meltano` in the repository's project with an isolated system database."""

    workdir: Path
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    def run(
        self, *args: str, extra_env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        log = self.log_dir / f"meltano-{self.workdir.name}-{self.runs}.log"
        env = {**os.environ, **self.env, **(extra_env or {})}
        env["PATH"] = f"{MELTANO.parent}:{env['PATH']}"
        with log.open("w") as stderr:
            result = subprocess.run(
                [str(MELTANO), *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                check=False,
                timeout=600,
            )
        if check and result.returncode != 0:
            tail = log.read_text()[-3000:]
            pytest.fail(f"meltano {' '.join(args)} exited {result.returncode}:\n{tail}")
        return result

    def log_text(self) -> str:
        return (self.log_dir / f"meltano-{self.workdir.name}-{self.runs}.log").read_text()


def emulator_env(prefix: str, url: str) -> dict[str, str]:
    """Settings that point a Meltano plugin (TAP_WELKIN / TARGET_WELKIN) at an emulator."""
    return {
        f"{prefix}_API_URL": url,
        f"{prefix}_TENANT": "demo",
        f"{prefix}_INSTANCE": "sandbox",
        f"{prefix}_API_CLIENT": "DEMOCLIENT",
        f"{prefix}_SECRET_KEY": "demo-secret",
        # The rate budget has its own tests; here it would only slow the pipelines down.
        f"{prefix}_MAX_REQUESTS_PER_SECOND": "0",
    }


def duckdb_query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Run ``sql`` on a DuckDB file with target-duckdb's own duckdb (1.1.3)."""
    return duckdb_queries(path, [sql])[0]


def duckdb_queries(path: Path, sqls: list[str]) -> list[list[tuple[object, ...]]]:
    """Run each of ``sqls`` on a DuckDB file, in one process (one per query costs seconds)."""
    code = (
        "import duckdb, json, sys\n"
        "c = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps([c.sql(q).fetchall() for q in sys.argv[2:]], default=str))\n"
    )
    out = subprocess.run(
        [str(DUCKDB_PYTHON), "-c", code, str(path), *sqls],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [[tuple(row) for row in rows] for rows in json.loads(out)]
