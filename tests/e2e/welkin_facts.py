"""What an emulator holds, read through the API (the oracle of the end-to-end tests)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from welkin_client import WelkinClient
from welkin_client.pagination import ExportCursorPaginator, SpringPagePaginator
from welkin_emulator.testing import EmulatorProcess

# Issue 13's resources: the emulator's record kind (its database's own count) → tap-welkin stream.
KIND_STREAMS = {
    "ASSESSMENT": "assessment_records",
    "ENCOUNTER_DISPOSITION": "encounter_dispositions",
    "ENCOUNTER_COMMENT": "encounter_comments",
    "ENCOUNTER_ASSESSMENT": "encounter_assessment_links",
    "PATIENT_PROGRAM": "patient_programs",
    "CARE_PLAN": "care_plans",
    "GOAL": "care_plan_goals",
    "TASK": "tasks",
    "DOCUMENT_SUMMARY": "document_summaries",
    "SMS": "sms_messages",
    "EMAIL": "emails",
    "VOICE_CALL": "voice_calls",
    "CHAT_MESSAGE": "chat_messages",
    "PATIENT_CONTACT": "patient_contacts",
    "WORK_HOURS": "work_hours",
}
# Streams with no export feed (one request per patient or encounter): opt-in.
OPT_IN_STREAMS = {"encounter_assessment_links", "care_plan_goals", "document_summaries"}
# The Designer configuration as data: stream → list under ``formations/current/``.
DESIGNER_STREAMS = {
    "assessment_templates": "assessments",
    "encounter_templates": "encounters",
    "document_types": "document-types",
    "custom_data_types": "cdts",
    "programs": "programs",
    "goal_templates": "goal-templates",
}


def client(url: str) -> WelkinClient:
    """A client for the emulator's default tenant, instance and API client."""
    return WelkinClient(
        {
            "api_url": url,
            "tenant": "demo",
            "instance": "sandbox",
            "api_client": "DEMOCLIENT",
            "secret_key": "demo-secret",
            "max_requests_per_second": 0,
        }
    )


def cdt_stream(cdt_name: str) -> str:
    """tap-welkin's stream name for a CDT."""
    return "cdt_" + re.sub(r"[^a-z0-9]+", "_", cdt_name.lower()).strip("_")


def exported(api: WelkinClient, resource: str) -> list[dict[str, Any]]:
    return list(
        api.paginate(
            f"export/{resource}",
            ExportCursorPaginator(None),
            params={"pageSize": 1000},
            token_param="start",
        )
    )


def stream_counts(url: str) -> dict[str, int]:
    """Records per tap-welkin stream that the emulator holds."""
    api = client(url)
    counts: dict[str, int] = {
        "patients": len(exported(api, "PATIENT")),
        "encounters": len(exported(api, "ENCOUNTER")),
        "calendar_events": len(exported(api, "CALENDAR_EVENT")),
    }
    users = api.request("GET", "users", admin=True, params={"size": 1}).json()
    counts["users"] = users["metaInfo"]["totalElements"]
    by_cdt = Counter(item["cdtName"] for item in exported(api, "CDT_RECORD"))
    for definition in api.request("GET", "formations/current/cdts").json():
        counts[cdt_stream(definition["name"])] = by_cdt.get(definition["name"], 0)
    api.close()
    return counts


def every_stream_counts(emulator: EmulatorProcess) -> dict[str, int]:
    """Records per stream of tap-welkin but the audit feeds: core, issue 13's, Designer's, opt-in."""
    counts = stream_counts(emulator.url)
    held = emulator.counts()
    counts.update({stream: held.get(kind, 0) for kind, stream in KIND_STREAMS.items()})
    api = client(emulator.url)
    for stream, route in DESIGNER_STREAMS.items():
        counts[stream] = len(api.request("GET", f"formations/current/{route}").json())
    api.close()
    counts["encounter_disposition_definition"] = 1  # one object per formation
    return counts


def patients(url: str) -> list[dict[str, Any]]:
    api = client(url)
    found = list(
        api.paginate(
            "by-filter/patients",
            SpringPagePaginator(),
            method="POST",
            json={},
            params={"size": 1000},
        )
    )
    api.close()
    return found
