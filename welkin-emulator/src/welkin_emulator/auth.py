"""API-client tokens: issuing, checking, and the token-endpoint throttle.

Real tokens are AWS Cognito ID tokens (RS256 JWTs). The emulator issues JWT-shaped tokens
(``header.payload.signature``, HMAC-SHA256) with Cognito-like claims, signed with a key kept in the
database, so every server process on the same database accepts them. Lifetimes may be fractional
seconds (``exp_ms`` claim) so tests can make tokens expire quickly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import deque
from typing import Any

import orjson

from .config import ApiClient, EmulatorConfig
from .errors import ApiError, not_valid_jwt, token_expired
from .storage import Database

THROTTLE_WINDOW_S = 300.0  # 100 token requests per 5 minutes (KB-EXPORTS) ...
THROTTLE_BLOCK_S = 300.0  # ... then 5 minutes blocked


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(db: Database) -> bytes:
    """The per-database signing key, created on first use."""
    with db.write() as (conn, _clock):
        row = conn.execute("SELECT value FROM meta WHERE key='signing_key'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        key = secrets.token_bytes(32)
        conn.execute("INSERT INTO meta(key, value) VALUES('signing_key', ?)", (key.hex(),))
        return key


class TokenService:
    """Issues and verifies tokens and enforces the token-endpoint throttle."""

    def __init__(self, db: Database, config: EmulatorConfig) -> None:
        self.config = config
        self._key = _signing_key(db)
        self._lock = threading.Lock()
        self._history: dict[tuple[str, str], deque[float]] = {}
        self._blocked_until: dict[tuple[str, str], float] = {}

    def reset_throttle(self) -> None:
        """Forget all token-request history (control API reset)."""
        with self._lock:
            self._history.clear()
            self._blocked_until.clear()

    def check_throttle(self, tenant: str, client: str, limit: int) -> None:
        """Record one token request; raise 429 when over ``limit`` per 5 minutes (0 = off)."""
        if limit <= 0:
            return
        now = time.monotonic()
        key = (tenant, client)
        with self._lock:
            if self._blocked_until.get(key, 0.0) > now:
                raise _too_many_token_requests()
            hist = self._history.setdefault(key, deque())
            while hist and hist[0] <= now - THROTTLE_WINDOW_S:
                hist.popleft()
            hist.append(now)
            if len(hist) > limit:
                self._blocked_until[key] = now + THROTTLE_BLOCK_S
                hist.clear()
                raise _too_many_token_requests()

    def issue(self, client: ApiClient, lifetime_s: float) -> str:
        """A signed token for ``client`` valid for ``lifetime_s`` seconds."""
        now = time.time()
        header = {"alg": "HS256", "typ": "JWT", "kid": "welkin-emulator"}
        payload: dict[str, Any] = {
            "sub": client.client_id,
            "custom:type": "API_CLIENT",
            "custom:tenant": client.tenant,
            "cognito:username": client.name,
            "token_use": "id",
            "iss": "welkin-emulator",
            "iat": int(now),
            "exp": int(now + lifetime_s),
            "exp_ms": int((now + lifetime_s) * 1000),
            "jti": str(uuid.uuid4()),
        }
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}"
        sig = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(sig)}"

    def verify(self, authorization: str | None) -> ApiClient:
        """The client behind an ``Authorization`` header, or the recorded 401 error."""
        if not authorization:
            raise not_valid_jwt()
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        parts = token.split(".")
        if len(parts) != 3:
            raise not_valid_jwt()
        signing_input = f"{parts[0]}.{parts[1]}"
        expected = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        try:
            sig = _unb64(parts[2])
            payload = orjson.loads(_unb64(parts[1]))
        except (ValueError, orjson.JSONDecodeError):
            raise not_valid_jwt() from None
        if not hmac.compare_digest(sig, expected) or not isinstance(payload, dict):
            raise not_valid_jwt()
        client = self.config.client(
            str(payload.get("custom:tenant")), str(payload.get("cognito:username"))
        )
        if client is None:
            raise not_valid_jwt()
        if time.time() * 1000 >= float(payload.get("exp_ms", 0)):
            raise token_expired()
        return client


def _too_many_token_requests() -> ApiError:
    return ApiError(
        429,
        "TOO_MANY_REQUESTS",
        "AUTH",
        "Too many token requests: authorization is blocked for five minutes",
        {},
        headers={"Retry-After": str(int(THROTTLE_BLOCK_S))},
    )


def bad_credentials() -> ApiError:
    """401 for an unknown client or wrong secret (not recorded; Cognito-style message)."""
    return ApiError(401, "NOT_AUTHORIZED", "AUTH", "Incorrect API client name or secret")
