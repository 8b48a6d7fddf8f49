"""A real, throwaway PostgreSQL server on 127.0.0.1 for the end-to-end tests.

Uses Debian's PostgreSQL binaries, installing them with apt-get when they are
missing (CI machines are fresh). PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def ensure_postgres_installed() -> Path:
    """Directory of the PostgreSQL server binaries, installing Debian's package if needed."""
    found = _bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL server binaries are missing and apt-get needs root")
    # Tests on parallel xdist workers may get here together: one installs, the others wait.
    with open(Path(tempfile.gettempdir()) / "welkin-tests-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _bin_dir()
        if found is None:
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
            install = ["apt-get", "install", "-y", "-qq", "postgresql"]
            subprocess.run(install, check=True, env=env, capture_output=True)
            found = _bin_dir()
    if found is None:
        raise RuntimeError("apt-get installed postgresql but no server binary was found")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """Connection facts of a running server."""

    bin_dir: Path
    port: int
    user: str
    password: str
    database: str

    def psql(self, sql: str) -> str:
        """Run ``sql`` with psql and return unaligned, tuples-only output."""
        env = {**os.environ, "PGPASSWORD": self.password}
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                self.database,
                "-At",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return result.stdout.strip()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh cluster in a temporary folder; stop and delete it afterwards."""
    bin_dir = ensure_postgres_installed()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    workdir = Path(tempfile.mkdtemp(prefix="welkin-pg-"))
    data = workdir / "data"
    data.mkdir()
    pwfile = workdir / "pw"
    password = "loader-pw"
    pwfile.write_text(password)
    if as_root:
        shutil.chown(workdir, "postgres")
        shutil.chown(data, "postgres")
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "loader",
            "--auth=md5",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    log = workdir / "server.log"
    if as_root:
        log.touch()
        shutil.chown(log, "postgres")
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {workdir}",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    server = PostgresServer(bin_dir, port, "loader", password, "postgres")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.psql("select 1")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        server.psql("create database warehouse")
        server.database = "warehouse"
        yield server
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
