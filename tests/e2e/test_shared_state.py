"""Shared state: bookmarks in PostgreSQL (Meltano's system database), not on the worker's disk."""

from __future__ import annotations

import json

from pipeline_kit import Meltano, emulator_env
from postgres import postgres_server
from scale_kit import state_env, states, warehouse_env
from welkin_emulator.testing import EmulatorProcess
from welkin_facts import patients


def test_bookmarks_land_in_the_postgresql_state_backend(
    meltano: Meltano, seeded_emulator: EmulatorProcess
) -> None:
    with postgres_server() as pg:
        env = {
            **emulator_env("TAP_WELKIN", seeded_emulator.url),
            **warehouse_env(pg),
            **state_env(pg),
            "TAP_WELKIN__SELECT": json.dumps(["patients.*"]),
        }
        args = ("run", "--state-id-suffix", "main.patients", "tap-welkin", "target-postgres")
        meltano.run(*args, extra_env=env)

        found = states(pg)
        state_id = "dev:tap-welkin-to-target-postgres:main.patients"
        assert list(found) == [state_id]
        bookmark = found[state_id]["bookmarks"]["patients"]["replication_key_value"]
        assert bookmark == max(p["updatedAt"] for p in patients(seeded_emulator.url))
        assert int(pg.psql("select count(*) from welkin.patients")) == len(
            patients(seeded_emulator.url)
        )
        # Nothing on the worker's disk: the local system database was never created.
        assert not (meltano.workdir / "meltano.db").exists()
        # Another worker (any host) reads the bookmark from the same backend.
        got = meltano.run("state", "get", state_id, extra_env=env).stdout
        assert (
            json.loads(got)["singer_state"]["bookmarks"]["patients"]
            == found[state_id]["bookmarks"]["patients"]
        )
