"""End to end: real `meltano run` pipelines between emulators and real databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline_kit import Meltano, duckdb_queries, duckdb_query, emulator_env
from postgres import postgres_server
from welkin_emulator.testing import EmulatorProcess
from welkin_facts import (
    DESIGNER_STREAMS,
    OPT_IN_STREAMS,
    client,
    every_stream_counts,
    exported,
    patients,
    stream_counts,
)

ROOT = Path(__file__).resolve().parents[2]
CORE_FIELDS = ("firstName", "lastName", "birthDate", "gender", "email", "phone")


def duckdb_counts(path: Path) -> dict[str, int]:
    tables = duckdb_query(
        path, "select table_name from information_schema.tables where table_schema = 'welkin'"
    )
    return per_table(path, [str(t) for (t,) in tables], 'select count(*) from welkin."{table}"')


def per_table(path: Path, tables: list[str], sql: str) -> dict[str, Any]:
    """``sql`` (``{table}`` in it) run on each of ``tables``: its single value per table."""
    found = duckdb_queries(path, [sql.format(table=table) for table in tables])
    return {table: rows[0][0] for table, rows in zip(tables, found, strict=True)}


def test_welkin_to_duckdb_loads_everything_then_only_changes(
    meltano: Meltano, seeded_emulator: EmulatorProcess
) -> None:
    env = {
        **emulator_env("TAP_WELKIN", seeded_emulator.url),
        "TARGET_DUCKDB_ADD_METADATA_COLUMNS": "true",
    }
    warehouse = meltano.workdir / "warehouse.duckdb"
    meltano.run("run", "tap-welkin", "target-duckdb", extra_env=env)

    # Every stream selected by default, issue 13's included, holds what Welkin holds; the
    # streams with no export feed (a request per patient) are left out unless selected.
    counts = every_stream_counts(seeded_emulator)
    expected = {k: n for k, n in counts.items() if k not in OPT_IN_STREAMS}
    loaded = duckdb_counts(warehouse)
    assert {k: loaded.get(k) for k in expected} == expected
    assert OPT_IN_STREAMS.isdisjoint(loaded)
    assert expected["patients"] > 100 and expected["cdt_allergies"] > 10
    assert all(counts.values()), "a stream with nothing seeded proves nothing"
    first_state = json.loads(meltano.run("state", "get", "dev:tap-welkin-to-target-duckdb").stdout)

    # Change things through the API: 3 patients edited, 1 created, 2 allergy records edited.
    api = client(seeded_emulator.url)
    some = patients(seeded_emulator.url)[:3]
    for patient in some:
        api.request("PATCH", f"patients/{patient['id']}", json={"middleName": "Changed"})
    api.request("POST", "patients", json={"firstName": "Newly", "lastName": "Created"})
    allergy_ids = [
        item["id"] for item in exported(api, "CDT_RECORD") if item["cdtName"] == "allergies"
    ][:2]
    for item in exported(api, "CDT_RECORD"):
        if item["id"] in allergy_ids:
            api.request(
                "PATCH",
                f"patients/{item['patientId']}/cdts/allergies/{item['id']}",
                json={"reaction_symptom": "Changed"},
            )
    # Run 1's last batch, across every table (tables load one after another).
    last_batches = per_table(
        warehouse, list(expected), 'select max(_sdc_batched_at) from welkin."{table}"'
    )
    batched_before = max(str(at) for at in last_batches.values())

    meltano.run("run", "tap-welkin", "target-duckdb", extra_env=env)
    after = duckdb_counts(warehouse)
    assert after == {**loaded, "patients": loaded["patients"] + 1}
    new_rows = per_table(
        warehouse,
        list(expected),
        f"select count(*) from welkin.\"{{table}}\" where _sdc_batched_at > '{batched_before}'",
    )
    # users is full-table (Welkin does not reliably bump a user's updatedAt), and so is the
    # Designer configuration: all of it again. Every other stream: only what changed.
    full_table = {"users", "work_hours", "encounter_disposition_definition", *DESIGNER_STREAMS}
    assert new_rows == {
        **dict.fromkeys(expected, 0),
        "patients": 4,
        "cdt_allergies": 2,
        **{table: expected[table] for table in full_table},
    }
    changed = duckdb_query(
        warehouse, "select count(*) from welkin.patients where middlename = 'Changed'"
    )
    assert changed[0][0] == 3
    second_state = json.loads(meltano.run("state", "get", "dev:tap-welkin-to-target-duckdb").stdout)
    first_marks = first_state["singer_state"]["bookmarks"]
    second_marks = second_state["singer_state"]["bookmarks"]
    assert (
        second_marks["patients"]["replication_key_value"]
        > first_marks["patients"]["replication_key_value"]
    )


# README, "Streams": how to opt in to the streams with no export feed.
SELECT_ALL_BUT_AUDIT = ["*.*", "!cdt_records.*", "!data_audit.*", "!webhook_audit.*"]


def test_welkin_to_postgres_with_every_stream_opted_in(
    meltano: Meltano, seeded_emulator: EmulatorProcess
) -> None:
    selection = json.dumps(SELECT_ALL_BUT_AUDIT, separators=(",", ":"))
    assert f"TAP_WELKIN__SELECT='{selection}'" in (ROOT / "README.md").read_text()
    with postgres_server() as pg:
        env = {
            **emulator_env("TAP_WELKIN", seeded_emulator.url),
            "TAP_WELKIN__SELECT": selection,
            "TARGET_POSTGRES_HOST": "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(pg.port),
            "TARGET_POSTGRES_USER": pg.user,
            "TARGET_POSTGRES_PASSWORD": pg.password,
            "TARGET_POSTGRES_DATABASE": pg.database,
        }
        meltano.run("run", "tap-welkin", "target-postgres", extra_env=env)
        expected = every_stream_counts(seeded_emulator)
        loaded = {
            table: int(pg.psql(f'select count(*) from welkin."{table}"')) for table in expected
        }
        assert loaded == expected


def test_csv_to_welkin_creates_once(meltano: Meltano, empty_emulator: EmulatorProcess) -> None:
    env = emulator_env("TARGET_WELKIN", empty_emulator.url)
    meltano.run("run", "tap-csv", "target-welkin", extra_env=env)

    api = client(empty_emulator.url)
    sample = (ROOT / "data" / "sample" / "ehr_patients.csv").read_text().splitlines()[1:]
    for line in sample:
        external_id, first, last, birth = line.split(",")[:4]
        patient = api.request("GET", f"patients/{external_id}", params={"type": "EID"}).json()
        assert (patient["firstName"], patient["lastName"]) == (first, last)
        assert patient["birthDate"].startswith(birth)
    allergies = [i for i in exported(api, "CDT_RECORD") if i["cdtName"] == "allergies"]
    feed = (ROOT / "data" / "sample" / "allergies_feed.csv").read_text().splitlines()[1:]
    assert sorted(i["jsonBody"]["external_id"] for i in allergies) == sorted(
        r.split(",")[0] for r in feed
    )
    assert len(patients(empty_emulator.url)) == len(sample)

    empty_emulator.reset_requests()
    meltano.run("run", "--full-refresh", "tap-csv", "target-welkin", extra_env=env)
    writes = {
        route: n
        for route, n in empty_emulator.requests().items()
        if route.split(" ")[0] in {"POST", "PATCH"} and "api_clients" not in route
    }
    assert writes == {}
    assert len(patients(empty_emulator.url)) == len(sample)


COPY_SELECTION = [
    "patients.*",
    "users.*",
    "encounters.*",
    "calendar_events.*",
    "cdt_*.*",
    "!cdt_records.*",
]


def test_instance_to_instance_copy(
    meltano: Meltano, seeded_emulator: EmulatorProcess, empty_emulator: EmulatorProcess
) -> None:
    env = {
        **emulator_env("TAP_WELKIN", seeded_emulator.url),
        **emulator_env("TARGET_WELKIN", empty_emulator.url),
        # The resources target-welkin writes (README: instance-to-instance copy).
        "TAP_WELKIN__SELECT": json.dumps(COPY_SELECTION),
    }
    meltano.run("run", "tap-welkin", "target-welkin", extra_env=env)

    def people(url: str) -> list[tuple[object, ...]]:
        return sorted(tuple(p.get(f) for f in CORE_FIELDS) for p in patients(url))

    assert people(empty_emulator.url) == people(seeded_emulator.url)
    source, copy = client(seeded_emulator.url), client(empty_emulator.url)

    def comparable(value: object) -> str:
        # 48 and 48.0 are one number to Welkin; JSON text would tell them apart.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(float(value))
        return json.dumps(value)

    def cdt_values(api: object) -> list[tuple[object, ...]]:
        rows = []
        for item in exported(api, "CDT_RECORD"):  # type: ignore[arg-type]
            body = item["jsonBody"]
            fields = sorted(
                (key, comparable(value))
                for key, value in body.items()
                if not key.endswith(("_at", "_by", "_by_name"))
                and key not in {"id", "external_guid", "external_id"}
            )
            rows.append((item["cdtName"], tuple(fields)))
        return sorted(rows)

    assert cdt_values(copy) == cdt_values(source)

    def events(api: object) -> list[tuple[object, ...]]:
        return sorted(
            (e["eventTitle"], e["startDateTime"], e["endDateTime"], e["eventStatus"])
            for e in exported(api, "CALENDAR_EVENT")
        )  # type: ignore[arg-type]

    assert events(copy) == events(source)


def test_split_by_stream_job_keeps_separate_selections_and_state(
    meltano: Meltano, seeded_emulator: EmulatorProcess
) -> None:
    env = emulator_env("TAP_WELKIN", seeded_emulator.url)
    meltano.run("run", "welkin-split-by-stream", extra_env=env)

    loaded = duckdb_counts(meltano.workdir / "warehouse.duckdb")
    expected = stream_counts(seeded_emulator.url)
    # tap-welkin-patients brings patients; tap-welkin-clinical CDTs, encounters and events.
    assert {k: loaded.get(k) for k in expected if k != "users"} == {
        k: v for k, v in expected.items() if k != "users"
    }
    assert "users" not in loaded and "cdt_records" not in loaded
    state_ids = set(meltano.run("state", "list").stdout.split())
    assert {
        "dev:tap-welkin-patients-to-target-duckdb",
        "dev:tap-welkin-clinical-to-target-duckdb",
    } <= state_ids
    patients_state = json.loads(
        meltano.run("state", "get", "dev:tap-welkin-patients-to-target-duckdb").stdout
    )
    assert set(patients_state["singer_state"]["bookmarks"]) == {"patients"}
