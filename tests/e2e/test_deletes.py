"""End to end: a CDT record deleted in Welkin is marked deleted in PostgreSQL by target-postgres."""

from __future__ import annotations

from pipeline_kit import Meltano, emulator_env
from postgres import postgres_server
from welkin_emulator.testing import EmulatorProcess
from welkin_facts import client, exported


def test_deleted_cdt_record_is_marked_deleted_in_postgres(
    meltano: Meltano, seeded_emulator: EmulatorProcess
) -> None:
    with postgres_server() as pg:
        env = {
            **emulator_env("TAP_WELKIN", seeded_emulator.url),
            "TARGET_POSTGRES_HOST": "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(pg.port),
            "TARGET_POSTGRES_USER": pg.user,
            "TARGET_POSTGRES_PASSWORD": pg.password,
            "TARGET_POSTGRES_DATABASE": pg.database,
        }
        meltano.run("run", "tap-welkin", "target-postgres", extra_env=env)
        total = int(pg.psql("select count(*) from welkin.cdt_allergies"))
        assert total > 1
        assert (
            int(pg.psql("select count(*) from welkin.cdt_allergies where _sdc_deleted_at is null"))
            == total
        )

        api = client(seeded_emulator.url)
        gone = next(i for i in exported(api, "CDT_RECORD") if i["cdtName"] == "allergies")
        api.request("DELETE", f"patients/{gone['patientId']}/cdts/allergies/{gone['id']}")
        api.close()

        meltano.run("run", "tap-welkin", "target-postgres", extra_env=env)
        deleted = pg.psql(
            "select id from welkin.cdt_allergies where _sdc_deleted_at is not null"
        ).split()
        assert deleted == [gone["id"]]
        assert int(pg.psql("select count(*) from welkin.cdt_allergies")) == total
        # Users are versioned: none is gone from Welkin, so none is marked.
        assert (
            int(pg.psql("select count(*) from welkin.users where _sdc_deleted_at is not null")) == 0
        )
