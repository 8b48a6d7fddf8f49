"""Create claims between processes sharing one id map (SQLite, real files)."""

from __future__ import annotations

import subprocess
import sys

from target_welkin.claims import BUSY, FOUND, STALE, WON, Claims
from target_welkin.idmap import IdMap


def test_one_creator_per_record_and_a_dead_process_claim_is_taken_over(tmp_path):
    path = tmp_path / "idmap.sqlite"
    first_map, second_map = IdMap(path, secret="s"), IdMap(path, secret="s")
    try:
        first, second = Claims(first_map), Claims(second_map)
        second.owner = f"{first.owner.split(':')[0]}:other"  # this process, so alive
        keys = ["externalId=E-1"]
        assert first.claim("patients", keys) == WON
        assert first.claim("patients", keys) == WON  # its own claim again
        assert second.claim("patients", keys) == BUSY
        first_map.record("patients", keys, "w1", payload={"a": 1})  # the create is mapped
        assert second.wait_for("patients", keys) == FOUND

        done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        first.owner = f"{done.stdout.strip()}:dead"  # a process that has ended
        other = ["externalId=E-2"]
        assert first.claim("patients", other) == WON
        assert second.wait_for("patients", other) == STALE
    finally:
        first_map.close()
        second_map.close()
