"""Welkin's error bodies: always a JSON array of error objects.

Recorded shape: ``[{"errorCode", "componentType", "message", "details", "date"}]``; the 403
``ACCESS_FOR_API_CLIENT_RESTRICTED`` body has no ``date``. Messages and details never contain a
value sent by the client (only field names), so that patient data cannot leak into error bodies
or a client's logs.
"""

from __future__ import annotations

from typing import Any

from .timeutil import format_ms, now_ms


class ApiError(Exception):
    """An error answered with Welkin's JSON-array error body."""

    def __init__(
        self,
        status: int,
        code: str,
        component: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        with_date: bool = True,
        extra: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.component = component
        self.message = message
        self.details = details if details is not None else {}
        self.with_date = with_date
        self.extra = extra or []
        self.headers = headers or {}

    def body(self) -> list[dict[str, Any]]:
        """The JSON-array body."""
        item: dict[str, Any] = {
            "errorCode": self.code,
            "componentType": self.component,
            "message": self.message,
            "details": self.details,
        }
        if self.with_date:
            item["date"] = format_ms(now_ms())
        return [item, *self.extra]


def not_valid_jwt() -> ApiError:
    """401 for a missing, malformed or foreign token (recorded body)."""
    return ApiError(401, "NOT_VALID_JSON_WEB_TOKEN", "AUTH", "Not valid JWT")


def token_expired() -> ApiError:
    """401 for an expired token (recorded body)."""
    return ApiError(401, "TOKEN_EXPIRED", "AUTH", "Aws Jwt Token has expired")


def restricted(client_id: str, client_name: str, tenant: str, request_uri: str) -> ApiError:
    """403 ``ACCESS_FOR_API_CLIENT_RESTRICTED`` exactly as recorded (no ``date``)."""
    return ApiError(
        403,
        "ACCESS_FOR_API_CLIENT_RESTRICTED",
        "AUTH",
        "Access to this API is restricted for the APIClient",
        {
            "clientId": client_id,
            "clientName": client_name,
            "clientType": "API_CLIENT",
            "organizationName": tenant,
            "requestURI": request_uri,
        },
        with_date=False,
    )


def dt_record_not_found() -> ApiError:
    """404 for a missing CDT record or encounter (recorded body, empty details)."""
    return ApiError(404, "DT_RECORD_NOT_FOUND", "CDT", "DT record not found")


def user_not_found() -> ApiError:
    """404 for an unknown user (recorded body)."""
    return ApiError(404, "USER_NOT_FOUND", "USER", "User doesn't exist")


def patient_not_found() -> ApiError:
    """404 for an unknown patient (message as matched by django-welkin; code inferred)."""
    return ApiError(404, "PATIENT_NOT_FOUND", "PATIENT", "Patient not found")


def cdt_not_found() -> ApiError:
    """404 for an unknown CDT name (not recorded; shape follows the other 404s)."""
    return ApiError(404, "CDT_NOT_FOUND", "CDT", "CDT not found")


def calendar_event_not_found() -> ApiError:
    """404 for an unknown calendar event (not recorded; shape follows the other 404s)."""
    return ApiError(404, "CALENDAR_EVENT_NOT_FOUND", "CALENDAR", "Calendar event not found")


def validation_errors(component: str, problems: list[tuple[str, str]]) -> ApiError:
    """400 ``VALIDATION_ERROR``: one array item per ``(field, reason)``; never the value."""
    items: list[dict[str, Any]] = [
        {
            "errorCode": "VALIDATION_ERROR",
            "componentType": component,
            "message": f"Validation failed for field '{fname}': {reason}",
            "details": {"field": fname, "reason": reason},
            "date": format_ms(now_ms()),
        }
        for fname, reason in problems
    ]
    first = items[0]
    return ApiError(
        400,
        "VALIDATION_ERROR",
        component,
        first["message"],
        first["details"],
        extra=items[1:],
    )


def bad_request(component: str, message: str, details: dict[str, Any] | None = None) -> ApiError:
    """400 for malformed requests (unparseable JSON, missing required query parameters)."""
    return ApiError(400, "BAD_REQUEST", component, message, details or {})


def sms_not_found(sms_id: str) -> ApiError:
    """404 for an unknown SMS (recorded body: ``details {id}``)."""
    return ApiError(404, "SMS_NOT_FOUND", "SMS", "SMS was not found", {"id": sms_id})


def email_not_found(patient_id: str, email_id: str) -> ApiError:
    """404 for an unknown email (recorded body: ``details {patientId, id}``)."""
    return ApiError(404, "EMAIL_NOT_FOUND", "EMAIL", "Email is not found",
                    {"patientId": patient_id, "id": email_id})  # fmt: skip


def assessment_record_not_found(patient_id: str, record_id: str) -> ApiError:
    """404 for an unknown assessment record (recorded body)."""
    return ApiError(404, "ASSESSMENT_RECORD_NOT_FOUND", "ASSESSMENT",
                    "Assessment record for patient not found",
                    {"recordId": record_id, "patientId": patient_id})  # fmt: skip


def patient_program_not_found(details: dict[str, Any]) -> ApiError:
    """404 for a patient program (recorded: ``{id, patientId}`` or ``{programName, patientId,
    notStatus}``).
    """
    return ApiError(404, "PATIENT_PROGRAM_NOT_FOUND", "PATIENT_PROGRAM",
                    "Patient related to program doesn't exist", details)  # fmt: skip


def not_found(code: str, component: str, message: str, details: dict[str, Any]) -> ApiError:
    """A 404 the recordings never showed, shaped as the recorded ones (code named per resource)."""
    return ApiError(404, code, component, message, details)
