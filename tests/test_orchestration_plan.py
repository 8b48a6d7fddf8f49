"""The Dagster project's plan and worker commands (no Dagster needed: they import none)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "orchestration"))

from welkin_dagster.config import load_plan  # noqa: E402
from welkin_dagster.meltano_run import command, environment  # noqa: E402


def test_the_shipped_plan_is_four_stream_groups_covering_every_stream() -> None:
    plan = load_plan(ROOT / "orchestration" / "workers.yml")
    assert plan.project_dir == ROOT
    assert [w.group for w in plan.workers] == ["patients", "users", "care", "cdts"]
    selected = [s for w in plan.workers for s in w.select]
    assert selected == [
        "patients.*",
        "users.*",
        "encounters.*",
        "calendar_events.*",
        "cdt_*.*",
        "!cdt_records.*",
    ]
    assert all(w.env["TARGET_POSTGRES_LOAD_METHOD"] == "upsert" for w in plan.workers)
    # Nothing secret lives in the plan.
    text = (ROOT / "orchestration" / "workers.yml").read_text().lower()
    assert "password" not in text and "secret_key" not in text


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
