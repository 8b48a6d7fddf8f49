"""Connection settings shared by tap-welkin and target-welkin."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

DEFAULT_ENVIRONMENT = "live"

CONNECTION_PROPERTIES: list[th.Property[t.Any]] = [
    th.Property(
        "tenant",
        th.StringType(nullable=False),
        required=True,
        title="Tenant",
        description="Welkin tenant (organization) name: the first path segment of every API URL.",
    ),
    th.Property(
        "instance",
        th.StringType(nullable=False),
        required=True,
        title="Instance",
        description="Welkin instance (environment within the tenant), e.g. `sandbox` or `prod`.",
    ),
    th.Property(
        "api_client",
        th.StringType(nullable=False),
        required=True,
        title="API client",
        description="Name of the API client created in Welkin Admin.",
    ),
    th.Property(
        "secret_key",
        th.StringType(nullable=False),
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
            "or a proxy. Takes precedence over `environment`."
        ),
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=60,
        title="Request timeout",
        description="Seconds to wait for a response before the request is retried.",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType,
        default=20,
        title="Max requests per second",
        description="Client-side request budget shared by every stream or sink of one process.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
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


def base_url_from_config(config: t.Mapping[str, t.Any]) -> str:
    """Return the API base URL (scheme and host, no trailing slash) for a plugin config."""
    if config.get("api_url"):
        return str(config["api_url"]).rstrip("/")
    environment = config.get("environment") or DEFAULT_ENVIRONMENT
    return f"https://api.{environment}.welkincloud.io"
