"""Seeding: deterministic, covers every field type, spreads updatedAt over ~2 years."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest
from emulator_kit import Api

from welkin_emulator.testing import seed_database

FIELD_TYPES = {
    "text",
    "textarea",
    "select",
    "multi-select",
    "integer",
    "float",
    "date",
    "datetime",
    "checkbox",
    "phone",
    "email",
}


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        out = []
        for table in ("users", "patients", "records", "calendar_events"):
            out += [r[0] for r in conn.execute(f"SELECT body FROM {table} ORDER BY rowid")]
        return out


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("seed")
    paths = {"a": base / "a.db", "b": base / "b.db", "c": base / "c.db"}
    seed_database(paths["a"], 60, seed=3)
    seed_database(paths["b"], 60, seed=3)
    seed_database(paths["c"], 60, seed=4)
    return paths


def test_same_seed_same_data_other_seed_other_data(dbs: dict[str, Path]) -> None:
    a, b, c = dump(dbs["a"]), dump(dbs["b"]), dump(dbs["c"])
    assert a == b
    assert a != c
    assert len(a) > 60


def test_reseeding_replaces_the_data(dbs: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    seed_database(db, 60, seed=3)
    seed_database(db, 60, seed=3)
    assert dump(db) == dump(dbs["a"])


def test_counts_and_shapes(dbs: dict[str, Path]) -> None:
    with sqlite3.connect(dbs["a"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM patients").fetchone()[0] == 60
        users = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
        assert 24 <= users <= 60  # "a few dozen"
        kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind").fetchall())
        assert (
            kinds["CDT"] > 60
            and kinds["ENCOUNTER"] > 0
            and kinds["DISPOSITION"] == kinds["ENCOUNTER"]
        )
        with_records = conn.execute(
            "SELECT COUNT(DISTINCT patient_id) FROM records WHERE kind='CDT'"
        ).fetchone()[0]
        assert with_records >= 0.7 * 60  # most patients have CDT records
        assert (
            conn.execute("SELECT COUNT(*) FROM calendar_events").fetchone()[0] >= kinds["ENCOUNTER"]
        )
        patients = [orjson.loads(r[0]) for r in conn.execute("SELECT body FROM patients")]
        for key in ("externalId", "externalGuid", "mrn"):
            present = sum(1 for p in patients if p[key])
            assert 0 < present < 60, key
        ext = conn.execute(
            "SELECT COUNT(*) FROM records WHERE kind='CDT' AND external_id IS NOT NULL"
        ).fetchone()[0]
        assert ext > 0


def test_updated_at_is_unique_and_spread_over_two_years(dbs: dict[str, Path]) -> None:
    with sqlite3.connect(dbs["a"]) as conn:
        stamps = []
        for table in ("patients", "records", "calendar_events"):
            stamps += [r[0] for r in conn.execute(f"SELECT updated_at FROM {table}")]
        clock = int(conn.execute("SELECT value FROM meta WHERE key='clock'").fetchone()[0])
    assert len(stamps) == len(set(stamps))
    assert min(stamps) < "2024-04-01" and max(stamps) > "2025-09-01"
    assert all("2024-01-01" <= s < "2026-01-01" for s in stamps)
    assert clock > 0


def test_every_field_type_is_defined_and_seeded(api: Api) -> None:
    formations = api.get("formations/current/cdts").json()
    types: dict[str, tuple[str, str]] = {}
    for cdt in formations:
        names = [f["name"] for f in cdt["fields"]]
        assert names[-12:] == [
            "id",
            "created_at",
            "created_by",
            "created_by_name",
            "updated_at",
            "updated_by",
            "updated_by_name",
            "source_name",
            "source_type",
            "source_id",
            "external_id",
            "external_guid",
        ]  # system fields last
        editable = {f["name"] for f in cdt["fields"][-12:] if f["editable"]}
        assert editable == {"external_id", "external_guid"}
        for f in cdt["fields"][:-12]:
            kind = (
                "multi-select" if f["type"] == "select" and f["meta"].get("multiple") else f["type"]
            )
            types.setdefault(kind, (cdt["name"], f["name"]))
    assert set(types) == FIELD_TYPES
    seen: Counter[str] = Counter()
    items = api.get("export/CDT_RECORD", params={"pageSize": 1000}).json()["data"]
    for kind, (cdt, field) in types.items():
        values = [
            i["jsonBody"][field]
            for i in items
            if i["cdtName"] == cdt and i["jsonBody"][field] is not None
        ]
        seen[kind] = len(values)
        assert values, f"no seeded value for {kind} ({cdt}.{field})"
        sample = values[0]
        expected_type = {
            "integer": int,
            "float": float,
            "checkbox": bool,
            "multi-select": list,
        }.get(kind, str)
        assert isinstance(sample, expected_type), kind


def test_seed_command_line(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "welkin_emulator",
            "seed",
            "--db",
            str(db),
            "--patients",
            "5",
            "--seed",
            "2",
            "--tenant",
            "acme",
            "--instance",
            "prod",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "seeded" in done.stderr and "5 patients" in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT DISTINCT tenant, instance FROM patients").fetchall() == [
            ("acme", "prod")
        ]


def test_reseeding_under_a_running_server(tmp_path: Path) -> None:
    from emulator_kit import Api

    from welkin_emulator.testing import EmulatorProcess

    db = tmp_path / "live.db"
    seed_database(db, 30, seed=1)
    with EmulatorProcess(db) as emu:
        api = Api(emu)
        assert api.post("by-filter/patients", {}, params={"size": 1}).json()["totalElements"] == 30
        seed_database(db, 12, seed=2)
        assert api.post("by-filter/patients", {}, params={"size": 1}).json()["totalElements"] == 12
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
