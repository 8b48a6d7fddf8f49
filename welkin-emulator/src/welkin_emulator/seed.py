"""Deterministic synthetic data: the same ``--seed`` always produces byte-identical records.

Nothing depends on the wall clock: timestamps are drawn from a fixed two-year window
(2024-01-01 to 2025-12-31), every ``updatedAt`` in the database is unique (so export cursors and
bookmarks are meaningful), and the write clock is moved past the newest seeded timestamp, so
writes through the API always sort after seeded data.

Seeding replaces the tenant's users and the instance's patients, CDT records, encounters and
calendar events. All rows are pre-serialised and inserted with ``executemany`` in one
transaction; 100,000 patients take well under a minute.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .events import calendar_event, disposition_envelope, encounter_body, encounter_envelope
from .formations import CDTS_BY_NAME, ENCOUNTER_TEMPLATES
from .records import cdt_envelope, cdt_json_body, participant, patient_record, user_record
from .routes.patients import row_values
from .routes.users import user_search_text
from .storage import connect, init_schema
from .timeutil import format_ms, parse_instant

BASE_MS = parse_instant("2024-01-01T00:00:00.000Z") or 0
SPAN_MS = 730 * 24 * 3600 * 1000
USER_COUNT = 36

FIRST = [
    "Avery",
    "Blake",
    "Casey",
    "Dana",
    "Eli",
    "Frankie",
    "Gray",
    "Harper",
    "Indy",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Noor",
    "Oakley",
    "Parker",
    "Quinn",
    "Riley",
    "Sage",
    "Taylor",
    "Uma",
    "Val",
    "Wren",
    "Xan",
    "Yael",
    "Zion",
    "Ari",
    "Bo",
    "Cam",
    "Dev",
]
LAST = [
    "Abara",
    "Brandt",
    "Cortez",
    "Dube",
    "Eklund",
    "Farrow",
    "Gallo",
    "Hale",
    "Ibsen",
    "Juarez",
    "Kowal",
    "Lind",
    "Mbeki",
    "Novak",
    "Okafor",
    "Pryce",
    "Quade",
    "Rosen",
    "Sato",
    "Tran",
    "Ueda",
    "Vance",
    "Wolfe",
    "Xu",
    "Yilmaz",
    "Zeller",
]
CITIES = (
    ("Portland", "OR"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Fresno", "CA"),
)
ZONES = ("US/Pacific", "US/Mountain", "US/Central", "US/Eastern")
WORDS = [
    "calm",
    "walk",
    "tea",
    "stretch",
    "music",
    "read",
    "garden",
    "breathe",
    "journal",
    "nap",
    "swim",
    "cook",
    "paint",
    "yoga",
    "call",
    "friend",
]


class _Gen:
    """Random helpers bound to one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.used: set[int] = set()

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def unique_ms(self, lo: int = 0) -> int:
        """A timestamp in the window (at or after ``lo``) not used by any other record."""
        lo = max(lo, BASE_MS)
        t = lo + self.rng.randrange(max(1, BASE_MS + SPAN_MS - lo))
        while t in self.used:
            t += 1
        self.used.add(t)
        return t

    def maybe(self, p: float, make: Callable[[], Any]) -> Any:
        return make() if self.rng.random() < p else None

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))


def _users(g: _Gen, instance: str) -> list[dict[str, Any]]:
    users = []
    for n in range(USER_COUNT):
        first, last = g.rng.choice(FIRST), g.rng.choice(LAST)
        created = g.unique_ms()
        state = "ACTIVE" if n % 9 else g.rng.choice(("INACTIVE", "PROVISIONED"))
        uid = g.uid()
        values = {
            "username": f"{first.lower()}.{last.lower()}{n}",
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "firstName": first,
            "lastName": last,
            "phone": f"+1555020{n:04d}",
            "timezone": g.rng.choice(ZONES),
            "locale": "en_US",
            "userState": state,
            "enabled": state == "ACTIVE",
            "seats": ["GENERAL"],
            "seatAssignAllowed": True,
            "allowedToReceiveCalls": n % 2 == 0,
            "roles": [
                {
                    "createdAt": format_ms(created),
                    "updatedAt": format_ms(created),
                    "permissionName": "care-coordinator",
                    "instanceName": instance,
                    "type": "SECURITY_ROLE",
                    "primaryRole": True,
                }
            ],
        }
        ts = format_ms(created)
        users.append(user_record(uid, g.uid(), ts, ts, values))
    return users


def _patient(g: _Gen, n: int, users: list[dict[str, Any]]) -> dict[str, Any]:
    rng = g.rng
    first, last = rng.choice(FIRST), rng.choice(LAST)
    updated = g.unique_ms()
    created = BASE_MS + rng.randrange(updated - BASE_MS + 1)
    city, state = rng.choice(CITIES)
    author = rng.choice(users)
    values = {
        "externalId": f"EXT-{n:07d}" if rng.random() < 0.5 else None,
        "externalGuid": g.uid() if rng.random() < 0.3 else None,
        "mrn": f"MRN{rng.randrange(10**8):08d}" if rng.random() < 0.4 else None,
        "firstName": first,
        "lastName": last,
        "middleName": rng.choice(FIRST) if rng.random() < 0.2 else None,
        "birthDate": f"{rng.randrange(1940, 2010)}-{rng.randrange(1, 13):02d}-"
        f"{rng.randrange(1, 29):02d}T00:00:00.000Z",
        "gender": rng.choice(("MALE", "FEMALE", "OTHER", "UNKNOWN")),
        "email": f"{first.lower()}.{last.lower()}.{n}@example.org" if rng.random() < 0.7 else None,
        "phone": f"+1555010{n % 10000:04d}" if rng.random() < 0.6 else None,
        "primaryPhoneCapabilities": ["SMS", "VOICE"] if rng.random() < 0.3 else [],
        "country": "US",
        "state": state,
        "city": city,
        "zip": f"{rng.randrange(10000, 99999)}",
        "addressLine1": f"{rng.randrange(1, 9999)} {rng.choice(LAST)} St",
        "timezone": rng.choice(ZONES),
    }
    name = f"{author['firstName']} {author['lastName']}"
    rec = patient_record(g.uid(), format_ms(updated), author["id"], name, values)
    rec["createdAt"] = format_ms(created)
    return rec


def _cdt_values(g: _Gen, cdt_name: str, n: int) -> dict[str, Any]:
    rng = g.rng
    if cdt_name == "allergies":
        return {
            "allergy": rng.choice(("Peanuts", "Penicillin", "Pollen", "Latex", "Shellfish")),
            "reaction_symptom": g.maybe(0.8, lambda: rng.choice(("Hives", "Rash", "Sneezing"))),
            "severity": g.maybe(0.9, lambda: rng.choice(("Mild", "Moderate", "Severe"))),
        }
    if cdt_name == "cdt-self-care":
        return {
            "cdtf-alone-time": rng.choice(("Yes", "No")),
            "cdtf-unwind": g.maybe(0.7, lambda: g.words(4)),
        }
    if cdt_name == "cdt-vitals":
        return {
            "cdtf-measured-at": format_ms(BASE_MS + rng.randrange(SPAN_MS)),
            "cdtf-weight-kg": round(rng.uniform(45, 130), 1),
            "cdtf-height-cm": rng.randrange(145, 205),
            "cdtf-smoker": rng.random() < 0.2,
            "cdtf-notes": g.maybe(0.3, lambda: g.words(6)),
        }
    plans = sorted(rng.sample(["Dental", "Medical", "Pharmacy", "Vision"], rng.randrange(1, 4)))
    return {
        "cdtf-member-id": f"M{n:06d}{rng.randrange(1000):03d}",
        "cdtf-payer": rng.choice(("Aetna", "Cigna", "Humana", "Medicare", "Other")),
        "cdtf-plan-types": plans,
        "cdtf-start-date": f"{rng.randrange(2015, 2025)}-{rng.randrange(1, 13):02d}-01",
        "cdtf-payer-phone": g.maybe(0.8, lambda: f"+1800555{rng.randrange(10000):04d}"),
        "cdtf-payer-email": g.maybe(0.5, lambda: "claims@payer.example.com"),
    }


def _rows_for_patient(g: _Gen, ctx: dict[str, Any], n: int, rec: dict[str, Any]) -> None:
    """Append CDT records, encounters and calendar events of one patient to ``ctx`` lists."""
    rng, t, i = g.rng, ctx["tenant"], ctx["instance"]
    users: list[dict[str, Any]] = ctx["active"]
    pid = rec["id"]
    if rng.random() < 0.85:
        for cdt_name in rng.sample(sorted(CDTS_BY_NAME), rng.randrange(1, 4)):
            cdt = CDTS_BY_NAME[cdt_name]
            author = rng.choice(users)
            upd = g.unique_ms()
            rid = g.uid()
            values = _cdt_values(g, cdt_name, n)
            if rng.random() < 0.3:
                values["external_id"] = f"cdt-ext-{n}-{cdt_name}"
            name = f"{author['firstName']} {author['lastName']}"
            body = cdt_json_body(cdt, rid, format_ms(upd), author["id"], name, values)
            body["created_at"] = format_ms(BASE_MS + rng.randrange(upd - BASE_MS + 1))
            env = cdt_envelope(rid, pid, cdt["id"], cdt["version"], cdt_name, body)
            ctx["records"].append(
                (
                    t,
                    i,
                    "CDT",
                    rid,
                    pid,
                    cdt_name,
                    None,
                    body.get("external_id"),
                    None,
                    body["created_at"],
                    body["updated_at"],
                    orjson.dumps(env).decode(),
                )
            )
    person = {**rec, "enabled": None}
    if rng.random() < 0.3:
        host = rng.choice(users)
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
        upd = g.unique_ms(created)
        body["updated_at"] = format_ms(upd)
        env = encounter_envelope(enc_id, pid, body)
        ctx["records"].append(
            (
                t,
                i,
                "ENCOUNTER",
                enc_id,
                pid,
                env["cdtName"],
                host["id"],
                None,
                None,
                body["created_at"],
                body["updated_at"],
                orjson.dumps(env).decode(),
            )
        )
        disp = disposition_envelope(disp_id, pid, enc_id, format_ms(created), host["id"], name)
        disp["jsonBody"]["updated_at"] = format_ms(g.unique_ms(created))
        ctx["records"].append(
            (
                t,
                i,
                "DISPOSITION",
                disp_id,
                pid,
                disp["cdtName"],
                None,
                None,
                None,
                disp["jsonBody"]["created_at"],
                disp["jsonBody"]["updated_at"],
                orjson.dumps(disp).decode(),
            )
        )
    if rng.random() < 0.2:
        host = rng.choice(users)
        created = g.unique_ms()
        start = BASE_MS + rng.randrange(SPAN_MS + 90 * 86400_000) // 900_000 * 900_000
        status = rng.choice(("SCHEDULED", "SCHEDULED", "COMPLETED", "CANCELLED"))
        ext = f"cal-ext-{n}" if rng.random() < 0.4 else None
        _event(g, ctx, host, person, created, start, "APPOINTMENT", status, ext)


def _event(  # noqa: PLR0917
    g: _Gen,
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
    g = _Gen(seed)
    users = _users(g, instance)
    active = [u for u in users if u["userState"] == "ACTIVE"]
    ctx: dict[str, Any] = {
        "tenant": tenant,
        "instance": instance,
        "active": active,
        "records": [],
        "events": [],
    }
    patient_rows = []
    for n in range(patients):
        rec = _patient(g, n, users)
        patient_rows.append(
            (
                tenant,
                instance,
                rec["id"],
                *row_values(rec),
                rec["updatedAt"],
                orjson.dumps(rec).decode(),
            )
        )
        _rows_for_patient(g, ctx, n, rec)
    user_rows = [
        (
            tenant,
            u["id"],
            u["username"],
            user_search_text(u),
            u["userState"],
            u["updatedAt"],
            orjson.dumps(u).decode(),
        )
        for u in users
    ]
    conn = connect(db_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM users WHERE tenant=?", (tenant,))
        for table in ("patients", "records", "calendar_events"):
            conn.execute(f"DELETE FROM {table} WHERE tenant=? AND instance=?", (tenant, instance))  # noqa: S608 - table/column names are constants
        conn.executemany(
            "INSERT INTO users(tenant, id, username, search, user_state, updated_at, "
            "body) VALUES(?,?,?,?,?,?,?)",
            user_rows,
        )
        conn.executemany(
            "INSERT INTO patients(tenant, instance, id, external_id, external_guid, "
            "mrn, search, updated_at, body) VALUES(?,?,?,?,?,?,?,?,?)",
            patient_rows,
        )
        conn.executemany(
            "INSERT INTO records(tenant, instance, kind, id, patient_id, cdt_name, "
            "owner_user_id, external_id, external_guid, created_at, updated_at, body) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            ctx["records"],
        )
        conn.executemany(
            "INSERT INTO calendar_events(tenant, instance, id, external_id, start_at, "
            "end_at, status, event_type, participants, updated_at, body) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            ctx["events"],
        )
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
        conn.close()
    kinds: dict[str, int] = {"users": len(user_rows), "patients": len(patient_rows)}
    for kind in ("CDT", "ENCOUNTER", "DISPOSITION"):
        kinds[f"{kind.lower()} records"] = sum(1 for r in ctx["records"] if r[2] == kind)
    kinds["calendar events"] = len(ctx["events"])
    return kinds
