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

from target_welkin.rejects import Code, Operation, RecordRejected

if t.TYPE_CHECKING:
    from collections.abc import Callable

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

Resolver = t.Callable[[str, str, str, str], str]
"""``resolve(resource, key_field, value, field_name) -> Welkin id`` (raises RecordRejected)."""


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


@dataclass(frozen=True)
class EventReferences:
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


NO_REFERENCES: tuple[EventReferences, ...] = ()


def resolve_all(payload: Json, references: t.Iterable[EventReferences], resolve: Resolver) -> Json:
    """Apply every reference of a sink to ``payload``."""
    for reference in references:
        payload = reference.resolve(payload, resolve)
    return payload


def reference_keys(payload: Json, references: t.Iterable[EventReferences]) -> list[str]:
    """Scheduler keys of every reference of ``payload``."""
    return [key for reference in references for key in reference.keys(payload)]


def first(items: t.Iterable[Json], key: Callable[[Json], str]) -> dict[str, Json]:
    """Items by their id (duplicates collapse)."""
    return {key(item): item for item in items}
