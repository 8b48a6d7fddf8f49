"""Synthetic people and values for the seeder (deterministic, driven by one RNG)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

from .records import patient_record, user_record
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


class Gen:
    """Random helpers bound to one seeded RNG, plus the set of timestamps already used."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.used: set[int] = set()

    def uid(self) -> str:
        """A random (seeded) UUID4 string."""
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
        """``make()`` with probability ``p``, else None."""
        return make() if self.rng.random() < p else None

    def words(self, n: int) -> str:
        """``n`` random words."""
        return " ".join(self.rng.choice(WORDS) for _ in range(n))


def make_users(g: Gen, instance: str) -> list[dict[str, Any]]:
    """A few dozen users (mostly ACTIVE) with roles in ``instance``."""
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
        # Users made in the admin UI carry the audit names the recordings show.
        admin = "Admin User" if n else None
        users.append(
            user_record(uid, g.uid(), ts, ts, values, created_by_name=admin, updated_by_name=admin)
        )
    return users


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
    name = f"{author['firstName']} {author['lastName']}"
    rec = patient_record(g.uid(), format_ms(updated), author["id"], name, values)
    rec["createdAt"] = format_ms(created)
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
