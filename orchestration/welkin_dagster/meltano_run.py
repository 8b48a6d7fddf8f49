"""One worker: a `meltano run` of one stream group with its own state id and run folder."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Protocol

from welkin_dagster.config import Plan, Worker

WORKER_ENV = "WELKIN_WORKER"
# Meltano's own scratch (config, catalog, state.json) is per plugin name under .meltano/run;
# workers of one host that shared it would read each other's catalog and state.
_PRIVATE = frozenset({"run", "logs", "workers"})


class Logger(Protocol):
    """The part of Dagster's logger a worker uses."""

    def info(self, msg: str) -> None:
        """Log ``msg``."""


class WorkerFailed(RuntimeError):
    """`meltano run` of one worker exited non-zero."""


def select_env_var(extractor: str) -> str:
    """Meltano's variable for an extractor's ``select`` extra (``TAP_WELKIN__SELECT``)."""
    return extractor.upper().replace("-", "_") + "__SELECT"


def linked_sys_dir(project_dir: Path, own: Path) -> Path:
    """``own`` as a ``.meltano`` (``MELTANO_SYS_DIR_ROOT``): its own ``run`` folder and logs.

    Everything else in the project's ``.meltano`` (plugin virtualenvs, a SQLite system
    database when no shared one is configured) is linked, not copied. The end-to-end tests
    give each test one, so tests on parallel workers never share Meltano's scratch either.
    """
    shared = project_dir / ".meltano"
    own.mkdir(parents=True, exist_ok=True)
    for entry in shared.iterdir() if shared.exists() else ():
        link = own / entry.name
        if entry.name not in _PRIVATE and not link.exists():
            link.symlink_to(entry)
    return own


def private_sys_dir(plan: Plan, worker: Worker) -> Path:
    """A ``.meltano`` of the worker's own (see :func:`linked_sys_dir`)."""
    return linked_sys_dir(plan.project_dir, plan.project_dir / ".meltano" / "workers" / worker.name)


def command(plan: Plan, worker: Worker) -> list[str]:
    """The `meltano run` of ``worker``: state id ``<env>:<tap>-to-<target>:<worker>``."""
    return [
        plan.meltano_bin,
        "--environment",
        plan.environment,
        "run",
        "--state-id-suffix",
        worker.name,
        worker.extractor or plan.extractor,
        plan.loader,
    ]


def environment(plan: Plan, worker: Worker) -> dict[str, str]:
    """The process environment of ``worker``: the host's, the instance's, its selection."""
    # A worker without a selection of its own (event mode) keeps the extractor's.
    selection = (
        {select_env_var(worker.extractor or plan.extractor): json.dumps(list(worker.select))}
        if worker.select
        else {}
    )
    return {
        **os.environ,
        **worker.env,
        **selection,
        "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(plan, worker)),
        "MELTANO_PROJECT_ROOT": str(plan.project_dir),
        WORKER_ENV: worker.name,
    }


def _run(plan: Plan, name: str, argv: list[str], env: dict[str, str], log: Logger) -> float:
    """Run ``argv`` to the end, output to ``<log_dir>/<name>.log``; the wall time in seconds.

    Raises:
        WorkerFailed: it exited non-zero.
    """
    plan.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = plan.log_dir / f"{name}.log"
    started = time.monotonic()
    log.info(f"{name}: {' '.join(argv[1:])}; log: {log_file}")
    with log_file.open("a") as sink:
        sink.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n")
        sink.flush()
        proc = subprocess.Popen(
            argv, cwd=plan.project_dir, env=env, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            code = proc.wait()
        finally:
            # The op stopped (run cancelled): stop its Meltano run with it.
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    elapsed = time.monotonic() - started
    if code != 0:
        msg = f"{argv[1:3]} for {name} exited {code} after {elapsed:.0f} s"
        raise WorkerFailed(msg)
    log.info(f"{name} done in {elapsed:.1f} s")
    return elapsed


def run_worker(plan: Plan, worker: Worker, log: Logger) -> float:
    """Run ``worker``'s `meltano run` to the end; the wall time in seconds.

    Raises:
        WorkerFailed: `meltano run` exited non-zero (the op's retry policy runs it again).
    """
    return _run(plan, worker.name, command(plan, worker), environment(plan, worker), log)


def upgrade_system_database(plan: Plan, log: Logger) -> float:
    """Create or migrate Meltano's system database (the state backend) once, before the workers.

    Workers that all found an empty database would each run the migrations at once and
    collide.

    Raises:
        WorkerFailed: `meltano upgrade database` exited non-zero.
    """
    setup = Worker(instance="setup", group="database", select=())
    env = {**environment(plan, setup)}
    argv = [plan.meltano_bin, "--environment", plan.environment, "upgrade", "database"]
    return _run(plan, setup.name, argv, env, log)
