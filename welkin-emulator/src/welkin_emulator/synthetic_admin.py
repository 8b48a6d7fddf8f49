"""Synthetic calendar and admin data for the seeder: users' work hours, webhook deliveries."""

from __future__ import annotations

from typing import Any

import orjson

from .formations import TEMPLATES_BY_NAME
from .synthetic import BASE_MS, SPAN_MS
from .synthetic_care import CareSeeder, Row
from .timeutil import format_local, format_ms


def seed_work_hours(care: CareSeeder, users: list[dict[str, Any]]) -> None:
    """Each active user's working hours; every other user also has availability rules
    limited to some encounter templates (recorded 2026 shapes).
    """
    for n, user in enumerate(users):
        if user["userState"] != "ACTIVE":
            continue
        tz = user.get("timezone")
        for kind in ("WORKING_HOURS", "AVAILABILITY")[: 1 + n % 2]:
            _, ts = care._ts()
            start = BASE_MS + care.rng.randrange(SPAN_MS) // 86_400_000 * 86_400_000
            end = start + (365 + care.rng.randrange(3650)) * 86_400_000 - 1
            rule: dict[str, Any] = {
                "createdAt": ts,
                "updatedAt": ts,
                "createdBy": user["id"],
                "updatedBy": user["id"],
                "name": None,
                "type": kind,
                "ruleType": "DEFAULT",
                "startDateTime": format_ms(start),
                "endDateTime": format_ms(end),
                "localStartDateTime": format_local(start, tz),
                "localEndDateTime": format_local(end, tz),
                "daysInfo": [
                    {
                        "startTime": "09:00:00",
                        "endTime": "17:00:00",
                        "day": day,
                        "daysInfoId": care.g.uid(),
                    }
                    for day in range(1, 6)
                ],
            }
            if kind == "AVAILABILITY":
                rule["encounters"] = sorted(TEMPLATES_BY_NAME)[:2]
            rule["workHoursId"] = care.g.uid()
            care.items.append(
                (
                    care.tenant,
                    care.instance,
                    "WORK_HOURS",
                    rule["workHoursId"],
                    None,
                    user["id"],
                    None,
                    ts,
                    ts,
                    orjson.dumps(rule).decode(),
                )
            )


def seed_webhooks(care: CareSeeder, patient_ids: list[str], count: int) -> list[Row]:
    """``count`` webhook delivery attempts (rows of ``webhook_deliveries``), oldest first."""
    hooks = [
        ("wh-calendar-change", "Calendar Change", "CALENDAR", "CALENDAR_EVENT"),
        ("wh-patient-change", "Patient Change", "PATIENT", "PATIENT"),
        ("wh-cdt-change", "CDT Change", "CDT", "CDT"),
    ]
    rows = []
    for _ in range(count):
        name, title, entity, prefix = hooks[care.rng.randrange(len(hooks))]
        ok = care.rng.random() < 0.9
        _, ts = care._ts()
        body = {
            "id": care.g.uid(),
            "sentAt": ts,
            "eventEntity": entity,
            "instance": care.instance,
            "patientId": patient_ids[care.rng.randrange(len(patient_ids))] if patient_ids else None,
            "status": "DELIVERED" if ok else "FAILED",
            "statusCode": "OK" if ok else "INTERNAL_SERVER_ERROR",
            "response": "Message stored." if ok else "<html><body>Server error</body></html>",
            "eventSubtype": f"{prefix}_{care.rng.choice(('CREATED', 'UPDATED'))}",
            "record": {
                "name": name,
                "title": title,
                "url": "https://hooks.example.com/welkin/webhook",
                "headers": [],
                "queryParameters": [],
                "payload": {
                    "customFields": [],
                    "predefinedFields": [
                        "INSTANCE_NAME",
                        "TENANT_NAME",
                        "EVENT_SUBTYPE",
                        "PATIENT_ID",
                    ],
                },
                "active": True,
                "enabled": True,
            },
        }
        rows.append((care.tenant, care.instance, body["status"], ts, orjson.dumps(body).decode()))
    return sorted(rows, key=lambda r: r[3])
