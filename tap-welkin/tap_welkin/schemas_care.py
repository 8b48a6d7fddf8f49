"""JSON schemas of the patient-care streams: assessments, programs, care plans, documents, messages.

Typed as the real service's recorded responses show each field (spec 4.7-4.9);
where no source shows a shape, the field is open (``ANY``) and every object keeps
unknown keys (see ``schemas.py``). Export items always carry a top-level
``updatedAt`` (spec 11.1); ``patientId`` is added to records read per patient.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from tap_welkin.schemas import (
    ANY,
    AUDIT,
    CDT_ENVELOPE,
    DT,
    PATIENT_PROGRAM,
    B,
    I,
    S,
    obj,
    open_object,
)

ID = th.Property("id", S, required=True)
PATIENT_ID = th.Property("patientId", S)
NAMES = (th.Property("createdByName", S), th.Property("updatedByName", S))
DELETED = th.Property("_sdc_deleted_at", DT)

#: The system fields of every CDT-backed record's ``jsonBody`` (spec 4.3).
SYSTEM_FIELDS = (
    th.Property("id", S),
    th.Property("external_id", S),
    th.Property("external_guid", S),
    th.Property("created_at", DT),
    th.Property("created_by", S),
    th.Property("created_by_name", S),
    th.Property("updated_at", DT),
    th.Property("updated_by", S),
    th.Property("updated_by_name", S),
    th.Property("source_type", S),
    th.Property("source_name", S),
    th.Property("source_id", S),
)


def cdt_backed(*body: th.Property[t.Any]) -> dict[str, t.Any]:
    """A CDT-backed record: Welkin's envelope, ``jsonBody`` with system fields and ``body``."""
    return obj(*CDT_ENVELOPE, th.Property("jsonBody", obj(*SYSTEM_FIELDS, *body))).to_dict()


# Assessment records (spec 4.7, recorded create/read/update/answers). ``answers`` holds the
# system fields and one key per question, ``<cdt>__<cdtf>``, of the question's type.
ASSESSMENT_RECORD = obj(
    ID,
    *AUDIT,
    *NAMES,
    th.Property("finalizedDate", DT),
    th.Property("localFinalizedDate", DT),
    th.Property("localCreatedDate", DT),
    th.Property("localUpdatedDate", DT),
    th.Property("assessmentName", S),
    th.Property("assessmentTitle", S),
    th.Property("assessmentCdtName", S),
    th.Property("version", I),
    PATIENT_ID,
    th.Property("status", S),
    th.Property("answers", obj(*SYSTEM_FIELDS)),
    th.Property("scoring", open_object()),
    th.Property("folderId", ANY),
    th.Property("expirationDate", ANY),
    th.Property("questions", open_object()),
    th.Property("resolvedCdtValues", open_object()),
    th.Property("pfa", B),
    DELETED,
).to_dict()

# Dispositions (recorded GET/PATCH …/disposition): the tenant's disposition fields, open.
ENCOUNTER_DISPOSITION = cdt_backed(th.Property("notes", S))

# Encounter assessment links (recorded, bare array per encounter).
ENCOUNTER_ASSESSMENT_LINK = cdt_backed(
    th.Property("assessmentName", S),
    th.Property("assessmentTitle", S),
    th.Property("assessmentRecordId", S),
    th.Property("fromTemplate", B),
    th.Property("relation", S),
)

# Document summaries (recorded): metadata of the files, never their contents.
DOCUMENT_SUMMARY = cdt_backed(
    th.Property("type", S),
    th.Property(
        "files",
        th.ArrayType(
            obj(
                th.Property("id", S),
                th.Property("size", I),
                th.Property("storageKey", S),
                th.Property("contentType", S),
                th.Property("originalName", S),
            )
        ),
    ),
)

# Patient programs (recorded), unassigned programs (id null) left out.
PATIENT_PROGRAMS = PATIENT_PROGRAM.to_dict()

# Care plans (recorded GET …/care-plan): one per patient.
CARE_PLAN = obj(
    ID,
    th.Property("createdAt", DT),
    th.Property("updatedAt", DT),
    *NAMES,
    PATIENT_ID,
    th.Property(
        "patientOverview",
        obj(
            th.Property("createdAt", DT),
            th.Property("updatedAt", DT),
            *NAMES,
            th.Property("overview", S),
        ),
    ),
).to_dict()


def open_resource(*names: str, typed: tuple[th.Property[t.Any], ...] = ()) -> dict[str, t.Any]:
    """A resource no recording shows: key, patient, audit fields, ``typed``; ``names`` open.

    ``names`` are the fields the project's emulator gives the resource (after the goal
    template's keys and Welkin's documented field names); no source shows Welkin's own
    values, so each is open (any JSON value) and a missing one stays missing.
    """
    return obj(
        ID,
        PATIENT_ID,
        *AUDIT,
        *NAMES,
        *typed,
        *(th.Property(name, ANY) for name in names),
    ).to_dict()


# No recording shows a care plan goal, a task, a voice call, an encounter comment or a
# patient contact: their keys, patients and audit fields are Welkin's conventions (spec 4).
CARE_PLAN_GOAL = open_resource(
    "goalTemplateName", "goalName", "type", "priority", "status",
    typed=(th.Property("carePlanId", S),),
)  # fmt: skip
TASK = open_resource(
    "title", "description", "status", "priority", "dueDate", "completedAt", "assigneeUserId",
    typed=(th.Property("goalId", S),),
)  # fmt: skip
VOICE_CALL = open_resource("direction", "duration", "startedAt", "endedAt", "status", "userId")
ENCOUNTER_COMMENT = open_resource("comment", typed=(th.Property("encounterId", S),))
PATIENT_CONTACT = open_resource("firstName", "lastName", "relation", "phone", "email", "primary")

# SMS and email lists were recorded empty: the fields are SLATE's (spec 4.9), their
# shapes unknown except where the name says (timestamps, ids).
_MESSAGE = (
    th.Property("sendNow", ANY),
    th.Property("scheduledAt", DT),
    th.Property("sentAt", DT),
    th.Property("receivedAt", DT),
    th.Property("date", DT),
    th.Property("careTeam", ANY),
    th.Property("patientInfo", ANY),
    th.Property("timezone", ANY),
    th.Property("sender", ANY),
    th.Property("from", ANY),
    th.Property("receiver", ANY),
    th.Property("to", ANY),
    th.Property("direction", S),
    th.Property("externalId", ANY),
    th.Property("starred", ANY),
    th.Property("senderName", ANY),
    th.Property("receiverName", ANY),
    th.Property("status", ANY),
)
SMS = open_resource("message", "parts", typed=_MESSAGE)
EMAIL = open_resource("subject", "body", "secure", "attachments", typed=_MESSAGE)

_CHAT_PARTY = obj(
    th.Property("clientType", S),
    th.Property("id", S),
    th.Property("titleName", S),
    th.Property("patientFullName", S),
)
# Chat messages (recorded): no id; ``externalId`` ("IM…") is the key.
CHAT_MESSAGE = obj(
    th.Property("externalId", S, required=True),
    # Export items only (the emulator's): the per-patient list has no id.
    th.Property("id", S),
    PATIENT_ID,
    th.Property("sender", _CHAT_PARTY),
    th.Property("receiver", _CHAT_PARTY),
    th.Property("message", S),
    th.Property("createdAt", DT),
    th.Property("updatedAt", DT),
).to_dict()

# Work hours (recorded 2026, spec 4.6): one rule per record, with the user (``psmId``) it is of.
# ``name`` was null in every recording: open. ``day`` 1 is Monday.
WORK_HOURS = obj(
    th.Property("workHoursId", S, required=True),
    th.Property("psmId", S),
    *AUDIT,
    th.Property("name", ANY),
    th.Property("type", S),
    th.Property("ruleType", S),
    th.Property("startDateTime", DT),
    th.Property("endDateTime", DT),
    th.Property("localStartDateTime", DT),
    th.Property("localEndDateTime", DT),
    # Encounter template names (recorded on one rule; null on the others).
    th.Property("encounters", th.ArrayType(S)),
    th.Property(
        "daysInfo",
        th.ArrayType(
            obj(
                th.Property("startTime", S),
                th.Property("endTime", S),
                th.Property("day", I),
                th.Property("daysInfoId", S),
            )
        ),
    ),
).to_dict()
