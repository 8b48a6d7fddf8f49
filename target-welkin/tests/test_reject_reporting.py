"""What a person reads about rejects: a warning per kind with the file, run ids, dry runs apart."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import read_rejects
from .helpers import PATIENT_SCHEMA, run_cli


def _records(key: str) -> list[dict[str, object]]:
    return [
        {"externalId": f"{key}-ok", "firstName": "Ann", "lastName": "Goodexample"},
        {"externalId": f"{key}-bad1", "firstName": "Bo", "lastName": "Xexample", "gender": 7},
        {"externalId": f"{key}-bad2", "firstName": "Cy", "lastName": "Yexample", "gender": 8},
        {"externalId": f"{key}-nolast", "firstName": "Di"},
    ]


def test_each_reject_kind_is_a_warning_naming_the_file_and_the_run(
    config, key, singer, test_log_dir
):
    config["max_reject_ratio"] = 1.0
    run = run_cli(config, singer.stream("patients", _records(key), PATIENT_SCHEMA), test_log_dir,
                  "reject-kinds")  # fmt: skip
    assert run.returncode == 0
    rejects = read_rejects(config)
    assert len(rejects) == 3
    run_ids = {r["run_id"] for r in rejects}
    assert len(run_ids) == 1
    (run_id,) = run_ids
    for reject in rejects:
        assert str(reject["time"]).endswith("+00:00")
    path = str(config["rejects_path"])
    kinds = {str(r["errorCode"]) for r in rejects}
    for kind in kinds:
        count = sum(r["errorCode"] == kind for r in rejects)
        line = f"{count} record(s) rejected: {kind} (see {path}, run {run_id})"
        assert line in run.stderr
    # A readable line per stream besides the JSON summary.
    assert "Summary patients: 1 created, 1 rejected, 2 invalid" in run.stderr
    # The next run's rejects are told apart by their run id.
    again = run_cli(config, singer.stream("patients", _records(key), PATIENT_SCHEMA),
                    test_log_dir, "reject-kinds-2")  # fmt: skip
    assert again.returncode == 0
    assert len({r["run_id"] for r in read_rejects(config)}) == 2


def test_a_dry_run_writes_its_rejects_to_its_own_file(config, key, singer, test_log_dir):
    config.update(dry_run=True, max_reject_ratio=1.0)
    run = run_cli(config, singer.stream("patients", _records(key), PATIENT_SCHEMA), test_log_dir,
                  "reject-dry-run")  # fmt: skip
    assert run.returncode == 0
    real = Path(str(config["rejects_path"]))
    preview = real.with_name(f"{real.stem}.dry-run{real.suffix}")
    assert not real.exists() or read_rejects(config) == []
    lines = [json.loads(x) for x in preview.read_text().splitlines()]
    assert len(lines) == 2  # the two SCHEMA mismatches; Welkin's own refusal needs a real run
    assert f"see {preview}" in run.stderr
