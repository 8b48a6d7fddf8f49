"""Synthetic people and values for the seeder (deterministic, driven by one RNG).

The shapes vary as in a real tenant (see ``records``): users with and without optional keys,
territory objects listing territory names, custom attributes of several kinds; patients with and
without a point of contact and the 2023 keys. That variety is derived from each record's number,
not drawn from the RNG, so the values drawn for everything else stay as they were.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .records import PATIENT_2023_KEYS, patient_record, point_of_contact, user_record
from .timeutil import format_ms, parse_instant

BASE_MS = parse_instant("2024-01-01T00:00:00.000Z") or 0
SPAN_MS = 730 * 24 * 3600 * 1000
USER_COUNT = 36
ADMIN_ID = "5b1e0f43-7c2a-4c55-9d0e-2f6d1a8b3c47"  # who set up territories (a fixed admin user)

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


TERRITORY_GROUPS = (
    ("rgt-all-regions", ["All Territories"]),
    ("west-coast", ["Oregon", "California", "Washington"]),
    ("southwest", ["New Mexico", "Texas", "Arizona"]),
)
CREDENTIALS = ("Health Coach", "Care Coordinator", "Operations", "Member Guide", "")
CUSTOM_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {},
    {"zoomId": "2600233441", "licensure_states": ["All states"]},
    {"licensure_states": ["PA", "NJ"], "primaryLanguage": "english"},
    {"zoomId": "7151021189"},
)


# The bits uuid.UUID(version=4) overwrites: RFC 4122 variant and version 4.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID4_SET = (0x8000 << 48) | (4 << 76)


class Gen:
    """Random helpers bound to one seeded RNG, plus the set of timestamps already used."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.used: set[int] = set()

    def uid(self) -> str:
        """A random (seeded) UUID4 string: ``str(uuid.UUID(int=bits, version=4))``, formatted
        directly (three times faster; the seeder draws hundreds of thousands).
        """
        n = (self.rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def unique_ms(self, lo: int = 0) -> int:
        """A timestamp in the window (at or after ``lo``) not used by any other record."""
        lo = max(lo, BASE_MS)
        t = lo + self.rng.randrange(max(1, BASE_MS + SPAN_MS - lo))
        while t in self.used:
            t += 1
        self.used.add(t)
        return t

    def maybe(self, p: float, make: Callable[[], Any]) -> Any:
        """``make()`` with probability ``p``, else None."""
        return make() if self.rng.random() < p else None

    def words(self, n: int) -> str:
        """``n`` random words."""
        return " ".join(self.rng.choice(WORDS) for _ in range(n))


def make_users(g: Gen, instance: str) -> list[dict[str, Any]]:
    """A few dozen users (mostly ACTIVE) with roles in ``instance``, shaped as a real tenant's."""
    users = []
    for n in range(USER_COUNT):
        first, last = g.rng.choice(FIRST), g.rng.choice(LAST)
        created = g.unique_ms()
        state = "ACTIVE" if n % 9 else g.rng.choice(("INACTIVE", "PROVISIONED"))
        uid = g.uid()
        ts = format_ms(created)
        values = {
            "username": f"{first.lower()}.{last.lower()}{n}",
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "firstName": first,
            "lastName": last,
            "phone": f"+1555020{n:04d}",
            "timezone": g.rng.choice(ZONES),
            "locale": "en-US",
            "userState": state,
            "enabled": state == "ACTIVE",
            "seats": ["GENERAL"],
            "seatAssignAllowed": True,
            "allowedToReceiveCalls": n % 2 == 0,
            "roles": [_access(ts, "permissionName", "care-coordinator", instance, "SECURITY_ROLE")],
            **_optional_user_values(n, ts, instance),
        }
        for key in _absent_user_keys(n, state):
            values.pop(key, None)
        # Users made in the admin UI carry the audit names the recordings show.
        admin = "Admin User" if n % 7 else None
        users.append(
            user_record(uid, g.uid(), ts, ts, values, created_by_name=admin, updated_by_name=admin)
        )
    return users


def _access(ts: str, key: str, name: str, instance: str, kind: str) -> dict[str, Any]:
    """A role or policy entry of a user (recorded key order)."""
    entry: dict[str, Any] = {"createdAt": ts, "updatedAt": ts, key: name, "instanceName": instance,
                             "type": kind}  # fmt: skip
    if kind == "SECURITY_ROLE":
        entry["primaryRole"] = True
    else:
        entry["effectiveDate"] = ts[:10] + "T00:00:00.000Z"
    return entry


def _optional_user_values(n: int, ts: str, instance: str) -> dict[str, Any]:
    """Territories, policies, credentials and custom attributes of user ``n`` (some have none)."""
    values: dict[str, Any] = {
        "customUserAttributes": dict(CUSTOM_ATTRIBUTES[n % len(CUSTOM_ATTRIBUTES)]),
        "credentials": CREDENTIALS[n % len(CREDENTIALS)],
    }
    if n % 3:
        values["territories"] = [
            {"createdAt": ts, "updatedAt": ts, "createdBy": ADMIN_ID, "updatedBy": ADMIN_ID,
             "name": name, "territories": list(names), "instanceName": instance}
            for name, names in TERRITORY_GROUPS[: n % 3]
        ]  # fmt: skip
    if n % 4 == 1:
        values["fullTerritoriesAccessInstances"] = [instance]
    elif n % 4 == 3:
        values["fullTerritoriesAccessInstances"] = []
    if n % 5 == 2:
        values["policies"] = [_access(ts, "permissionName", "coach_policy", instance,
                                      "SECURITY_POLICY")]  # fmt: skip
    return values


def _absent_user_keys(n: int, state: str) -> list[str]:
    """Optional keys user ``n`` lacks (absent, not null), as on some users of a real tenant."""
    absent = []
    if n % 6 == 5:
        absent.append("credentials")
    if n % 4 == 2:
        absent.append("phone")
    if n % 5 == 4:
        absent.append("timezone")
    if state != "ACTIVE" and n % 2:
        absent += ["firstName", "lastName"]  # never a host or author: names are used there
    return absent


def make_patient(g: Gen, n: int, users: list[dict[str, Any]]) -> dict[str, Any]:
    """Patient number ``n``; some have externalId/externalGuid/mrn."""
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
    # A user without names (some have none) is shown by username.
    name = (
        " ".join(author[k] for k in ("firstName", "lastName") if k in author) or author["username"]
    )
    rec = patient_record(g.uid(), format_ms(updated), author["id"], name, values)
    rec["createdAt"] = format_ms(created)
    if n % 4 == 1:
        rec["pointOfContact"] = point_of_contact(author["id"])
    if n % 5 == 3:  # shaped as the 2022 API served patients: connectors must cope with both
        for key in PATIENT_2023_KEYS:
            del rec[key]
    return rec


def cdt_values(g: Gen, cdt_name: str, n: int) -> dict[str, Any]:
    """Field values for a record of ``cdt_name`` (some optional fields left null)."""
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
            # An INTEGER select (not drawn from the RNG: the other values stay as they were).
            "cdtf-pain-score": (n * 7) % 11 if n % 4 else None,
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
