"""Pointers from one record to another Welkin resource (patients, users), and their resolution.

A record from another instance points at its patient or users by that
instance's ids; a record from an EHR feed points at its patient by an external
key. Either way the target must send this instance's Welkin id. A reference is
resolved through the id map first (no call), then by a lookup; an unknown
parent rejects the record with a reason that names the field, never the value.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from target_welkin.payload import FieldSpec, normalize
from target_welkin.rejects import Code, Operation, RecordRejected

Json = dict[str, t.Any]
# role of a calendar participant -> the resource its participantId points at
PARTICIPANT_RESOURCES = {"psm": "users", "patient": "patients"}
# what an event body keeps of each participant (the rest is Welkin's enrichment)
PARTICIPANT_FIELDS = ("participantId", "participantRole")
# Event fields Welkin accepts when an event is created (inside an encounter too).
EVENT_CREATE_FIELDS = (
    "eventType",
    "eventTitle",
    "eventDescription",
    "eventMode",
    "eventColor",
    "startDateTime",
    "endDateTime",
    "allDayEvent",
    "hostId",
    "timezone",
    "participants",
)

DATETIME = FieldSpec("datetime")
PLANNED = "(planned in this dry run)"
"""Stand-in Welkin id of a parent that a dry run would create."""

Resolver = t.Callable[[str, str, str, str], str]
"""``resolve(resource, key_field, value, field_name) -> Welkin id`` (raises RecordRejected)."""
Remember = t.Callable[[str, str, str], None]
"""``remember(resource, source id, Welkin id)``: record an id mapping."""


def lock_key(resource: str, key_field: str, value: str) -> str:
    """The scheduler key of one identity of a resource."""
    return f"{resource}|{key_field}={value}"


def unknown(field_name: str, what: str) -> RecordRejected:
    """The reject for a reference that leads nowhere."""
    return RecordRejected(
        f"field '{field_name}': no {what} in this Welkin instance matches it",
        operation=Operation.RESOLVE,
        error_code=Code.UNKNOWN_PARENT,
    )


class Reference:
    """A kind of pointer a sink's payloads hold; see :class:`EventReferences`."""

    def keys(self, payload: Json) -> list[str]:
        """Scheduler keys of every resource the payload points at."""
        raise NotImplementedError

    def resolve(self, payload: Json, resolve: Resolver) -> Json:
        """``payload`` with this instance's ids (a new dict)."""
        raise NotImplementedError

    def created(self, source: Json, created: Json, remember: Remember) -> None:
        """After a create: map what Welkin made along with it (an encounter's event)."""


@dataclass(frozen=True)
class EventReferences(Reference):
    """``hostId`` (a user) and ``participants[].participantId`` (user or patient by role).

    ``within`` names the object holding the event (``currentScheduledAppointment``
    of an encounter) or is empty for a calendar event record itself.
    """

    within: str = ""

    def _event(self, payload: Json) -> Json | None:
        event = payload.get(self.within) if self.within else payload
        return event if isinstance(event, dict) else None

    def _name(self, name: str) -> str:
        return f"{self.within}.{name}" if self.within else name

    def keys(self, payload: Json) -> list[str]:
        """Scheduler keys of every resource the event points at."""
        event = self._event(payload)
        if event is None:
            return []
        keys = []
        if isinstance(event.get("hostId"), str):
            keys.append(lock_key("users", "id", event["hostId"]))
        for item in event.get("participants") or []:
            resource = PARTICIPANT_RESOURCES.get(str(item.get("participantRole", "")).lower())
            if resource and isinstance(item.get("participantId"), str):
                keys.append(lock_key(resource, "id", item["participantId"]))
        return keys

    def resolve(self, payload: Json, resolve: Resolver) -> Json:
        """``payload`` with this instance's ids in the event (a new dict)."""
        event = self._event(payload)
        if event is None:
            return payload
        out = dict(event)
        if self.within:
            out = {k: v for k, v in out.items() if k in EVENT_CREATE_FIELDS}
        for name in ("startDateTime", "endDateTime"):
            if self.within and out.get(name) is not None:
                out[name] = normalize(self._name(name), DATETIME, out[name])
        if isinstance(out.get("hostId"), str):
            out["hostId"] = resolve("users", "id", out["hostId"], self._name("hostId"))
        if isinstance(out.get("participants"), list):
            out["participants"] = [
                self._participant(item, index, resolve)
                for index, item in enumerate(out["participants"])
            ]
        return {**payload, self.within: out} if self.within else out

    def _participant(self, item: Json, index: int, resolve: Resolver) -> Json:
        name = self._name(f"participants[{index}].participantId")
        role = str(item.get("participantRole", ""))
        resource = PARTICIPANT_RESOURCES.get(role.lower())
        if resource is None or not isinstance(item.get("participantId"), str):
            raise RecordRejected(
                f"field '{name}': needs a participantId and a participantRole of psm or patient",
                operation=Operation.VALIDATE,
                error_code=Code.WRONG_TYPE,
                invalid=True,
            )
        kept = {k: item[k] for k in PARTICIPANT_FIELDS if k in item}
        kept["participantId"] = resolve(resource, "id", item["participantId"], name)
        return kept


class EncounterEvent(Reference):
    """An encounter's calendar event, which Welkin creates with the encounter.

    Copied from another instance, the event may already be here (tap-welkin
    sends calendar events first): the encounter is then linked to it by
    ``calendarEventId`` instead of creating a second event from the
    appointment. Otherwise the appointment goes along and the event Welkin
    creates is mapped to the source event, so the calendar stream updates it
    instead of duplicating it.
    """

    def keys(self, payload: Json) -> list[str]:
        """The source event's scheduler key (wait for its write)."""
        source = payload.get("calendarEventId")
        return [lock_key("calendar_events", "id", source)] if isinstance(source, str) else []

    def resolve(self, payload: Json, resolve: Resolver) -> Json:
        """Link to the event when it is here, else create it from the appointment."""
        source = payload.get("calendarEventId")
        if not isinstance(source, str):
            return payload
        try:
            event_id = resolve("calendar_events", "id", source, "calendarEventId")
        except RecordRejected:
            return {k: v for k, v in payload.items() if k != "calendarEventId"}
        linked = {k: v for k, v in payload.items() if k != "currentScheduledAppointment"}
        linked["calendarEventId"] = event_id
        return linked

    def created(self, source: Json, created: Json, remember: Remember) -> None:
        """Map the source event to the event Welkin created with the encounter."""
        body = created.get("jsonBody") or {}
        source_event, new_event = source.get("calendarEventId"), body.get("calendarEventId")
        if isinstance(source_event, str) and isinstance(new_event, str):
            remember("calendar_events", source_event, new_event)


NO_REFERENCES: tuple[Reference, ...] = ()


def resolve_all(payload: Json, references: t.Iterable[Reference], resolve: Resolver) -> Json:
    """Apply every reference of a sink to ``payload``."""
    for reference in references:
        payload = reference.resolve(payload, resolve)
    return payload


def reference_keys(payload: Json, references: t.Iterable[Reference]) -> list[str]:
    """Scheduler keys of every reference of ``payload``."""
    return [key for reference in references for key in reference.keys(payload)]
