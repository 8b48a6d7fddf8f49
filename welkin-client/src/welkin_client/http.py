"""A small synchronous Welkin client for code that is not a singer-sdk ``RESTStream``.

The target writes with it, and the tap reads Designer formations with it. It is
assembled from the same pieces the tap's streams use (session, token manager,
retry policy, classification), so there is one behaviour for both plugins.
"""

from __future__ import annotations

import logging
import typing as t

from welkin_client.auth import WelkinTokenManager, check_response
from welkin_client.errors import WelkinAPIError
from welkin_client.hints import first_call_refusal
from welkin_client.pagination import response_body
from welkin_client.ratelimit import RateBudget, token_budget
from welkin_client.retry import with_retries
from welkin_client.session import WelkinSession
from welkin_client.settings import base_url_from_config

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import requests

    from welkin_client.pagination import WelkinPaginator

LOGGER = logging.getLogger("welkin_client")
T = t.TypeVar("T")


class WelkinClient:
    """Authenticated, budgeted, retrying access to one Welkin tenant and instance."""

    def __init__(
        self,
        config: Mapping[str, t.Any],
        *,
        user_agent: str = "welkin-client",
        pool_size: int = 10,
    ) -> None:
        """Build the client from a tap or target config (see ``settings.CONNECTION_PROPERTIES``)."""
        self.base_url = base_url_from_config(config)
        self.tenant = str(config["tenant"])
        self.instance = str(config["instance"])
        self.timeout = float(config.get("request_timeout") or 60)
        self.max_tries = int(config.get("max_retries") or 6)
        api_client = str(config["api_client"])
        # Welkin's limits are per API client: one budget per API host, tenant and client.
        scope = f"{self.base_url}|{self.tenant}|{api_client}"
        backend_url = config.get("rate_limit_backend_url") or None
        self.budget = RateBudget(
            float(config.get("max_requests_per_second") or 0), backend_url=backend_url, scope=scope
        )
        self.session = WelkinSession(
            self.budget,
            user_agent=str(config.get("user_agent") or user_agent),
            pool_size=pool_size,
        )
        self.tokens = WelkinTokenManager(
            self.session,
            base_url=self.base_url,
            tenant=self.tenant,
            api_client=api_client,
            secret_key=str(config["secret_key"]),
            timeout=self.timeout,
            max_tries=self.max_tries,
            budget=token_budget(backend_url=backend_url, scope=scope),
        )
        # Until one instance call succeeds, a 401/403/404 most likely means a wrong setting.
        self._reached = False

    def url(self, path: str, *, admin: bool = False) -> str:
        """Absolute URL of an instance path (``patients/…``) or, with ``admin``, a tenant path."""
        scope = "admin" if admin else self.instance
        return f"{self.base_url}/{self.tenant}/{scope}/{path.lstrip('/')}"

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, t.Any] | None = None,
        json: t.Any = None,  # noqa: ANN401
        admin: bool = False,
    ) -> requests.Response:
        """One attempt: authenticate, send, classify. Raises on any failure."""
        response = self.session.request(
            method,
            self.url(path, admin=admin),
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {self.tokens.token}"},
            timeout=self.timeout,
        )
        try:
            check_response(response, self.tokens)
        except WelkinAPIError as refused:
            if not self._reached:
                raise first_call_refusal(refused) from None
            raise
        self._reached = True
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, t.Any] | None = None,
        json: t.Any = None,  # noqa: ANN401
        admin: bool = False,
    ) -> requests.Response:
        """:meth:`send` with the shared retry policy (for idempotent calls)."""
        return self.retrying(lambda: self.send(method, path, params=params, json=json, admin=admin))

    def retrying(self, attempt: t.Callable[[], T]) -> T:
        """Run ``attempt`` under the shared retry policy.

        Non-idempotent callers (creates) pass an attempt that first checks whether
        an earlier, ambiguous attempt already landed.
        """
        return with_retries(attempt, max_tries=self.max_tries)

    def paginate(
        self,
        path: str,
        paginator: WelkinPaginator,
        *,
        params: Mapping[str, t.Any] | None = None,
        method: str = "GET",
        json: t.Any = None,  # noqa: ANN401
        admin: bool = False,
        token_param: str = "page",  # noqa: S107 - a query parameter name
    ) -> Iterator[dict[str, t.Any]]:
        """Yield every record of a paged list, following the envelope's own end flag."""
        while not paginator.finished:
            page_params = dict(params or {})
            if paginator.current_value is not None:
                page_params[token_param] = paginator.current_value
            response = self.request(method, path, params=page_params, json=json, admin=admin)
            yield from paginator.records(response_body(response))
            paginator.advance(response)

    def close(self) -> None:
        """Close pooled connections (to Welkin and to a shared budget backend)."""
        self.session.close()
        self.budget.close()
        self.tokens.close()
