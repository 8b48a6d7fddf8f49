"""`make demo`: both directions of the Meltano project against a seeded local emulator.

1. Seed a welkin-emulator database with synthetic patients and start the emulator.
2. `meltano run tap-welkin target-duckdb`, then print the rows per table that landed.
3. `meltano run tap-csv target-welkin` from data/sample/*.csv, then show that the
   sample's patients and allergy records now exist in the emulator, and that a rerun
   writes nothing.
4. Stop the emulator (also on failure or Ctrl-C), leaving nothing running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from welkin_client import WelkinClient
from welkin_emulator.testing import EmulatorProcess, seed_database

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "demo"
PATIENTS = int(os.environ.get("DEMO_PATIENTS", "2000"))
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
DUCKDB_FILE = ROOT / "output" / "warehouse.duckdb"


def banner(text: str) -> None:
    """Print a section heading."""
    print(f"\n=== {text}", flush=True)


def meltano(*args: str, env: dict[str, str]) -> None:
    """Run meltano with its log in build/demo; stop the demo if it fails."""
    started = time.monotonic()
    log = WORK / f"meltano-{'-'.join(a for a in args if not a.startswith('-'))}.log"
    with log.open("w") as stderr:
        result = subprocess.run(["meltano", *args], cwd=ROOT, env=env, stderr=stderr, check=False)
    took = time.monotonic() - started
    if result.returncode != 0:
        print(log.read_text()[-4000:], file=sys.stderr)
        sys.exit(f"meltano {' '.join(args)} failed (exit {result.returncode}); log: {log}")
    print(f"meltano {' '.join(args)}: ok in {took:.1f} s (log: {log.relative_to(ROOT)})")


_COUNT_ROWS = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
tables = conn.sql(
    "select table_name from information_schema.tables where table_schema = 'welkin' order by 1"
).fetchall()
for (table,) in tables:
    count = conn.sql(f'select count(*) from welkin."{table}"').fetchone()[0]
    print(f"  {table:<28} {count:>8}")
"""


def duckdb_row_counts() -> str:
    """Rows per table of the demo's DuckDB file, read with target-duckdb's own duckdb."""
    return subprocess.run(
        [str(DUCKDB_PYTHON), "-c", _COUNT_ROWS, str(DUCKDB_FILE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def demo_env(url: str) -> dict[str, str]:
    """Settings that keep the demo off the user's bookmarks and id map.

    Its state ids get a suffix of their own (so `meltano run welkin-to-duckdb` afterwards still
    loads everything), and target-welkin keeps its id map and rejects under build/demo, which
    each demo clears first.
    """
    return {
        "MELTANO_ENVIRONMENT": "dev",
        "TAP_WELKIN_API_URL": url,
        "TARGET_WELKIN_API_URL": url,
        # The variable `meltano run` reads (4.x); tests/test_demo_isolation.py pins the name.
        "MELTANO_RUN_STATE_ID_SUFFIX": f"demo-{os.getpid()}",
        "TARGET_WELKIN_STATE_DIR": str(WORK / "target-welkin-state"),
        "TARGET_WELKIN_REJECTS_PATH": str(WORK / "target-welkin-rejects.jsonl"),
    }


def main() -> None:
    """Run the demo end to end."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    DUCKDB_FILE.parent.mkdir(exist_ok=True)
    DUCKDB_FILE.unlink(missing_ok=True)
    db = WORK / "welkin.db"

    banner(f"Seeding the emulator with {PATIENTS} synthetic patients")
    started = time.monotonic()
    seed_database(db, PATIENTS, seed=1)
    print(f"seeded in {time.monotonic() - started:.1f} s")

    with EmulatorProcess(db) as emulator:
        print(f"welkin-emulator listening on {emulator.url}")
        env = {**os.environ, **demo_env(emulator.url)}
        banner("Welkin -> DuckDB: meltano run tap-welkin target-duckdb")
        emulator.reset_requests()
        meltano("run", "--full-refresh", "tap-welkin", "target-duckdb", env=env)
        counts = emulator.requests()
        total = counts.get("total", sum(v for k, v in counts.items() if k != "total"))
        print(f"requests to Welkin: {total}")
        print(f"rows in {DUCKDB_FILE.relative_to(ROOT)} (schema welkin):")
        print(duckdb_row_counts(), end="")

        banner("CSV -> Welkin: meltano run tap-csv target-welkin (data/sample/*.csv)")
        meltano("run", "--full-refresh", "tap-csv", "target-welkin", env=env)
        show_reverse_result(emulator.url)

        banner("Rerun of the reverse pipeline: unchanged records make no write calls")
        emulator.reset_requests()
        meltano("run", "--full-refresh", "tap-csv", "target-welkin", env=env)
        writes = {
            route: count
            for route, count in emulator.requests().items()
            if route.split(" ")[0] in {"POST", "PATCH", "PUT", "DELETE"}
            and "api_clients" not in route  # the token request is not a write
        }
        print(f"write calls on rerun: {sum(writes.values())} {writes or ''}")
    banner("Done: the emulator is stopped; the DuckDB file stays in output/")


def show_reverse_result(url: str) -> None:
    """Count the sample's patients and allergy records that exist in the emulator now."""
    client = WelkinClient(
        {
            "api_url": url,
            "tenant": "demo",
            "instance": "sandbox",
            "api_client": "DEMOCLIENT",
            "secret_key": "demo-secret",
        }
    )
    lines = (ROOT / "data" / "sample" / "ehr_patients.csv").read_text().splitlines()[1:]
    found = 0
    allergy_records = 0
    for line in lines:
        external_id = line.split(",")[0]
        response = client.request("GET", f"patients/{external_id}", params={"type": "EID"})
        patient = response.json()
        found += 1
        page = client.request(
            "GET", f"patients/{patient['id']}/cdts/allergies", params={"size": 1000}
        ).json()
        allergy_records += sum(
            1
            for r in page["data"]["content"]
            if (r["jsonBody"].get("external_id") or "").startswith("ALG-")
        )
    expected_allergies = (
        len((ROOT / "data" / "sample" / "allergies_feed.csv").read_text().splitlines()) - 1
    )
    print(f"sample patients found in Welkin by externalId: {found}/{len(lines)}")
    print(f"sample allergy records found in Welkin:        {allergy_records}/{expected_allergies}")
    client.close()


if __name__ == "__main__":
    main()
