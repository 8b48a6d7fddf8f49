"""Classification of Welkin responses, with messages that are safe to log.

A message names the status, the method, the route template and Welkin's
``errorCode`` (plus the offending field name for validation errors). It never
contains a response body, a concrete URL or a record value: Welkin echoes PHI
in bodies and URLs carry patient ids.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from welkin_client.paths import route_template

if t.TYPE_CHECKING:
    import requests

TOKEN_REJECTED_CODES = frozenset({"TOKEN_EXPIRED", "NOT_VALID_JSON_WEB_TOKEN"})
RETRIABLE_STATUSES = frozenset({408, 429})
# Keys of an error's ``details`` that name a field (never a value).
_FIELD_DETAIL_KEYS = ("field", "fieldName", "fields")


class WelkinAPIError(FatalAPIError):
    """A Welkin response that retrying will not fix."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        field: str | None = None,
    ) -> None:
        """Keep the classification facts next to the message."""
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.field = field


class WelkinAuthError(WelkinAPIError):
    """Credentials are wrong or the token was refused again right after a refresh."""


class TokenUnavailable(WelkinAuthError):
    """The token call failed on every attempt: no request can be authenticated.

    Fatal, so the request that needed the token is not retried around the token
    call's own retries (which would make ``max_retries`` squared token calls).
    """


class WelkinForbidden(WelkinAPIError):
    """The API client lacks a permission (403 ``ACCESS_FOR_API_CLIENT_RESTRICTED``)."""


class WelkinExportForbidden(WelkinForbidden):
    """403 on ``export/*``: the API client has no export permission."""


class WelkinNotFound(WelkinAPIError):
    """404: the resource does not exist (or no longer exists)."""


class WelkinRejected(WelkinAPIError):
    """400/409/422: Welkin refused the request as invalid."""


class WelkinConnectionError(FatalAPIError):
    """Welkin's host could not be reached within the retry budget (a fatal, one-line error).

    Not a ``WelkinAPIError``: no response came back, so nothing record-specific went wrong.
    """


class TokenRejected(RetriableAPIError):
    """401 with a token error code: refresh the token and try once more."""


def error_code_of(response: requests.Response) -> tuple[str | None, str | None]:
    """Return ``(errorCode, field name)`` from a Welkin error array, if any."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    first = body[0] if isinstance(body, list) and body else body
    if not isinstance(first, dict):
        return None, None
    code = first.get("errorCode")
    field = None
    details = first.get("details")
    if isinstance(details, dict):
        for key in _FIELD_DETAIL_KEYS:
            value = details.get(key)
            if isinstance(value, str):
                field = value
                break
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                field = ",".join(value)
                break
    return (code if isinstance(code, str) else None), field


def describe(response: requests.Response, error_code: str | None, field: str | None) -> str:
    """Build the PHI-safe one-line description of a failed response."""
    method = response.request.method if response.request is not None else "?"
    template = route_template(response.request.url or "") if response.request is not None else "?"
    reason = error_code or response.reason or HTTPStatus(response.status_code).phrase
    message = f"Welkin API {response.status_code} {reason} on {method} {template}"
    if field:
        message += f" (field: {field})"
    return message


def classify_response(response: requests.Response) -> None:
    """Raise the exception that fits a failed response; return for a success.

    Raises:
        TokenRejected: 401 with ``TOKEN_EXPIRED`` / ``NOT_VALID_JSON_WEB_TOKEN``.
        RetriableAPIError: 408, 429 and 5xx (the response is attached for ``Retry-After``).
        WelkinAuthError: any other 401.
        WelkinExportForbidden: 403 on an export route.
        WelkinForbidden: any other 403.
        WelkinNotFound: 404.
        WelkinRejected: other 4xx.
    """
    status = response.status_code
    if status < HTTPStatus.BAD_REQUEST:
        return
    code, field = error_code_of(response)
    message = describe(response, code, field)
    if status in RETRIABLE_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        raise RetriableAPIError(message, response)
    if status == HTTPStatus.UNAUTHORIZED:
        if code in TOKEN_REJECTED_CODES:
            raise TokenRejected(message, response)
        raise WelkinAuthError(message, status=status, error_code=code)
    if status == HTTPStatus.FORBIDDEN:
        is_export = "/export/" in (response.request.url or "") if response.request else False
        kind = WelkinExportForbidden if is_export else WelkinForbidden
        raise kind(message, status=status, error_code=code)
    if status == HTTPStatus.NOT_FOUND:
        raise WelkinNotFound(message, status=status, error_code=code)
    raise WelkinRejected(message, status=status, error_code=code, field=field)
