"""Welkin V8 API plumbing shared by tap-welkin and target-welkin."""

from welkin_client.auth import WelkinTokenManager
from welkin_client.errors import (
    WelkinAuthError,
    WelkinExportForbidden,
    WelkinNotFound,
    classify_response,
)
from welkin_client.http import WelkinClient
from welkin_client.paths import route_template
from welkin_client.ratelimit import RateBudget
from welkin_client.settings import (
    CONNECTION_PROPERTIES,
    base_url_from_config,
    check_connection_settings,
)

__all__ = [
    "CONNECTION_PROPERTIES",
    "RateBudget",
    "WelkinAuthError",
    "WelkinClient",
    "WelkinExportForbidden",
    "WelkinNotFound",
    "WelkinTokenManager",
    "base_url_from_config",
    "check_connection_settings",
    "classify_response",
    "route_template",
]
