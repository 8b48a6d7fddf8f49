"""Welkin V8 API plumbing shared by tap-welkin, target-welkin and welkin-webhooks.

Names are imported on first use (PEP 562): ``welkin_client.eventlog``, the only part
welkin-webhooks ships with, needs none of the HTTP client's dependencies (singer-sdk,
requests, ...), so importing it must not import them.
"""

from __future__ import annotations

import importlib
import typing as t

if t.TYPE_CHECKING:
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

#: Public name -> the module that defines it.
_HOMES = {
    "WelkinTokenManager": "auth",
    "WelkinAuthError": "errors",
    "WelkinExportForbidden": "errors",
    "WelkinNotFound": "errors",
    "classify_response": "errors",
    "WelkinClient": "http",
    "route_template": "paths",
    "RateBudget": "ratelimit",
    "CONNECTION_PROPERTIES": "settings",
    "base_url_from_config": "settings",
    "check_connection_settings": "settings",
}

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


def __getattr__(name: str) -> t.Any:  # noqa: ANN401 - any public name
    """Import ``name`` from its module at first use."""
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'welkin_client' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"welkin_client.{home}"), name)
    globals()[name] = value
    return value
