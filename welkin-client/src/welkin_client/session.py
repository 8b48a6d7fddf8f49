"""The HTTP session used for every Welkin request of a process."""

from __future__ import annotations

import logging
import typing as t
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from welkin_client.paths import route_template
from welkin_client.ratelimit import RateBudget

# urllib3 logs full URLs (patient ids) at DEBUG; keep it quiet whatever the root level.
logging.getLogger("urllib3").setLevel(logging.WARNING)


class WelkinSession(requests.Session):
    """A ``requests.Session`` that spends the shared rate budget on every attempt and
    re-raises transport errors with the route template instead of the concrete URL.

    TLS verification stays on (requests' default); nothing here turns it off.
    """

    def __init__(self, budget: RateBudget, *, user_agent: str, pool_size: int = 10) -> None:
        """Create the session with a connection pool of ``pool_size``."""
        super().__init__()
        self.budget = budget
        self.headers["User-Agent"] = user_agent
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:  # type: ignore[override]
        """Send after spending budget; transport errors keep their type and name only the host."""
        self.budget.spend()
        try:
            return super().send(request, **kwargs)
        except requests.exceptions.RequestException as exc:
            # The host (never a secret or PHI) tells the user what to check; the path may
            # carry patient ids, so only its template is named.
            url = request.url or ""
            where = urlsplit(url).netloc.rsplit("@", 1)[-1] or "?"
            safe = f"talking to {where} on {request.method} {route_template(url)}"
            raise type(exc)(safe) from None
