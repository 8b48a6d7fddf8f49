"""Welkin API tokens: fetched with the client secret, kept in memory only.

Welkin issues one-hour tokens from ``POST /{tenant}/admin/api_clients/{client}``
with ``{"secret": ...}``. We refresh before expiry (with a margin), and once when
Welkin answers 401 ``TOKEN_EXPIRED``/``NOT_VALID_JSON_WEB_TOKEN``. Welkin blocks a
client for five minutes after more than 100 token requests in five minutes, so
token requests have their own budget that stays under that limit. A token call
that fails on all its ``max_retries`` attempts is fatal (``TokenUnavailable``):
the request that needed the token does not retry around it, so a dead token
endpoint costs ``max_retries`` calls, not ``max_retries`` squared.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import typing as t

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import RetriableAPIError

from welkin_client.errors import (
    RETRIABLE_STATUSES,
    TokenRejected,
    TokenUnavailable,
    WelkinAuthError,
    WelkinConnectionError,
    classify_response,
)
from welkin_client.hints import token_refusal
from welkin_client.ratelimit import Budget, token_budget
from welkin_client.retry import RETRIABLE_EXCEPTIONS, with_retries

if t.TYPE_CHECKING:
    from welkin_client.session import WelkinSession

LOGGER = logging.getLogger("welkin_client.auth")

DEFAULT_TOKEN_LIFETIME = 3600.0
# Named in errors instead of the URL (it carries the API client's name).
TOKEN_ROUTE = "POST /{tenant}/admin/api_clients/{clientName}"  # noqa: S105 - a route


def _jwt_lifetime(token: str) -> float | None:
    """Seconds until the JWT's ``exp``, if the token is a decodable JWT."""
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - header.payload.signature
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        return float(payload["exp"]) - time.time()
    except (ValueError, KeyError, TypeError):
        return None


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Leave a request unauthenticated."""
    return request


class WelkinTokenManager:
    """Fetches, caches and refreshes the bearer token of one API client.

    Thread-safe: concurrent writers share one token and at most one refresh runs at a time.
    """

    def __init__(
        self,
        session: WelkinSession,
        *,
        base_url: str,
        tenant: str,
        api_client: str,
        secret_key: str,
        timeout: float = 60,
        max_tries: int = 6,
        budget: Budget | None = None,
    ) -> None:
        """Prepare the manager; no request is made until a token is needed.

        ``budget`` limits token requests (default: this process's own, under Welkin's
        100 per 5 minutes); pass a shared one when many processes use the API client.
        """
        self._session = session
        self._url = f"{base_url}/{tenant}/admin/api_clients/{api_client}"
        self._secret = secret_key
        self._timeout = timeout
        self._max_tries = max_tries
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        # The token fetched because Welkin refused the previous one: if Welkin
        # refuses this one too, the credentials (not the token's age) are the problem.
        self._token_after_rejection: str | None = None
        self._budget = budget or token_budget()
        self.fetch_count = 0
        self._unavailable: str | None = None

    @property
    def token(self) -> str:
        """A valid token, fetching or refreshing it when it is missing or about to expire."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def on_rejected(self, sent_token: str | None) -> None:
        """React to a 401 token error for a request sent with ``sent_token``.

        Raises:
            WelkinAuthError: Welkin refused a token that was fetched right after
                a previous refusal, so retrying cannot help.
        """
        with self._lock:
            if sent_token is not None and sent_token == self._token_after_rejection:
                msg = (
                    "Welkin refused a freshly issued token (401). Check that the API client "
                    "is enabled and that tenant, instance and api_client are right."
                )
                raise WelkinAuthError(msg, status=401)
            if sent_token is None or sent_token == self._token:
                LOGGER.info("Welkin refused the current token; fetching a new one.")
                self._fetch()
                self._token_after_rejection = self._token

    def close(self) -> None:
        """Release the token budget's backend connection, if any."""
        self._budget.close()

    def _fetch(self) -> None:
        if self._unavailable is not None:
            # The token call already failed on every attempt: say so again at once
            # instead of another round of attempts per caller (writer threads).
            raise TokenUnavailable(self._unavailable)
        self._budget.acquire()
        try:
            response, token = with_retries(self._post, max_tries=self._max_tries)
        except WelkinConnectionError as exc:
            # Already one line naming the host, the attempts and what to check.
            self._unavailable = str(exc)
            raise TokenUnavailable(self._unavailable) from None
        except RETRIABLE_EXCEPTIONS as exc:
            # The token call's own retries are spent: the caller must not retry around it.
            self._unavailable = (
                f"Welkin's token call failed on all {self._max_tries} attempts (max_retries); "
                f"the last: {exc}"
            )
            raise TokenUnavailable(self._unavailable) from None
        if token is None:
            raise token_refusal(response, TOKEN_ROUTE)
        lifetime = _jwt_lifetime(token) or DEFAULT_TOKEN_LIFETIME
        # Refresh with a margin: five minutes, or a fifth of a short lifetime.
        margin = min(300.0, lifetime / 5)
        now = time.monotonic()
        self._token = token
        self._expires_at = now + lifetime
        self._refresh_at = now + lifetime - margin
        self.fetch_count += 1
        LOGGER.info("Fetched a Welkin API token valid for %d s.", lifetime)

    def _post(self) -> tuple[requests.Response, str | None]:
        """One token request: the response, and its token when Welkin answered with one.

        Raises:
            RetriableAPIError: a transient status, or a success whose body is not JSON
                or has no token (a truncated answer): retried like any other request.
        """
        response = self._session.post(
            self._url,
            json={"secret": self._secret},
            timeout=self._timeout,
            # Never the session's own auth (singer-sdk sets ``session.auth`` to the
            # bearer authenticator): it would ask this manager for a token while
            # its lock is held, a deadlock, and send a bearer token where none belongs.
            auth=_no_auth,
        )
        # Only transient failures are raised here (and retried); the caller
        # classifies the rest once, so a wrong secret fails at once.
        if response.status_code in RETRIABLE_STATUSES or response.status_code >= 500:  # noqa: PLR2004
            classify_response(response)
        if not response.ok:
            return response, None
        return response, self._token_of(response)

    def _token_of(self, response: requests.Response) -> str:
        """The token of a successful answer; the body itself is never quoted."""
        try:
            body = response.json()
        except ValueError:
            msg = f"Welkin token response {response.status_code} was not JSON on {TOKEN_ROUTE}"
            raise RetriableAPIError(msg, response) from None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            msg = f"Welkin token response {response.status_code} had no token on {TOKEN_ROUTE}"
            raise RetriableAPIError(msg, response)
        return token


class WelkinAuthenticator(APIAuthenticatorBase):
    """singer-sdk authenticator that sets the bearer token of a shared token manager."""

    def __init__(self, token_manager: WelkinTokenManager) -> None:
        """Wrap ``token_manager``; many streams can share one."""
        super().__init__()
        self.token_manager = token_manager

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set ``Authorization: Bearer <token>`` on each attempt, so retries use a fresh token."""
        request.headers["Authorization"] = f"Bearer {self.token_manager.token}"
        return request


def sent_token(response: requests.Response) -> str | None:
    """The bearer token a response's request was sent with."""
    header = response.request.headers.get("Authorization", "") if response.request else ""
    return header.removeprefix("Bearer ") or None


def check_response(response: requests.Response, tokens: WelkinTokenManager) -> None:
    """Classify ``response``; on a token refusal, refresh the token once before the retry.

    Raises:
        TokenRejected: (retriable) the token was refreshed; send the request again.
        WelkinAuthError: a freshly issued token was refused too.
        WelkinAPIError / RetriableAPIError: see :func:`welkin_client.errors.classify_response`.
    """
    try:
        classify_response(response)
    except TokenRejected:
        tokens.on_rejected(sent_token(response))
        raise
