"""Encounters: ``POST``/``PATCH`` under ``patients/{patientId}/encounters``.

A record is an encounter as Welkin (and tap-welkin) shows it: the CDT-style
envelope with the fields in ``jsonBody``, or those fields at the top level.
On create the scheduled appointment goes along (Welkin creates its calendar
event); the status Welkin sets on create (DRAFT) is patched right after when
the record says otherwise.
"""

from __future__ import annotations

from target_welkin.client import EncountersApi
from target_welkin.payload import FieldSpec
from target_welkin.references import EncounterEvent, EventReferences
from target_welkin.sinks.base import WelkinSink
from target_welkin.sinks.cdts import CDT_ENVELOPE

TEXT = FieldSpec("text")

ENCOUNTER_FIELDS = {
    **dict.fromkeys(
        (
            "title",
            "description",
            "notes",
            "templateName",
            "status",
            "external_id",
            "external_guid",
            "calendarEventId",
        ),
        TEXT,
    ),
    "currentScheduledAppointment": FieldSpec("object"),
}

# Derived by Welkin from the template, the appointment and the users involved.
ENCOUNTER_READ_ONLY = CDT_ENVELOPE | {
    "type",
    "templateTitle",
    "instruction",
    "ownerUserId",
    "ownerUserName",
    "activeUserId",
    "activeUserName",
    "startDatetime",
    "endDatetime",
    "localStartDatetime",
    "localEndDatetime",
    "calendarEvent",
    "calendarEventStartDatetime",
    "localCalendarEventStartDatetime",
    "dispositionId",
    "local_created_at",
    "local_updated_at",
    "patientInfo",
}


class EncountersSink(WelkinSink):
    """Welkin encounters of patients, matched by external_id or external_guid within the patient."""

    resource = "encounters"
    api_class = EncountersApi  # type: ignore[assignment]
    fields = ENCOUNTER_FIELDS
    read_only = ENCOUNTER_READ_ONLY
    key_fields = ("external_id", "external_guid")
    source_id_field = "external_guid"
    parent_resource = "patients"
    create_only = frozenset({"currentScheduledAppointment"})
    # Welkin sets both on create (DRAFT, the appointment's event): patched right after.
    patch_only = frozenset({"status", "calendarEventId"})
    aliases = {"type": "templateName"}
    references = (EncounterEvent(), EventReferences("currentScheduledAppointment"))
