"""Deterministic synthetic data: the same ``--seed`` always produces byte-identical records.

Nothing depends on the wall clock: timestamps are drawn from a fixed two-year window
(2024-01-01 to 2025-12-31), every ``updatedAt`` in the database is unique (so export cursors and
bookmarks are meaningful), and the write clock is moved past the newest seeded timestamp, so
writes through the API always sort after seeded data.

Seeding replaces the tenant's users and the instance's patients, CDT records, encounters and
calendar events. All rows are pre-serialised and inserted with ``executemany`` in one
transaction; 100,000 patients take about a minute on a 2-core machine (55 s measured).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from .events import calendar_event, disposition_envelope, encounter_body, encounter_envelope
from .formations import CDTS_BY_NAME, ENCOUNTER_TEMPLATES
from .items import INSERT_ITEM
from .records import cdt_envelope, cdt_json_body, participant
from .routes.patients import row_values
from .routes.users import user_search_text
from .storage import bump_generation, connect, init_schema
from .synthetic import BASE_MS, SPAN_MS, Gen, cdt_values, make_patient, make_users
from .synthetic_admin import seed_webhooks, seed_work_hours
from .synthetic_care import CareSeeder
from .timeutil import format_ms


def _record_row(  # noqa: PLR0917
    ctx: dict[str, Any], kind: str, rid: str, pid: str, owner: str | None,
    external_id: str | None, envelope: dict[str, Any],
) -> None:  # fmt: skip
    """Append one ``records`` row (CDT-backed: its times are in ``jsonBody``)."""
    body = envelope["jsonBody"]
    ctx["records"].append(
        (ctx["tenant"], ctx["instance"], kind, rid, pid, envelope["cdtName"], owner, external_id,
         None, body["created_at"], body["updated_at"], orjson.dumps(envelope).decode())
    )  # fmt: skip


def _cdt_records(g: Gen, ctx: dict[str, Any], n: int, pid: str) -> None:
    """One to three CDTs' records of one patient."""
    rng, users = g.rng, ctx["active"]
    for cdt_name in rng.sample(sorted(CDTS_BY_NAME), rng.randrange(1, 4)):
        cdt = CDTS_BY_NAME[cdt_name]
        author = rng.choice(users)
        upd = g.unique_ms()
        rid = g.uid()
        values = cdt_values(g, cdt_name, n)
        if rng.random() < 0.3:
            values["external_id"] = f"cdt-ext-{n}-{cdt_name}"
        name = f"{author['firstName']} {author['lastName']}"
        body = cdt_json_body(cdt, rid, format_ms(upd), author["id"], name, values)
        body["created_at"] = format_ms(BASE_MS + rng.randrange(upd - BASE_MS + 1))
        env = cdt_envelope(rid, pid, cdt["id"], cdt["version"], cdt_name, body)
        _record_row(ctx, "CDT", rid, pid, None, body.get("external_id"), env)


def _encounter(g: Gen, ctx: dict[str, Any], person: dict[str, Any]) -> None:
    """A scheduled encounter of one patient: its calendar event, envelope and disposition."""
    rng, pid = g.rng, person["id"]
    host = rng.choice(ctx["active"])
    created = g.unique_ms()
    start = created + rng.randrange(3600_000, 14 * 86400_000) // 60000 * 60000
    event = _event(g, ctx, host, person, created, start, "ENCOUNTER", "SCHEDULED", None)
    template = rng.choice(ENCOUNTER_TEMPLATES)
    enc_id, disp_id = g.uid(), g.uid()
    name = f"{host['firstName']} {host['lastName']}"
    values = {
        "title": template["title"],
        "description": g.words(3),
        "templateName": template["name"],
        "notes": g.maybe(0.5, lambda: g.words(8)),
        "status": rng.choice(("DRAFT", "OPEN", "FINALIZED")),
    }
    body = encounter_body(enc_id, created, host["id"], name, values, event, host, disp_id)
    body["updated_at"] = format_ms(g.unique_ms(created))
    _record_row(ctx, "ENCOUNTER", enc_id, pid, host["id"], None,
                encounter_envelope(enc_id, pid, body))  # fmt: skip
    ctx["links"].append((ctx["tenant"], ctx["instance"], event["id"], enc_id))
    disp = disposition_envelope(disp_id, pid, enc_id, format_ms(created), host["id"], name)
    disp["jsonBody"]["updated_at"] = format_ms(g.unique_ms(created))
    _record_row(ctx, "DISPOSITION", disp_id, pid, None, None, disp)


def _rows_for_patient(g: Gen, ctx: dict[str, Any], n: int, rec: dict[str, Any]) -> None:
    """Append CDT records, encounters and calendar events of one patient to ``ctx`` lists."""
    rng = g.rng
    if rng.random() < 0.85:
        _cdt_records(g, ctx, n, rec["id"])
    person = {**rec, "enabled": None}
    if rng.random() < 0.3:
        _encounter(g, ctx, person)
    if rng.random() < 0.2:
        host = rng.choice(ctx["active"])
        created = g.unique_ms()
        start = BASE_MS + rng.randrange(SPAN_MS + 90 * 86400_000) // 900_000 * 900_000
        status = rng.choice(("SCHEDULED", "SCHEDULED", "COMPLETED", "CANCELLED"))
        ext = f"cal-ext-{n}" if rng.random() < 0.4 else None
        _event(g, ctx, host, person, created, start, "APPOINTMENT", status, ext)


def _event(  # noqa: PLR0917
    g: Gen,
    ctx: dict[str, Any],
    host: dict[str, Any],
    patient: dict[str, Any],
    created: int,
    start: int,
    etype: str,
    status: str,
    external_id: str | None,
) -> dict[str, Any]:
    rng = g.rng
    end = start + rng.choice((30, 45, 60)) * 60000
    tz = host.get("timezone")
    parts = [
        participant(g.uid(), host["id"], "psm", host, False),
        participant(g.uid(), patient["id"], "patient", patient, True),
    ]
    values = {
        "eventTitle": f"{etype.title()} with {host['firstName']}",
        "eventDescription": "",
        "eventType": etype,
        "eventStatus": status,
        "eventMode": rng.choice(("VIDEO", "IN-PERSON", "CALL")),
        "eventColor": "green",
        "hostId": host["id"],
        "timezone": tz,
        "externalId": external_id,
    }
    eid = g.uid()
    event = calendar_event(eid, format_ms(created), host["id"], start, end, values, parts)
    upd = g.unique_ms(created)
    event["updatedAt"] = format_ms(upd)
    ids = ",".join(p["participantId"] for p in parts)
    ctx["events"].append(
        (
            ctx["tenant"],
            ctx["instance"],
            eid,
            external_id,
            event["startDateTime"],
            event["endDateTime"],
            status,
            etype,
            ids,
            event["updatedAt"],
            orjson.dumps(event).decode(),
        )
    )
    return event


_INSERTS = {
    "patients": "INSERT INTO patients(tenant, instance, id, external_id, external_guid, mrn, "
    "search, updated_at, body) VALUES(?,?,?,?,?,?,?,?,?)",
    "records": "INSERT INTO records(tenant, instance, kind, id, patient_id, cdt_name, "
    "owner_user_id, external_id, external_guid, created_at, updated_at, body) "
    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
    "calendar_events": "INSERT INTO calendar_events(tenant, instance, id, external_id, start_at, "
    "end_at, status, event_type, participants, updated_at, body) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
}
_INSERTS["encounter_events"] = (
    "INSERT INTO encounter_events(tenant, instance, event_id, encounter_id) VALUES(?,?,?,?)"
)
CHUNK = 5000  # patients generated and inserted per batch: bounded memory, few executemany calls


def _flush(
    conn: sqlite3.Connection, ctx: dict[str, Any], care: CareSeeder, counts: dict[str, int]
) -> None:
    """Insert one chunk's rows (and the care rows gathered so far) and count them by kind."""
    records = ctx["records"] + care.records
    conn.executemany(_INSERTS["records"], records)
    conn.executemany(_INSERTS["calendar_events"], ctx["events"])
    conn.executemany(_INSERTS["encounter_events"], ctx["links"])
    conn.executemany(INSERT_ITEM, care.items)
    for row in records:
        key = f"{row[2].lower().replace('_', ' ')} records"
        counts[key] = counts.get(key, 0) + 1
    for row in care.items:
        key = row[2].lower().replace("_", " ") + " items"
        counts[key] = counts.get(key, 0) + 1
    counts["calendar events"] += len(ctx["events"])
    care.records.clear()
    care.items.clear()


def _seed_patients(  # noqa: PLR0917
    conn: sqlite3.Connection, g: Gen, care: CareSeeder, users: list[dict[str, Any]],
    patients: int, counts: dict[str, int],
) -> None:  # fmt: skip
    """Patients with their records, care data and webhook deliveries, in chunks."""
    tenant, instance = care.tenant, care.instance
    active = [u for u in users if u["userState"] == "ACTIVE"]
    seed_work_hours(care, users)
    by_id = {u["id"]: u for u in users}
    patient_ids: list[str] = []
    for first in range(0, patients, CHUNK):
        ctx: dict[str, Any] = {"tenant": tenant, "instance": instance, "active": active,
                               "records": [], "events": [], "links": []}  # fmt: skip
        patient_rows = []
        for n in range(first, min(first + CHUNK, patients)):
            rec = make_patient(g, n, users)
            care.patient(rec, active, n)  # fills patientPrograms before the row is written
            patient_rows.append((tenant, instance, rec["id"], *row_values(rec),
                                 rec["updatedAt"], orjson.dumps(rec).decode()))  # fmt: skip
            patient_ids.append(rec["id"])
            start = len(ctx["records"])
            _rows_for_patient(g, ctx, n, rec)
            for row in ctx["records"][start:]:
                if row[2] == "ENCOUNTER":
                    care.encounter(orjson.loads(row[-1]), by_id[row[6]])
        _flush(conn, ctx, care, counts)
        counts["patients"] += len(patient_rows)
        conn.executemany(_INSERTS["patients"], patient_rows)
    hooks = seed_webhooks(care, patient_ids, max(20, patients // 10))
    conn.executemany("INSERT INTO webhook_deliveries(tenant, instance, status, sent_at, body) "
                     "VALUES(?,?,?,?,?)", hooks)  # fmt: skip
    counts["webhook deliveries"] = len(hooks)


_SEEDED_TABLES = ("patients", "records", "calendar_events", "encounter_events", "audit_events",
                  "items", "webhook_deliveries")  # fmt: skip


def _clear(conn: sqlite3.Connection, tenant: str, instance: str) -> None:
    """Delete what a previous seed of ``tenant``/``instance`` left."""
    conn.execute("DELETE FROM users WHERE tenant=?", (tenant,))
    for table in _SEEDED_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE tenant=? AND instance=?", (tenant, instance))  # noqa: S608 - table/column names are constants


def seed_database(
    db_path: str | Path,
    patients: int,
    *,
    seed: int = 0,
    tenant: str = "demo",
    instance: str = "sandbox",
) -> dict[str, int]:
    """Replace the data of ``tenant``/``instance`` in ``db_path`` with synthetic records.

    Returns the number of rows written per kind.
    """
    init_schema(db_path)
    g = Gen(seed)
    users = make_users(g, instance)
    user_rows = [
        (tenant, u["id"], u["username"], user_search_text(u), u["userState"], u["updatedAt"],
         orjson.dumps(u).decode())
        for u in users
    ]  # fmt: skip
    counts: dict[str, int] = {"users": len(user_rows), "patients": 0, "cdt records": 0,
                              "encounter records": 0, "disposition records": 0,
                              "calendar events": 0}  # fmt: skip
    conn = connect(db_path, cache_mb=256)
    # In WAL mode the one big transaction is written twice (WAL, then checkpoint). An in-memory
    # rollback journal writes it once, about 30% faster. Only possible while no other process
    # has the database open; otherwise the change is refused and seeding stays in WAL mode.
    with contextlib.suppress(sqlite3.OperationalError):
        conn.execute("PRAGMA journal_mode=MEMORY")
    try:
        conn.execute("BEGIN IMMEDIATE")
        _clear(conn, tenant, instance)
        # Bulk loading into unindexed tables and indexing once at the end is several times
        # faster than maintaining seven indexes row by row.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(
            "INSERT INTO users(tenant, id, username, search, user_state, updated_at, body) "
            "VALUES(?,?,?,?,?,?,?)",
            user_rows,
        )
        _seed_patients(conn, g, CareSeeder(g, seed, tenant, instance), users, patients, counts)
        for _name, sql in indexes:
            conn.execute(sql)
        bump_generation(conn)
        newest = max(g.used) if g.used else 0
        conn.execute(
            "INSERT INTO meta(key, value) VALUES('clock', ?) ON CONFLICT(key) DO UPDATE SET "
            "value=MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            (str(newest),),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("PRAGMA journal_mode=WAL")  # what the server uses
        conn.close()
    return counts
