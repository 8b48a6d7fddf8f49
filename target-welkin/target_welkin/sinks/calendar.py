"""Calendar events: ``POST``/``PATCH calendar/events[/{id}]``, matched by externalId."""

from __future__ import annotations

from target_welkin.client import CalendarEventsApi
from target_welkin.payload import FieldSpec
from target_welkin.references import PARTICIPANT_FIELDS, EventReferences
from target_welkin.sinks.base import WelkinSink

TEXT = FieldSpec("text")

EVENT_FIELDS = {
    **dict.fromkeys(
        (
            "externalId",
            "eventTitle",
            "eventDescription",
            "eventType",
            "eventStatus",
            "eventMode",
            "eventColor",
            "hostId",
            "timezone",
        ),
        TEXT,
    ),
    "startDateTime": FieldSpec("datetime"),
    "endDateTime": FieldSpec("datetime"),
    "allDayEvent": FieldSpec("checkbox"),
    "additionalInfo": FieldSpec("any"),
    "participants": FieldSpec("object_list", item_keys=PARTICIPANT_FIELDS),
}

# Welkin derives these; sending local times is refused (a known "bad request").
EVENT_READ_ONLY = frozenset(
    {
        "createdBy",
        "createdAt",
        "updatedBy",
        "updatedAt",
        "externalIdUpdatedAt",
        "localStartDateTime",
        "localEndDateTime",
        "duration",
    }
)


class CalendarEventsSink(WelkinSink):
    """Calendar events; host and participants are resolved to this instance's users and patients."""

    resource = "calendar_events"
    api_class = CalendarEventsApi
    fields = EVENT_FIELDS
    read_only = EVENT_READ_ONLY
    key_fields = ("externalId",)
    source_id_field = "externalId"
    references = (EventReferences(),)
