"""Builders for the record shapes the API returns, with recorded key sets and key order.

Key sets follow the most recent recording of each resource. Patients: the 2023 records, with
``accessCode`` and ``preferableInstancePhoneId`` (null when unset) after the 2022 keys; a
``pointOfContact`` is null or ``{"id": <user id>, "pointOfContact": true}``. Users: a real
tenant's list (July 2026), where optional attributes such as ``firstName`` or ``phone`` are left
out while unset, ``territories[].territories`` holds territory names,
``fullTerritoriesAccessInstances`` appears on some users only and ``userAttributes`` is gone (the
2022 recordings still had it).
"""

from __future__ import annotations

from typing import Any

from .formations import SYSTEM_FIELDS, user_fields

# Patient keys in recorded order (CAS test_patient_create_birthdate).
PATIENT_KEYS = (
    "id", "externalGuid", "externalId", "mrn", "nric", "createdAt", "updatedAt", "createdBy",
    "updatedBy", "createdByName", "updatedByName", "firstName", "lastName", "middleName",
    "birthDate", "gender", "maritalStatus", "primaryLanguage", "secondaryLanguage", "email",
    "secondaryEmail", "phone", "primaryPhoneCapabilities", "secondaryPhone",
    "secondaryPhoneCapabilities", "country", "state", "city", "zip", "addressLine1",
    "addressLine2", "timezone", "patientTerritories", "careTeamMembers", "patientPrograms",
    "careTeam", "cadence", "patientRegion", "patientRegionTitle", "patientTerritory",
    "pointOfContact", "accessCode", "preferableInstancePhoneId",
)  # fmt: skip
# Keys the 2022 recordings of patients lack (some seeded patients lack them too).
PATIENT_2023_KEYS = ("accessCode", "preferableInstancePhoneId")
PATIENT_LIST_KEYS = frozenset(
    {"primaryPhoneCapabilities", "secondaryPhoneCapabilities", "patientTerritories",
     "careTeamMembers", "patientPrograms", "careTeam", "cadence"}
)  # fmt: skip
PATIENT_DEFAULTS: dict[str, Any] = {
    "gender": "UNKNOWN",
    "maritalStatus": "UKN",
    "primaryLanguage": "ENGLISH",
}
PATIENT_READ_ONLY = frozenset(
    {"id", "createdAt", "updatedAt", "createdBy", "updatedBy", "createdByName", "updatedByName",
     "patientPrograms", "careTeam", "patientRegionTitle", "pointOfContact", "accessCode",
     "preferableInstancePhoneId"}
)  # fmt: skip


def point_of_contact(user_id: str | None) -> dict[str, Any] | None:
    """A patient's ``pointOfContact``: null, or the user's id with ``pointOfContact: true``."""
    return {"id": user_id, "pointOfContact": True} if user_id else None


def audit_name(client_name: str) -> str:
    """How Welkin names an API client in audit fields (recorded: ``API_CLIENT:LEEZSZRXSIOM``)."""
    return f"API_CLIENT:{client_name}"


def patient_record(
    pid: str, ts: str, actor_id: str, actor_name: str, values: dict[str, Any]
) -> dict[str, Any]:
    """A new patient with server defaults filled in (``createdAt == updatedAt``)."""
    rec: dict[str, Any] = {}
    for key in PATIENT_KEYS:
        if key in PATIENT_LIST_KEYS:
            rec[key] = []
        else:
            rec[key] = PATIENT_DEFAULTS.get(key)
    rec.update({k: v for k, v in values.items() if k in rec})
    rec.update(
        id=pid,
        createdAt=ts,
        updatedAt=ts,
        createdBy=actor_id,
        updatedBy=actor_id,
        createdByName=actor_name,
        updatedByName=actor_name,
    )
    for key, default in PATIENT_DEFAULTS.items():
        if rec[key] is None:
            rec[key] = default
    return rec


USER_OPTIONAL = ("phone", "timezone", "locale", "firstName", "lastName", "credentials")
USER_WRITABLE = frozenset(
    {"username", "email", "timezone", "locale", "firstName", "lastName", "credentials", "phone",
     "userState", "enabled", "seatAssignAllowed", "allowedToReceiveCalls", "customUserAttributes",
     "userAttributes", "mfaEnabled", "ssoAccess", "passwordAccess", "terminologyName"}
)  # fmt: skip


def user_record(
    uid: str,
    access_id: str,
    created_at: str,
    updated_at: str,
    values: dict[str, Any],
    *,
    created_by_name: str | None = None,
    updated_by_name: str | None = None,
) -> dict[str, Any]:
    """A user in recorded key order; null optional attributes are omitted, as recorded."""
    rec: dict[str, Any] = {
        "territories": values.get("territories", []),
        "fullTerritoriesAccessInstances": values.get("fullTerritoriesAccessInstances"),
        "roles": values.get("roles", []),
        "policies": values.get("policies", []),
        "seats": values.get("seats", []),
        "seatAssignAllowed": values.get("seatAssignAllowed", False),
        "applicationAccess": {
            "id": access_id,
            "createdAt": created_at,
            "updatedAt": created_at,
            "userId": uid,
            "adminAccessEnabled": False,
            "auditSecurityAccessEnabled": False,
            "instanceAccesses": values.get("instanceAccesses", []),
        },
        "createdByName": created_by_name,
        "updatedByName": updated_by_name,
        "id": uid,
        "username": values["username"],
        "email": values.get("email"),
    }
    for key in USER_OPTIONAL:
        rec[key] = values.get(key)
    rec.update(
        {
            "enabled": values.get("enabled", False),
            "mfaEnabled": values.get("mfaEnabled", False),
            "statusType": None,
            "createdAt": created_at,
            "updatedAt": updated_at,
            "ssoAccess": values.get("ssoAccess", False),
            "passwordAccess": values.get("passwordAccess", True),
            "terminologyName": values.get("terminologyName", "english"),
            "userState": values.get("userState", "PROVISIONED"),
            "customUserAttributes": values.get("customUserAttributes", {}),
            "allowedToReceiveCalls": values.get("allowedToReceiveCalls", False),
            "userAttributes": values.get("userAttributes"),  # only if a client wrote one
            "_root_user": False,
        }
    )
    return prune_user(rec)


# Key order of the real tenant's list (2026): territories, fullTerritoriesAccessInstances, roles...
USER_KEY_ORDER = (
    "territories", "fullTerritoriesAccessInstances", "roles", "policies", "seats",
    "seatAssignAllowed", "applicationAccess",
    "createdByName", "updatedByName", "id", "username", "email", *USER_OPTIONAL, "enabled",
    "mfaEnabled", "statusType", "createdAt", "updatedAt", "ssoAccess", "passwordAccess",
    "terminologyName", "userState", "customUserAttributes", "allowedToReceiveCalls",
    "userAttributes", "_root_user",
)  # fmt: skip


# Left out while unset (the real list has no nulls for them).
USER_ABSENT_WHEN_NULL = (
    "createdByName", "updatedByName", *USER_OPTIONAL, "fullTerritoriesAccessInstances",
    "userAttributes",
)  # fmt: skip


def prune_user(rec: dict[str, Any]) -> dict[str, Any]:
    """Drop the optional user attributes that are null (recorded) and restore key order."""
    for key in USER_ABSENT_WHEN_NULL:
        if rec.get(key) is None:
            rec.pop(key, None)
    ordered = {k: rec[k] for k in USER_KEY_ORDER if k in rec}
    ordered.update({k: v for k, v in rec.items() if k not in ordered})
    return ordered


def cdt_json_body(  # noqa: PLR0917
    cdt: dict[str, Any],
    rid: str,
    ts: str,
    actor_id: str,
    actor_name: str,
    values: dict[str, Any],
) -> dict[str, Any]:
    """``jsonBody`` of a new CDT record: system fields, then every field (null when unset)."""
    body: dict[str, Any] = {
        "id": rid,
        "external_id": values.get("external_id"),
        "external_guid": values.get("external_guid"),
        "created_at": ts,
        "created_by": actor_id,
        "created_by_name": actor_name,
        "updated_at": ts,
        "updated_by": actor_id,
        "updated_by_name": actor_name,
        "source_type": None,
        "source_name": None,
        "source_id": None,
    }
    for f in user_fields(cdt):
        body[f["name"]] = values.get(f["name"])
    return body


def cdt_envelope(  # noqa: PLR0917
    rid: str, patient_id: str, cdt_id: str | None, version: int | None, cdt_name: str | None,
    json_body: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The CDT envelope ``{id, patientId, cdtId, version, jsonBody, cdtName}`` (recorded order)."""
    return {
        "id": rid,
        "patientId": patient_id,
        "cdtId": cdt_id,
        "version": version,
        "jsonBody": json_body,
        "cdtName": cdt_name,
    }


SYSTEM_FIELD_NAMES = frozenset(n for n, _ in SYSTEM_FIELDS)


def participant(
    pid: str, participant_id: str, role: str, person: dict[str, Any] | None, is_patient: bool
) -> dict[str, Any]:
    """A calendar participant enriched from the user or patient record (recorded key set)."""
    person = person or {}
    return {
        "id": pid,
        "participantId": participant_id,
        "participantRole": role,
        "participationStatus": "",
        "attended": False,
        "timezone": person.get("timezone"),
        "firstName": person.get("firstName"),
        "lastName": person.get("lastName"),
        "deleted": False,
        "hasAccess": False,
        "email": person.get("email"),
        "phone": person.get("phone"),
        "gender": person.get("gender") if is_patient else None,
        "birthDate": person.get("birthDate") if is_patient else None,
        # Recorded: psm participants show enabled true, patients null.
        "enabled": None if is_patient else True,
    }


CALENDAR_KEYS = (
    "id", "createdBy", "createdAt", "updatedBy", "updatedAt", "externalId",
    "externalIdUpdatedAt", "eventTitle", "eventDescription", "startDateTime",
    "localStartDateTime", "endDateTime", "localEndDateTime", "allDayEvent", "duration",
    "eventType", "eventStatus", "eventMode", "eventColor", "hostId", "timezone", "additionalInfo",
    "participants",
)  # fmt: skip
CALENDAR_WRITABLE = frozenset(
    {"externalId", "eventTitle", "eventDescription", "startDateTime", "endDateTime",
     "allDayEvent", "eventType", "eventStatus", "eventMode", "eventColor", "hostId", "timezone",
     "additionalInfo", "participants"}
)  # fmt: skip

ENCOUNTER_BODY_KEYS = (
    "id", "title", "description", "notes", "type", "templateName", "templateTitle", "status",
    "instruction", "ownerUserId", "ownerUserName", "activeUserId", "activeUserName",
    "startDatetime", "endDatetime", "localStartDatetime", "localEndDatetime", "calendarEventId",
    "calendarEvent", "currentScheduledAppointment", "calendarEventStartDatetime",
    "localCalendarEventStartDatetime", "dispositionId", "created_at", "created_by",
    "created_by_name", "updated_at", "updated_by", "updated_by_name", "local_created_at",
    "local_updated_at", "external_id", "external_guid", "source_type", "source_name", "source_id",
)  # fmt: skip
ENCOUNTER_STATUSES = ("DRAFT", "OPEN", "ACTIVE", "FINALIZED", "CANCELLED")
# Keys the user-scoped encounter list leaves out of jsonBody (recorded, spec §4.4).
USER_SCOPED_DROPPED = frozenset(
    {"id", "created_at", "updated_at", "created_by", "created_by_name", "updated_by",
     "updated_by_name", "external_id", "external_guid", "source_type", "source_name", "source_id"}
)  # fmt: skip
