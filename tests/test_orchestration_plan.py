"""The Dagster project's plan and worker commands (no Dagster needed: they import none)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from pipeline_kit import emulator_env
from welkin_emulator.testing import EmulatorProcess, seed_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "orchestration"))

from welkin_dagster.config import load_plan  # noqa: E402
from welkin_dagster.meltano_run import command, environment  # noqa: E402


def test_the_shipped_plan_covers_every_default_stream_once(tmp_path: Path) -> None:
    plan = load_plan(ROOT / "orchestration" / "workers.yml")
    assert plan.project_dir == ROOT
    groups = [w.group for w in plan.workers]
    assert groups == ["patients", "users", "care", "messages", "cdts", "designer"]
    # Each stream the tap discovers and selects by default is in exactly one group.
    streams = default_streams(tmp_path)
    assert {"patients", "care_plans", "sms_messages", "cdt_allergies", "programs"} <= streams
    owners = {s: [w.group for w in plan.workers if meltano_selects(w.select, s)] for s in streams}
    assert {s: len(g) for s, g in owners.items()} == dict.fromkeys(streams, 1), owners
    assert all(w.env["TARGET_POSTGRES_LOAD_METHOD"] == "upsert" for w in plan.workers)
    # Nothing secret lives in the plan.
    text = (ROOT / "orchestration" / "workers.yml").read_text().lower()
    assert "password" not in text and "secret_key" not in text


def meltano_selects(patterns: tuple[str, ...], stream: str) -> bool:
    """Meltano's rule for a stream: some pattern includes it and no ``!`` pattern excludes it."""
    included = [p for p in patterns if not p.startswith("!")]
    excluded = [p[1:] for p in patterns if p.startswith("!")]
    return any(fnmatch(f"{stream}.x", p) for p in included) and not any(
        fnmatch(f"{stream}.x", p) for p in excluded
    )


def default_streams(tmp_path: Path) -> set[str]:
    """Streams tap-welkin selects by default, discovered from a seeded emulator."""
    seed_database(tmp_path / "w.db", 3, seed=2)
    with EmulatorProcess(tmp_path / "w.db") as emulator:
        tap = Path(sys.executable).with_name("tap-welkin")
        found = subprocess.run(
            [str(tap), "--config", "ENV", "--discover"],
            env={**os.environ, **emulator_env("TAP_WELKIN", emulator.url)},
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
    return {
        stream["tap_stream_id"]
        for stream in json.loads(found.stdout)["streams"]
        for entry in stream["metadata"]
        if entry["breadcrumb"] == [] and entry["metadata"].get("selected-by-default")
    }


def test_each_worker_has_its_state_id_selection_and_private_run_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".meltano" / "extractors").mkdir(parents=True)
    (project / ".meltano" / "run").mkdir()
    plan_file = tmp_path / "workers.yml"
    plan_file.write_text(
        yaml.safe_dump(
            {
                "project_dir": str(project),
                "groups": {"patients": ["patients.*"], "cdts": ["cdt_*.*"]},
                "instances": {"a": {"env": {"X": "1"}}, "b": {"env": {"X": "2"}}},
            },
            sort_keys=False,
        )
    )
    plan = load_plan(plan_file)
    assert [w.name for w in plan.workers] == ["a.patients", "a.cdts", "b.patients", "b.cdts"]
    worker = plan.workers[3]
    argv = command(plan, worker)
    assert argv[argv.index("--state-id-suffix") + 1] == "b.cdts"
    env = environment(plan, worker)
    assert json.loads(env["TAP_WELKIN__SELECT"]) == ["cdt_*.*"]
    assert env["X"] == "2"
    own = Path(env["MELTANO_SYS_DIR_ROOT"])
    # The plugins are the project's; Meltano's scratch folder is the worker's own.
    assert (own / "extractors").resolve() == (project / ".meltano" / "extractors").resolve()
    assert not (own / "run").exists()
    assert own != Path(environment(plan, plan.workers[2])["MELTANO_SYS_DIR_ROOT"])


def test_a_bad_group_name_is_refused(tmp_path: Path) -> None:
    plan_file = tmp_path / "workers.yml"
    plan_file.write_text(yaml.safe_dump({"groups": {"Bad Name": []}, "instances": {"a": {}}}))
    with pytest.raises(ValueError, match="group names"):
        load_plan(plan_file)


def test_event_mode_is_one_worker_per_instance_with_the_event_extractor(tmp_path: Path) -> None:
    shipped = load_plan(ROOT / "orchestration" / "workers.yml")
    assert [w.name for w in shipped.event_workers] == ["main.events"]
    assert shipped.event_schedule == "* * * * *" and not shipped.event_schedule_running
    plan_file = tmp_path / "workers.yml"
    plan_file.write_text(
        yaml.safe_dump(
            {
                "project_dir": str(tmp_path),
                "groups": {"patients": ["patients.*"]},
                "instances": {"a": {"env": {"X": "1"}}, "b": {"env": {"X": "2"}}},
                "events": {"schedule": "*/2 * * * *"},
            }
        )
    )
    plan = load_plan(plan_file)
    assert [w.name for w in plan.event_workers] == ["a.events", "b.events"]
    assert plan.event_schedule == "*/2 * * * *"
    worker = plan.event_workers[1]
    argv = command(plan, worker)
    assert argv[-3:] == ["b.events", "tap-welkin-events", "target-postgres"]
    env = environment(plan, worker)
    # Event mode keeps meltano.yml's selection: the log decides what is pulled.
    assert not [k for k in env if k.endswith("__SELECT") and k not in os.environ]
    assert env["X"] == "2"
    # Without an events section there is no event worker.
    plan_file.write_text(yaml.safe_dump({"groups": {"p": ["patients.*"]}, "instances": {"a": {}}}))
    assert load_plan(plan_file).event_workers == ()
