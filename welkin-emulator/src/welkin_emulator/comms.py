"""Builders for the messages exchanged with patients: SMS, email, chat, voice calls.

Chat follows the recordings (``sender {clientType, id, titleName, patientFullName}``, ``message``,
``externalId "IM…"``, ``createdAt``). SMS and email lists were recorded empty, so their items
follow the field list of Welkin's V8 documentation; voice calls were never recorded or
documented beyond their export type (``VOICE_CALL``): their shape is the emulator's own. Every
stored item also carries ``id``, ``patientId``, ``createdAt`` and ``updatedAt`` (what an export
record needs, spec §11.1).
"""

from __future__ import annotations

from typing import Any

from .items import ItemKeys

SMS, EMAIL, CHAT, VOICE_CALL = "SMS", "EMAIL", "CHAT_MESSAGE", "VOICE_CALL"
MESSAGE_KEYS = ItemKeys()
CHAT_KEYS = ItemKeys(name="externalId")
# What the chat routes show of a stored message (recorded key set).
CHAT_VIEW_KEYS = ("sender", "message", "externalId", "createdAt")


def _common(  # noqa: PLR0917
    mid: str,
    patient_id: str,
    ts: str,
    direction: str,
    status: str,
    sender_name: str | None,
    receiver_name: str | None,
) -> dict[str, Any]:
    return {
        "id": mid,
        "patientId": patient_id,
        "externalId": None,
        "direction": direction,
        "status": status,
        "senderName": sender_name,
        "receiverName": receiver_name,
        "sendNow": True,
        "scheduledAt": None,
        "sentAt": ts if direction == "OUT" else None,
        "receivedAt": ts if direction == "IN" else None,
        "date": ts,
        "starred": False,
        "timezone": None,
        "createdAt": ts,
        "updatedAt": ts,
    }


def sms_record(  # noqa: PLR0917
    mid: str,
    patient_id: str,
    ts: str,
    direction: str,
    phones: tuple[str, str],
    text: str,
    names: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """An SMS; ``phones`` and ``names`` are (sender, receiver)."""
    rec = _common(mid, patient_id, ts, direction, "DELIVERED", *names)
    rec.update({"from": phones[0], "to": phones[1], "message": text, "parts": 1})
    return rec


def email_record(  # noqa: PLR0917
    mid: str,
    patient_id: str,
    ts: str,
    direction: str,
    addresses: tuple[str, str],
    subject: str,
    body: str,
    names: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """An email; ``addresses`` and ``names`` are (sender, receiver)."""
    rec = _common(mid, patient_id, ts, direction, "SENT", *names)
    rec.update(
        {
            "from": addresses[0],
            "to": addresses[1],
            "subject": subject,
            "body": body,
            "secure": False,
            "attachments": [],
        }
    )
    return rec


def voice_call_record(  # noqa: PLR0917
    cid: str,
    patient_id: str,
    user_id: str,
    start: str,
    end: str,
    seconds: int,
    direction: str,
) -> dict[str, Any]:
    """A voice call between a user and a patient (the emulator's own shape)."""
    return {
        "id": cid,
        "patientId": patient_id,
        "userId": user_id,
        "direction": direction,
        "status": "COMPLETED" if seconds else "NO_ANSWER",
        "startedAt": start,
        "endedAt": end,
        "duration": seconds,
        "createdAt": start,
        "updatedAt": end,
    }


def chat_party(
    client_type: str, pid: str, title: str | None, patient_name: str | None
) -> dict[str, Any]:
    """A chat ``sender``/``receiver`` (recorded key set)."""
    return {
        "clientType": client_type,
        "id": pid,
        "titleName": title,
        "patientFullName": patient_name,
    }


def chat_message(  # noqa: PLR0917
    external_id: str,
    patient_id: str,
    ts: str,
    text: str,
    sender: dict[str, Any],
    receiver: dict[str, Any] | None,
) -> dict[str, Any]:
    """A stored chat message: the recorded keys plus id, patientId, receiver and updatedAt."""
    return {
        "id": external_id,
        "patientId": patient_id,
        "sender": sender,
        "receiver": receiver,
        "message": text,
        "externalId": external_id,
        "createdAt": ts,
        "updatedAt": ts,
    }


def chat_view(stored: dict[str, Any], *, with_receiver: bool) -> dict[str, Any]:
    """A message as the chat routes show it.

    Recorded: the chat list has no ``receiver``; a search result has one on messages a user
    sent (to the patient), none on the patient's own.
    """
    out = {k: stored[k] for k in CHAT_VIEW_KEYS}
    if with_receiver and stored.get("receiver") is not None:
        out = {
            "sender": stored["sender"],
            "receiver": stored["receiver"],
            **{k: stored[k] for k in CHAT_VIEW_KEYS[1:]},
        }
    return out
