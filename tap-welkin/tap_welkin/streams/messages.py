"""Messages exchanged with patients: SMS, email, voice calls, chat, and patient contacts.

``SMS``, ``EMAIL`` and ``VOICE_CALL`` are Welkin's export names (spec 6); chat
messages and patient contacts are exportable per Welkin's documentation, which
does not name the types: ``CHAT_MESSAGE`` and ``PATIENT_CONTACT`` are this
project's. Chat messages are never edited: they replicate on ``createdAt``.
"""

from __future__ import annotations

import typing as t

from welkin_client.pagination import MetaInfoPaginator

from tap_welkin import schemas_care
from tap_welkin.pages import TokenPaginator
from tap_welkin.streams.kinds import ResourceStream


class SmsStream(ResourceStream):
    """SMS messages to and from patients."""

    name = "sms_messages"
    schema = schemas_care.SMS
    export_type = "SMS"
    list_path = "patients/{patientId}/sms"


class EmailsStream(ResourceStream):
    """Emails to and from patients."""

    name = "emails"
    schema = schemas_care.EMAIL
    export_type = "EMAIL"
    list_path = "patients/{patientId}/emails"


class VoiceCallsStream(ResourceStream):
    """Voice calls (no recording shows the per-patient list; its path follows SMS and email)."""

    name = "voice_calls"
    schema = schemas_care.VOICE_CALL
    export_type = "VOICE_CALL"
    list_path = "patients/{patientId}/voice-calls"


class ChatMessagesStream(ResourceStream):
    """In-app chat messages, archived ones included."""

    name = "chat_messages"
    schema = schemas_care.CHAT_MESSAGE
    primary_keys: t.ClassVar[tuple[str, ...]] = ("externalId",)  # type: ignore[misc]
    replication_key = "createdAt"
    export_type = "CHAT_MESSAGE"
    list_path = "patients/{patientId}/chat"
    list_paginator = TokenPaginator
    list_params = {"includeArchived": "true"}  # noqa: RUF012 - read-only
    size_param = "pageSize"
    page_param = "pageToken"


class PatientContactsStream(ResourceStream):
    """Each patient's contacts (family, caregivers, other providers)."""

    name = "patient_contacts"
    schema = schemas_care.PATIENT_CONTACT
    export_type = "PATIENT_CONTACT"
    list_path = "patients/{patientId}/contacts"
    list_paginator = MetaInfoPaginator
