"""Connection settings shared by tap-welkin and target-welkin, and their checks."""

from __future__ import annotations

import ipaddress
import re
import typing as t
from urllib.parse import urlsplit

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from welkin_client.config_check import PATTERN_WORDS
from welkin_client.config_check import message as config_message
from welkin_client.ratelimit import check_backend_url

DEFAULT_ENVIRONMENT = "live"
# One DNS label: ``environment`` becomes part of Welkin's host name.
_HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LOOPBACK_NAMES = frozenset({"localhost"})
# tenant, instance and api_client are each one segment of every request path.
PATH_SEGMENT = r"^[^/?#%\s]+$"
PATTERN_WORDS[PATH_SEGMENT] = "one URL path segment: not empty, no /, ?, #, % or spaces"

CONNECTION_PROPERTIES: list[th.Property[t.Any]] = [
    th.Property(
        "tenant",
        th.StringType(nullable=False, pattern=PATH_SEGMENT),
        required=True,
        title="Tenant",
        description="Welkin tenant (organization) name: the first path segment of every API URL.",
    ),
    th.Property(
        "instance",
        th.StringType(nullable=False, pattern=PATH_SEGMENT),
        required=True,
        title="Instance",
        description="Welkin instance (environment within the tenant), e.g. `sandbox` or `prod`.",
    ),
    th.Property(
        "api_client",
        th.StringType(nullable=False, pattern=PATH_SEGMENT),
        required=True,
        title="API client",
        description="Name of the API client created in Welkin Admin.",
    ),
    th.Property(
        "secret_key",
        th.StringType(nullable=False, min_length=1),
        required=True,
        secret=True,
        title="Secret key",
        description="Secret of the API client. Exchanged for a one-hour token, never logged.",
    ),
    th.Property(
        "environment",
        th.StringType,
        default=DEFAULT_ENVIRONMENT,
        title="Environment",
        description="Welkin environment: builds `https://api.{environment}.welkincloud.io`.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        title="API URL",
        description=(
            "Overrides the API host, e.g. `http://127.0.0.1:8080` for the welkin-emulator "
            "or a proxy. Takes precedence over `environment`. Must be https unless it "
            "points at loopback or `allow_insecure_http` is true."
        ),
    ),
    th.Property(
        "allow_insecure_http",
        th.BooleanType,
        default=False,
        title="Allow insecure HTTP",
        description=(
            "Allow a plain `http://` `api_url` to a host other than loopback "
            "(the secret and PHI then travel unencrypted)."
        ),
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0),
        default=60,
        title="Request timeout",
        description="Seconds to wait for a response before the request is retried.",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType(minimum=0),
        default=20,
        title="Max requests per second",
        description=(
            "Client-side request budget, spread over each second, shared by every stream or "
            "sink of one process, or of every process that names the same "
            "`rate_limit_backend_url` (0: no budget)."
        ),
    ),
    th.Property(
        "rate_limit_backend_url",
        th.StringType,
        secret=True,
        title="Rate limit backend URL",
        description=(
            "Where workers share one request budget and one token budget per API client: "
            "`sqlite:///<file>` (processes of one host) or "
            "`postgresql://<user>:<password>@<host>/<database>` (any host). "
            "Empty: each process keeps its own budget."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=1),
        default=6,
        title="Max retries",
        description="Attempts per request on 429, 5xx, timeouts and dropped connections.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header sent with every request.",
    ),
]


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _invalid(setting: str, expected: str) -> ConfigValidationError:
    # The message names the setting and the rule, never the value given.
    message = config_message(setting, expected)
    return ConfigValidationError(message, errors=[message])


def _check_api_url(api_url: str, *, allow_insecure_http: bool) -> None:
    expected = "an absolute URL (scheme and host, optionally a port and path)"
    try:
        parts = urlsplit(api_url)
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise _invalid("api_url", expected) from None
    if parts.scheme not in {"http", "https"} or not host:
        raise _invalid("api_url", expected)
    if "@" in parts.netloc:
        raise _invalid("api_url", "a URL without user or password (`user@host`)")
    if parts.query or parts.fragment or "?" in api_url or "#" in api_url:
        raise _invalid("api_url", "a URL without query string or fragment")
    if parts.scheme == "http" and not (allow_insecure_http or _is_loopback(host)):
        raise _invalid(
            "api_url",
            "an https URL (plain http only to 127.0.0.1, ::1 or localhost, "
            "or with allow_insecure_http set to true)",
        )


def check_connection_settings(config: t.Mapping[str, t.Any]) -> None:
    """Check ``environment``, ``api_url`` and ``rate_limit_backend_url`` before any request.

    Raises:
        ConfigValidationError: a setting would send requests (and the secret) somewhere
            other than the Welkin host meant, or over plain http beyond loopback, or
            names no budget backend this client supports.
            The message names the setting and the rule, not the value.
    """
    _check_budget_backend(config)
    api_url = config.get("api_url")
    if api_url:
        if not isinstance(api_url, str):
            raise _invalid("api_url", "a string")
        _check_api_url(api_url, allow_insecure_http=config.get("allow_insecure_http") is True)
        return
    environment = config.get("environment") or DEFAULT_ENVIRONMENT
    if not isinstance(environment, str) or not _HOST_LABEL.match(environment):
        raise _invalid(
            "environment",
            "one host-name label: lowercase letters, digits and inner hyphens, "
            "at most 63 characters (e.g. `live`)",
        )


def _check_budget_backend(config: t.Mapping[str, t.Any]) -> None:
    url = config.get("rate_limit_backend_url")
    if url in (None, ""):
        return
    problem = "a string" if not isinstance(url, str) else check_backend_url(url)
    if problem:
        raise _invalid("rate_limit_backend_url", problem)


def base_url_from_config(config: t.Mapping[str, t.Any]) -> str:
    """Return the API base URL (scheme and host, no trailing slash) for a plugin config.

    Raises:
        ConfigValidationError: see :func:`check_connection_settings`.
    """
    check_connection_settings(config)
    if config.get("api_url"):
        return str(config["api_url"]).rstrip("/")
    environment = config.get("environment") or DEFAULT_ENVIRONMENT
    return f"https://api.{environment}.welkincloud.io"


def connection_problems(config: t.Mapping[str, t.Any]) -> t.Iterator[tuple[str, str]]:
    """:func:`check_connection_settings` as a :mod:`welkin_client.config_check` check."""
    check_connection_settings(config)  # raises its own one-line ConfigValidationError
    return iter(())
