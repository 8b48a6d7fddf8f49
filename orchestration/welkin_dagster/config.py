"""The fan-out plan: which `meltano run` each worker is, read from ``workers.yml``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_ENV = "WELKIN_DAGSTER_CONFIG"
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "workers.yml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Worker:
    """One `meltano run`: a stream group of one Welkin instance."""

    instance: str
    group: str
    select: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    #: The extractor of this worker when not the plan's (event mode: ``tap-welkin-events``).
    extractor: str = ""

    @property
    def name(self) -> str:
        """``<instance>.<group>``: the state id suffix and the log file name."""
        return f"{self.instance}.{self.group}"

    @property
    def op_name(self) -> str:
        """The Dagster op that runs this worker."""
        return f"sync_{self.instance}__{self.group}"


@dataclass(frozen=True)
class Plan:
    """Settings of the whole fan-out."""

    project_dir: Path
    environment: str
    extractor: str
    loader: str
    meltano_bin: str
    max_concurrent: int
    retries: int
    retry_delay_seconds: float
    schedule: str
    schedule_running: bool
    log_dir: Path
    workers: tuple[Worker, ...]
    #: Event mode ("ping and pull"): one worker per instance, on its own schedule.
    event_workers: tuple[Worker, ...] = ()
    event_schedule: str = "* * * * *"
    event_schedule_running: bool = False


def _name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        msg = f"workers.yml: {kind} names are lower-case letters, digits and underscores"
        raise ValueError(msg)
    return value


def _env(data: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((data or {}).get("env") or {}).items()}


def _workers(data: dict[str, Any]) -> tuple[Worker, ...]:
    groups: dict[str, Any] = data.get("groups") or {}
    instances: dict[str, Any] = data.get("instances") or {}
    if not groups or not instances:
        raise ValueError("workers.yml needs at least one group and one instance")
    workers = []
    for instance, spec in instances.items():
        # Every worker's settings, then its instance's.
        env = {**_env(data), **_env(spec)}
        for group, select in groups.items():
            selection = tuple(str(s) for s in select)
            workers.append(
                Worker(_name("instance", instance), _name("group", group), selection, env)
            )
    return tuple(workers)


def _event_workers(data: dict[str, Any]) -> tuple[Worker, ...]:
    """One event-mode worker per instance, when the plan has an ``events`` section.

    It selects nothing itself: event mode emits what the event log names, on the streams the
    extractor's own selection allows (meltano.yml).
    """
    events: dict[str, Any] | None = data.get("events")
    if not events:
        return ()
    extractor = str(events.get("extractor", "tap-welkin-events"))
    instances: dict[str, Any] = data.get("instances") or {}
    return tuple(
        Worker(_name("instance", name), "events", (), {**_env(data), **_env(spec)}, extractor)
        for name, spec in instances.items()
    )


def load_plan(path: Path | None = None) -> Plan:
    """Read the plan from ``path``, ``$WELKIN_DAGSTER_CONFIG`` or ``orchestration/workers.yml``."""
    path = path or Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    data: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    base = path.resolve().parent
    return Plan(
        project_dir=(base / str(data.get("project_dir", ".."))).resolve(),
        environment=str(data.get("environment", "prod")),
        extractor=str(data.get("extractor", "tap-welkin")),
        loader=str(data.get("loader", "target-postgres")),
        meltano_bin=str(data.get("meltano_bin", "meltano")),
        max_concurrent=int(data.get("max_concurrent", 4)),
        retries=int(data.get("retries", 2)),
        retry_delay_seconds=float(data.get("retry_delay_seconds", 30)),
        schedule=str(data.get("schedule", "0 * * * *")),
        schedule_running=bool(data.get("schedule_running", False)),
        log_dir=(base / str(data.get("log_dir", "../output/orchestration"))).resolve(),
        workers=_workers(data),
        event_workers=_event_workers(data),
        event_schedule=str((data.get("events") or {}).get("schedule", "* * * * *")),
        event_schedule_running=bool((data.get("events") or {}).get("schedule_running", False)),
    )
