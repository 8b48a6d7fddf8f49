"""What to check when Welkin refuses the first calls of a run.

Welkin answers a wrong tenant, client or secret on the token call with 401, and an
instance the API client cannot reach with 403 on the first instance call; on their
own these read like a permission problem. The hints name the settings to check,
never their values.
"""

from __future__ import annotations

import typing as t

from welkin_client.errors import (
    WelkinAPIError,
    WelkinAuthError,
    WelkinForbidden,
    WelkinNotFound,
    describe,
    error_code_of,
)

if t.TYPE_CHECKING:
    import requests

TOKEN_HINTS = {
    401: (
        "Welkin refused the API client's secret (or its name). Check secret_key and api_client; "
        "Welkin answers a tenant that does not exist the same way, so check tenant too"
    ),
    403: "Welkin will not issue this API client a token: check that it is enabled in Welkin Admin",
    404: (
        "no token route answers here: check tenant, and api_url or environment "
        "(the host may not be a Welkin API, or api_url has an extra path)"
    ),
}
FIRST_CALL_HINTS = {
    401: "Welkin refused a token it had just issued: check tenant and api_client",
    403: (
        "the API client may not use this instance: check instance (Welkin answers an "
        "instance that does not exist, or that the client may not reach, with 403) and the "
        "client's permissions in Welkin Admin"
    ),
    404: "no such route on this instance: check instance, and that api_url has no extra path",
}
_KINDS: dict[int, type[WelkinAPIError]] = {
    401: WelkinAuthError,
    403: WelkinForbidden,
    404: WelkinNotFound,
}


def token_refusal(response: requests.Response, route: str) -> WelkinAPIError:
    """The error for a token call that got no token: what Welkin said and what to check."""
    code, _ = error_code_of(response)
    status = response.status_code
    said = describe(response, code, None).rsplit(" on ", 1)[0]
    hint = TOKEN_HINTS.get(status, "check tenant, api_client and secret_key")
    kind = _KINDS.get(status, WelkinAuthError)
    return kind(f"{said} on {route}: {hint}.", status=status, error_code=code)


def first_call_refusal(error: WelkinAPIError) -> WelkinAPIError:
    """``error`` with a hint when it is a 401/403/404 on a run's first instance call.

    A 404 with an ``errorCode`` (``PATIENT_NOT_FOUND``) is an answer about a record,
    not about the settings: only Welkin's bare 404 of an unknown route gets the hint.
    """
    hint = FIRST_CALL_HINTS.get(error.status or 0)
    if hint is None or (error.status == 404 and error.error_code):  # noqa: PLR2004
        return error
    return type(error)(
        f"{error}: {hint}.", status=error.status, error_code=error.error_code, field=error.field
    )
