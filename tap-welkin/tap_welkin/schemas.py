"""JSON schemas of the core streams, with Welkin's own field names and shapes (spec section 4).

A field is typed as the real service's responses show it (the recordings, a real
tenant's user list, 2023+ patient records), or as Welkin's documentation states it.
A field whose shape no source shows (only ever null, or empty lists) is declared
open (``ANY``: any JSON value, null included) rather than guessed: a wrong type
breaks a user's load, an open one only costs a JSON column. Objects allow
additional properties, so a field Welkin adds later is passed through rather than
dropped; a key missing from a record stays missing.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

S = th.StringType
DT = th.DateTimeType
B = th.BooleanType
I = th.IntegerType  # noqa: E741 - mirrors S, B


def obj(*properties: th.Property[t.Any]) -> th.ObjectType:
    """An object that keeps unknown keys."""
    return th.ObjectType(*properties, additional_properties=True)


def open_object() -> th.ObjectType:
    """An object whose keys are Welkin's or a tenant's to choose (values of any type)."""
    return th.ObjectType(additional_properties=True)


#: Any JSON value: the shape no source shows.
ANY = th.CustomType({})


def open_list() -> th.ArrayType[t.Any]:
    """A list whose items no source shows (empty in every recording)."""
    return th.ArrayType(ANY)


AUDIT = (
    th.Property("createdAt", DT),
    th.Property("updatedAt", DT),
    th.Property("createdBy", S),
    th.Property("updatedBy", S),
)

PHASE = obj(
    th.Property("timestamp", DT),
    th.Property("createdBy", S),
    th.Property("createdByName", S),
    th.Property("name", S),
    th.Property("title", S),
    th.Property("description", S),
    th.Property("currentVersion", S),
    th.Property("deleted", B),
)

PATIENT_PROGRAM = obj(
    th.Property("id", S),
    th.Property("createdByName", S),
    th.Property("createdAt", DT),
    th.Property("updatedByName", S),
    th.Property("updatedAt", DT),
    th.Property("programName", S),
    th.Property("programTitle", S),
    th.Property("programDescription", S),
    th.Property("assigned", B),
    th.Property("patientId", S),
    th.Property("currentPhase", PHASE),
    th.Property("status", S),
    th.Property("compatibleWithCurrentVersion", B),
    th.Property("pathHistory", th.ArrayType(PHASE)),
)

PATIENT = obj(
    th.Property("id", S, required=True),
    th.Property("externalGuid", S),
    th.Property("externalId", S),
    th.Property("mrn", S),
    th.Property("nric", ANY),
    *AUDIT,
    th.Property("createdByName", S),
    th.Property("updatedByName", S),
    th.Property("firstName", S),
    th.Property("lastName", S),
    th.Property("middleName", S),
    # Welkin sends a date-time at midnight UTC.
    th.Property("birthDate", DT),
    th.Property("gender", S),
    th.Property("maritalStatus", S),
    th.Property("primaryLanguage", S),
    th.Property("secondaryLanguage", ANY),
    th.Property("email", S),
    th.Property("secondaryEmail", S),
    th.Property("phone", S),
    th.Property("primaryPhoneCapabilities", open_list()),
    th.Property("secondaryPhone", S),
    th.Property("secondaryPhoneCapabilities", open_list()),
    th.Property("country", S),
    th.Property("state", S),
    th.Property("city", S),
    th.Property("zip", S),
    th.Property("addressLine1", S),
    th.Property("addressLine2", S),
    th.Property("timezone", S),
    th.Property("patientTerritories", open_list()),
    th.Property("careTeamMembers", open_list()),
    th.Property("patientPrograms", th.ArrayType(PATIENT_PROGRAM)),
    th.Property("careTeam", open_list()),
    th.Property("cadence", open_list()),
    th.Property("patientRegion", ANY),
    th.Property("patientRegionTitle", ANY),
    th.Property("patientTerritory", ANY),
    # Null, or the user who is the patient's point of contact (real records, 2023+).
    th.Property("pointOfContact", obj(th.Property("id", S), th.Property("pointOfContact", B))),
    # 2023+ records; null in every source.
    th.Property("accessCode", ANY),
    th.Property("preferableInstancePhoneId", ANY),
).to_dict()

PARTICIPANT = obj(
    th.Property("id", S),
    th.Property("participantId", S),
    th.Property("participantRole", S),
    th.Property("participationStatus", S),
    th.Property("attended", B),
    th.Property("timezone", S),
    th.Property("firstName", S),
    th.Property("lastName", S),
    th.Property("deleted", B),
    th.Property("hasAccess", B),
    th.Property("email", S),
    th.Property("phone", S),
    th.Property("gender", S),
    th.Property("birthDate", DT),
    th.Property("enabled", B),
)

CALENDAR_EVENT_TYPE = obj(
    th.Property("id", S, required=True),
    *AUDIT,
    th.Property("externalId", S),
    th.Property("externalIdUpdatedAt", DT),
    th.Property("eventTitle", S),
    th.Property("eventDescription", S),
    th.Property("startDateTime", DT),
    # Local variants keep the offset of the event's time zone.
    th.Property("localStartDateTime", DT),
    th.Property("endDateTime", DT),
    th.Property("localEndDateTime", DT),
    th.Property("allDayEvent", B),
    th.Property("duration", I),
    th.Property("eventType", S),
    th.Property("eventStatus", S),
    th.Property("eventMode", S),
    th.Property("eventColor", S),
    th.Property("hostId", S),
    th.Property("timezone", S),
    th.Property("additionalInfo", ANY),
    th.Property("participants", th.ArrayType(PARTICIPANT)),
)
CALENDAR_EVENT = CALENDAR_EVENT_TYPE.to_dict()

CDT_ENVELOPE = (
    th.Property("id", S, required=True),
    th.Property("patientId", S),
    th.Property("cdtId", S),
    th.Property("cdtName", S),
    # The version of the CDT definition (formation), not of the record.
    th.Property("version", I),
    th.Property("createdAt", DT),
    th.Property("updatedAt", DT),
    # Set on a tombstone: the record was deleted in Welkin at this time (tap_welkin.deletes).
    th.Property("_sdc_deleted_at", DT),
)

ENCOUNTER_BODY = obj(
    th.Property("id", S),
    th.Property("title", S),
    th.Property("description", S),
    th.Property("notes", S),
    th.Property("type", S),
    th.Property("templateName", S),
    th.Property("templateTitle", S),
    th.Property("status", S),
    th.Property("instruction", S),
    th.Property("ownerUserId", S),
    th.Property("ownerUserName", S),
    th.Property("activeUserId", S),
    th.Property("activeUserName", S),
    th.Property("startDatetime", DT),
    th.Property("endDatetime", DT),
    th.Property("localStartDatetime", DT),
    th.Property("localEndDatetime", DT),
    th.Property("calendarEventId", S),
    th.Property("calendarEvent", CALENDAR_EVENT_TYPE),
    th.Property("currentScheduledAppointment", CALENDAR_EVENT_TYPE),
    th.Property("calendarEventStartDatetime", DT),
    th.Property("localCalendarEventStartDatetime", DT),
    th.Property("dispositionId", S),
    th.Property("created_at", DT),
    th.Property("created_by", S),
    th.Property("created_by_name", S),
    th.Property("updated_at", DT),
    th.Property("updated_by", S),
    th.Property("updated_by_name", S),
    th.Property("local_created_at", DT),
    th.Property("local_updated_at", DT),
    th.Property("external_id", S),
    th.Property("external_guid", S),
    th.Property("source_type", S),
    th.Property("source_name", S),
    th.Property("source_id", S),
    # User-scoped encounter lists only (spec 4.4).
    th.Property(
        "patientInfo",
        obj(th.Property("patientId", S), th.Property("firstName", S), th.Property("lastName", S)),
    ),
)

ENCOUNTER = obj(*CDT_ENVELOPE, th.Property("jsonBody", ENCOUNTER_BODY)).to_dict()

# Every CDT record, Welkin's envelope with jsonBody as one object (see streams/cdts.py).
CDT_RECORD = obj(*CDT_ENVELOPE, th.Property("jsonBody", open_object())).to_dict()

INSTANCE_SCOPED = (th.Property("instanceName", S),)

USER = obj(
    th.Property(
        "territories",
        th.ArrayType(
            obj(
                *AUDIT,
                th.Property("name", S),
                # Territory names ("All Territories"), a real tenant's list (2026).
                th.Property("territories", th.ArrayType(S)),
                *INSTANCE_SCOPED,
            )
        ),
    ),
    # Instance names, on some users only.
    th.Property("fullTerritoriesAccessInstances", th.ArrayType(S)),
    th.Property(
        "roles",
        th.ArrayType(
            obj(
                *AUDIT,
                th.Property("permissionName", S),
                *INSTANCE_SCOPED,
                th.Property("type", S),
                th.Property("primaryRole", B),
            )
        ),
    ),
    th.Property(
        "policies",
        th.ArrayType(
            obj(
                th.Property("createdAt", DT),
                th.Property("updatedAt", DT),
                th.Property("permissionName", S),
                *INSTANCE_SCOPED,
                th.Property("type", S),
                th.Property("effectiveDate", DT),
            )
        ),
    ),
    th.Property("seats", th.ArrayType(S)),
    th.Property("seatAssignAllowed", B),
    th.Property(
        "applicationAccess",
        obj(
            th.Property("id", S),
            th.Property("createdAt", DT),
            th.Property("updatedAt", DT),
            th.Property("userId", S),
            th.Property("adminAccessEnabled", B),
            th.Property("auditSecurityAccessEnabled", B),
            th.Property(
                "instanceAccesses",
                th.ArrayType(
                    obj(
                        th.Property("instanceId", S),
                        *INSTANCE_SCOPED,
                        th.Property("instanceDescription", S),
                        th.Property("userEmailWithInstanceDomain", S),
                        th.Property("workshopAccessEnabled", B),
                        th.Property("auditDataAccessEnabled", B),
                        th.Property("enabledTakenPersonally", B),
                    )
                ),
            ),
        ),
    ),
    th.Property("createdByName", S),
    th.Property("updatedByName", S),
    th.Property("id", S, required=True),
    th.Property("username", S),
    th.Property("email", S),
    th.Property("timezone", S),
    th.Property("locale", S),
    th.Property("firstName", S),
    th.Property("lastName", S),
    th.Property("credentials", S),
    th.Property("phone", S),
    th.Property("enabled", B),
    th.Property("mfaEnabled", B),
    th.Property("statusType", ANY),  # null in every source
    th.Property("createdAt", DT),
    th.Property("updatedAt", DT),
    th.Property("ssoAccess", B),
    th.Property("passwordAccess", B),
    th.Property("terminologyName", S),
    th.Property("userState", S),
    # Tenant-defined keys; values seen: strings and lists of strings.
    th.Property("customUserAttributes", open_object()),
    th.Property("allowedToReceiveCalls", B),
    # 2022 recordings only (gone from the 2026 list).
    th.Property("userAttributes", open_object()),
    th.Property("_root_user", B),
).to_dict()
