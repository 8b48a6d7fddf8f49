"""Request context, replies and the route table of the emulated API.

Routes are declared with Welkin-style templates (``/{tenant}/{instance}/patients/{patientId}``);
the template string is also the key of the request counter (``GET /{tenant}/{instance}/…``), so
it must stay stable: colleagues' tests and benchmarks count requests by these names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from .errors import ApiError, bad_request

if TYPE_CHECKING:
    from .config import ApiClient
    from .state import AppState

MAX_PAGE_SIZE = 1000  # spec §11.3: larger sizes are clamped silently
DEFAULT_PAGE_SIZE = 20

# Headers seen on every recorded JSON response (ALB cookies and HSTS left out: meaningless here).
BASE_HEADERS: dict[str, str] = {
    "Access-Control-Allow-Headers": "authorization, content-type, xsrf-token, security-role",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "xsrf-token",
    "Access-Control-Max-Age": "3600",
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "Expires": "0",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-XSS-Protection": "1; mode=block",
}


@dataclass
class Reply:
    """A response before it is sent: status, body bytes, content type, extra headers."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200) -> Reply:
    """Serialise ``obj`` with orjson."""
    return Reply(status, orjson.dumps(obj))


def raw_reply(text: str | bytes, status: int = 200) -> Reply:
    """Reply with JSON text that is already serialised (stored record bodies)."""
    return Reply(status, text.encode() if isinstance(text, str) else text)


def empty_reply(status: int) -> Reply:
    """A reply with no body and no content type (DELETE 200/204, unknown route 404)."""
    return Reply(status, b"", None)


def error_reply(err: ApiError) -> Reply:
    """Welkin's JSON-array error body."""
    return Reply(err.status, orjson.dumps(err.body()), "application/json", dict(err.headers))


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass
class Ctx:
    """Everything a handler needs about one request."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    state: AppState
    client: ApiClient | None = None

    @property
    def tenant(self) -> str:
        """The ``{tenant}`` path segment."""
        return self.params.get("tenant", "")

    @property
    def instance(self) -> str:
        """The ``{instance}`` path segment."""
        return self.params.get("instance", "")

    @property
    def client_name(self) -> str:
        """The authenticated client's name (``API_CLIENT:<name>`` is the audit name)."""
        return self.client.name if self.client else "UNKNOWN"

    def q(self, name: str) -> str | None:
        """First value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else None

    def q_bool(self, name: str, default: bool) -> bool:
        """Boolean query parameter; ``true/false`` and the wrapper's ``True/False`` both work."""
        raw = self.q(name)
        if raw is None or raw == "":
            return default
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise bad_request("API", f"Query parameter '{name}' must be true or false", {"field": name})

    def q_list(self, name: str) -> list[str]:
        """Comma-separated (or repeated) list parameter."""
        out: list[str] = []
        for v in self.query.get(name, []):
            out.extend(p for p in v.split(",") if p)
        return out

    def page_params(self, size_names: tuple[str, ...] = ("size",)) -> tuple[int, int]:
        """0-based ``page`` and ``size`` (default 20, clamped to 1000), Spring-style lenient."""
        page = _to_int(self.q("page"), 0)
        size = DEFAULT_PAGE_SIZE
        for n in size_names:
            v = _to_int(self.q(n), -1)
            if v > 0:
                size = v
                break
        return max(page, 0), min(size, MAX_PAGE_SIZE)

    def json(self) -> Any:
        """Parsed JSON body (400 when it does not parse; the body itself is never echoed)."""
        if not self.body.strip():
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise bad_request("API", "Request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        """Parsed JSON body that must be an object."""
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise bad_request("API", "Request body must be a JSON object")
        return data


def _to_int(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return default


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    """One API route: method, template, handler and whether it needs a bearer token."""

    method: str
    template: str
    handler: Handler
    auth: bool = True
    regex: re.Pattern[str] = field(compare=False, default=re.compile(""))


@dataclass(frozen=True)
class Match:
    """A matched route with its path parameters."""

    route: Route
    params: dict[str, str]


class Router:
    """Ordered route table; the first template that matches wins."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        """Register ``handler`` for ``method`` and ``template``."""
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(Route(method, template, handler, auth, re.compile(f"^{pattern}$")))

    def match(self, method: str, path: str) -> Match | None:
        """Find the route for ``method`` and ``path`` (a trailing slash is tolerated)."""
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return Match(route, m.groupdict())
        return None


def parse_query(raw: bytes) -> dict[str, list[str]]:
    """Parse a raw query string, keeping blank values."""
    return parse_qs(raw.decode("latin-1"), keep_blank_values=True)
