"""Builders for calendar events and encounters (shared by the routes and the seeder)."""

from __future__ import annotations

from typing import Any

from .designer import ENCOUNTER_ASSESSMENT_CDT
from .formations import (
    DISPOSITION_CDT_ID,
    DISPOSITION_CDT_NAME,
    DISPOSITION_CDT_VERSION,
    DISPOSITION_FORMATION,
    ENCOUNTER_CDT_ID,
    ENCOUNTER_CDT_NAME,
    ENCOUNTER_CDT_VERSION,
    user_fields,
)
from .records import ENCOUNTER_BODY_KEYS, cdt_envelope, cdt_json_body
from .timeutil import format_local, format_ms, parse_instant


def calendar_event(  # noqa: PLR0917
    eid: str,
    created_at: str,
    actor_id: str,
    start_ms: int,
    end_ms: int,
    values: dict[str, Any],
    participants: list[dict[str, Any]],
) -> dict[str, Any]:
    """A calendar event in recorded key order (``createdAt == updatedAt`` when new)."""
    tz = values.get("timezone")
    return {
        "id": eid,
        "createdBy": actor_id,
        "createdAt": created_at,
        "updatedBy": actor_id,
        "updatedAt": created_at,
        "externalId": values.get("externalId"),
        "externalIdUpdatedAt": created_at,
        "eventTitle": values.get("eventTitle"),
        "eventDescription": values.get("eventDescription"),
        "startDateTime": format_ms(start_ms),
        "localStartDateTime": format_local(start_ms, tz),
        "endDateTime": format_ms(end_ms),
        "localEndDateTime": format_local(end_ms, tz),
        "allDayEvent": bool(values.get("allDayEvent", False)),
        "duration": max(0, (end_ms - start_ms) // 1000),
        "eventType": values.get("eventType"),
        "eventStatus": values.get("eventStatus"),
        "eventMode": values.get("eventMode"),
        "eventColor": values.get("eventColor"),
        "hostId": values.get("hostId"),
        "timezone": tz,
        "additionalInfo": values.get("additionalInfo"),
        "participants": participants,
    }


def person_name(user: dict[str, Any] | None) -> str | None:
    """``firstName + " " + lastName`` as the recorded ``ownerUserName`` ("Demo  User")."""
    if not user:
        return None
    return f"{user.get('firstName') or ''} {user.get('lastName') or ''}".strip() or user.get(
        "username"
    )


def encounter_body(  # noqa: PLR0917
    enc_id: str,
    ts_ms: int,
    actor_id: str,
    actor_name: str,
    values: dict[str, Any],
    event: dict[str, Any] | None,
    owner: dict[str, Any] | None,
    disposition_id: str,
) -> dict[str, Any]:
    """``jsonBody`` of a new encounter (status DRAFT unless given; recorded key set)."""
    ts = format_ms(ts_ms)
    local = format_local(ts_ms, None)
    start_ms = parse_instant(event["startDateTime"]) if event else None
    end_ms = parse_instant(event["endDateTime"]) if event else None
    template = values.get("templateName")
    body: dict[str, Any] = dict.fromkeys(ENCOUNTER_BODY_KEYS)
    body.update(
        id=enc_id,
        title=values.get("title"),
        description=values.get("description"),
        notes=values.get("notes"),
        type=template,
        templateName=template,
        templateTitle=None,  # recorded: null even for a known template
        status=values.get("status") or "DRAFT",
        instruction="",
        ownerUserId=owner["id"] if owner else (event or {}).get("hostId"),
        ownerUserName=person_name(owner),
        localStartDatetime=format_local(start_ms, None) if start_ms is not None else None,
        localEndDatetime=format_local(end_ms, None) if end_ms is not None else None,
        calendarEventId=event["id"] if event else None,
        calendarEvent=event,
        currentScheduledAppointment=event,
        calendarEventStartDatetime=format_ms(start_ms) if start_ms is not None else None,
        localCalendarEventStartDatetime=format_local(start_ms, None)
        if start_ms is not None
        else None,
        dispositionId=disposition_id,
        created_at=ts,
        created_by=actor_id,
        created_by_name=actor_name,
        updated_at=ts,
        updated_by=actor_id,
        updated_by_name=actor_name,
        local_created_at=local,
        local_updated_at=local,
        external_id=values.get("external_id"),
        external_guid=values.get("external_guid"),
    )
    return body


def encounter_envelope(enc_id: str, patient_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The encounter record: CDT envelope with ``cdtName "__encounter__"``."""
    return cdt_envelope(enc_id, patient_id, ENCOUNTER_CDT_ID, ENCOUNTER_CDT_VERSION,
                        ENCOUNTER_CDT_NAME, body)  # fmt: skip


def disposition_envelope(  # noqa: PLR0917
    disp_id: str, patient_id: str, encounter_id: str, ts: str, actor_id: str, actor_name: str
) -> dict[str, Any]:
    """The auto-created disposition of an encounter (``source_type ENCOUNTER``)."""
    body = cdt_json_body(DISPOSITION_FORMATION, disp_id, ts, actor_id, actor_name, {})
    body.update(source_type="ENCOUNTER", source_id=encounter_id)
    for f in user_fields(DISPOSITION_FORMATION):
        body.setdefault(f["name"], None)
    return cdt_envelope(disp_id, patient_id, DISPOSITION_CDT_ID, DISPOSITION_CDT_VERSION,
                        DISPOSITION_CDT_NAME, body)  # fmt: skip


def embed_event(body: dict[str, Any], event: dict[str, Any] | None) -> None:
    """Copy ``event`` (or nothing) into an encounter's ``jsonBody`` with the derived fields."""
    start = parse_instant(event["startDateTime"]) if event else None
    end = parse_instant(event["endDateTime"]) if event else None
    body.update(
        calendarEventId=event["id"] if event else None,
        calendarEvent=event,
        currentScheduledAppointment=event,
        calendarEventStartDatetime=event["startDateTime"] if event else None,
        localCalendarEventStartDatetime=format_local(start, None) if start is not None else None,
        localStartDatetime=format_local(start, None) if start is not None else None,
        localEndDatetime=format_local(end, None) if end is not None else None,
    )


def assessment_link(  # noqa: PLR0917
    link_id: str,
    patient_id: str,
    encounter_id: str,
    assessment: dict[str, Any],
    ts: str,
    actor_id: str,
    actor_name: str,
    *,
    from_template: bool,
) -> dict[str, Any]:
    """An encounter's assessment link: the CDT envelope of ``__encounter_assessment__``."""
    cdt = ENCOUNTER_ASSESSMENT_CDT
    body = cdt_json_body({"fields": []}, link_id, ts, actor_id, actor_name, {})
    body.update(
        source_type="ENCOUNTER",
        source_name=ENCOUNTER_CDT_NAME,
        source_id=encounter_id,
        assessmentName=assessment["name"],
        assessmentTitle=assessment["title"],
        assessmentRecordId=None,
        fromTemplate=from_template,
        relation="ASSESSMENT",
    )
    return cdt_envelope(link_id, patient_id, cdt["id"], cdt["version"], cdt["name"], body)
