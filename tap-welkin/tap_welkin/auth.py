"""The SDK authenticator of the tap: Welkin's bearer token from the shared token manager."""

from __future__ import annotations

from welkin_client.auth import WelkinAuthenticator, WelkinTokenManager

__all__ = ["WelkinAuthenticator", "build_authenticator"]


def build_authenticator(tokens: WelkinTokenManager) -> WelkinAuthenticator:
    """One authenticator for every stream of a tap, so they share one token and its refreshes."""
    return WelkinAuthenticator(tokens)
