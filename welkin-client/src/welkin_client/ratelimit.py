"""The client-side request budgets, per process or shared by every process of a deployment.

Welkin limits requests per API client, whatever process sends them, and blocks a client
for five minutes after more than 100 token requests in five minutes. One process keeps
its own budget in memory; workers of an orchestrated fan-out share theirs through
``rate_limit_backend_url``: a SQLite file (processes of one host) or a PostgreSQL
database (every host). pyrate-limiter keeps the sliding-window log in that backend.

Requests are spread over the second rather than allowed in one burst of ``R``: at most ``R``
in any second, and at most ``R/5`` in any ``1/5`` second (one at a time below 10 per second).
A burst that the network delays and one that it does not could otherwise reach Welkin
within one second; short windows still let a worker admitted late catch up, so the workers
together use nearly all of ``R``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import time
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from pyrate_limiter import (
    AbstractBucket,
    Duration,
    InMemoryBucket,
    PostgresBucket,
    Rate,
    RateItem,
    SQLiteBucket,
)
from singer_sdk.exceptions import ConfigValidationError

# pyrate-limiter logs each bucket it creates at INFO: noise in every run's log.
logging.getLogger("pyrate_limiter").setLevel(logging.WARNING)

BACKEND_SETTING = "rate_limit_backend_url"
SQLITE_SCHEMES = frozenset({"sqlite"})
POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})
# Welkin blocks an API client after more than 100 token requests in 5 minutes.
TOKEN_REQUESTS_PER_5_MINUTES = 90
# A put refused for contention (another process holds the bucket) names no wait.
_CONTENDED_WAIT_S = 0.005
_LEAK_EVERY_S = 5.0


class BudgetBackendError(ConfigValidationError):
    """The shared budget backend cannot be reached or used (names the setting, never the URL).

    A configuration error to singer-sdk, so the plugin stops with one line.
    """

    def __init__(self, message: str) -> None:
        """Carry ``message`` as the one error line."""
        super().__init__(message, errors=[message])


def backend_scheme(url: str) -> str:
    """The scheme of a backend URL, lower-cased (``''`` when it has none)."""
    return urlsplit(url).scheme.lower()


def check_backend_url(url: str) -> str | None:
    """Why ``url`` is no usable budget backend, or ``None`` when it is one."""
    scheme = backend_scheme(url)
    if scheme in SQLITE_SCHEMES:
        return None if _sqlite_path(url) else "a SQLite URL with a file path (sqlite:///file.db)"
    if scheme in POSTGRES_SCHEMES:
        return None
    return "`sqlite:///<file>` (one host) or `postgresql://<user>@<host>/<database>` (any host)"


def _sqlite_path(url: str) -> str:
    # SQLAlchemy's (and Meltano's) spelling: sqlite:///relative.db, sqlite:////abs.db.
    path = urlsplit(url).path
    return path[1:] if path.startswith("/") else path


def _postgres_conninfo(url: str) -> str:
    # psycopg reads libpq URIs; SQLAlchemy's driver suffix is not part of them.
    scheme, rest = url.split(":", 1)
    return ("postgresql" if scheme.lower() in POSTGRES_SCHEMES else scheme) + ":" + rest


def budget_key(kind: str, scope: str) -> str:
    """A table name for ``kind`` (requests, tokens) of one API client (``scope``)."""
    digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
    return f"welkin_{kind}_{digest}"


def _open_bucket(rates: list[Rate], backend_url: str | None, key: str) -> AbstractBucket:
    if not backend_url:
        return InMemoryBucket(rates)
    scheme = backend_scheme(backend_url)
    try:
        if scheme in SQLITE_SCHEMES:
            path = Path(_sqlite_path(backend_url))
            path.parent.mkdir(parents=True, exist_ok=True)
            return SQLiteBucket.init_from_file(
                rates, table=key, db_path=str(path), create_new_table=True, use_file_lock=True
            )
        if scheme in POSTGRES_SCHEMES:
            from psycopg_pool import ConnectionPool  # noqa: PLC0415 - only this backend needs it

            pool = ConnectionPool(
                _postgres_conninfo(backend_url), min_size=1, max_size=4, open=True, timeout=30
            )
            pool.wait(timeout=30)
            return PostgresBucket(pool, key, rates)
    except Exception as exc:  # noqa: BLE001 - any driver error; its text may carry the URL
        msg = f"Cannot open the shared request budget ({BACKEND_SETTING}): {type(exc).__name__}"
        raise BudgetBackendError(msg) from None
    problem = check_backend_url(backend_url)
    msg = f"Setting {BACKEND_SETTING!r} is invalid: {problem}."
    raise BudgetBackendError(msg)


def spread_rates(per_second: float) -> list[Rate]:
    """The sliding windows of a budget of ``per_second`` requests (see the module docstring)."""
    whole = math.floor(per_second)
    if whole < 2:  # noqa: PLR2004 - below two a second: one at a time
        return [Rate(1, math.ceil(1000 / per_second))]
    burst = max(1, whole // 5)
    # Rounded down, the short window is a little more generous than R; the second caps R.
    return [Rate(burst, max(1, math.floor(burst * 1000 / per_second))), Rate(whole, 1000)]


class Budget:
    """A blocking sliding-window budget: every one of ``rates`` holds at once.

    Kept in memory (one process) or in a shared backend (every process that names the
    same backend and key). Thread-safe.
    """

    def __init__(
        self, rates: list[Rate], *, backend_url: str | None = None, key: str = "welkin"
    ) -> None:
        """Open the bucket (creating its table in a shared backend)."""
        self.key = key
        self.shared = bool(backend_url)
        self._bucket = _open_bucket(rates, backend_url, key)
        self._lock = threading.Lock()
        self._next_leak = 0.0

    def acquire(self) -> None:
        """Block until one acquisition fits in the window, then record it."""
        while True:
            wait = self._try()
            if wait is None:
                return
            # A millisecond or two of jitter: processes woken for the same slot take turns
            # (the bucket's lock decides) without giving away much of the budget.
            time.sleep(wait + random.random() / 500)  # noqa: S311

    def _try(self) -> float | None:
        """Record one acquisition now: ``None`` when admitted, else seconds to wait."""
        with self._lock:
            try:
                # A fresh timestamp on every attempt: a waited-for slot is taken at
                # the time the request really leaves, so the shared log stays true.
                item = RateItem(self.key, t.cast("int", self._bucket.now()))
                decision = t.cast("t.Any", self._bucket.put_decision(item))
                self._leak(item.timestamp)
            except BudgetBackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - any driver error; its text may carry the URL
                msg = f"The shared request budget ({BACKEND_SETTING}) failed: {type(exc).__name__}"
                raise BudgetBackendError(msg) from None
        if decision.allowed:
            return None
        if decision.retry_after_ms is None:
            return _CONTENDED_WAIT_S
        return max(float(decision.retry_after_ms) / 1000, _CONTENDED_WAIT_S)

    def _leak(self, now_ms: int) -> None:
        # Old entries only cost space; drop them every few seconds, not per request.
        if time.monotonic() >= self._next_leak:
            self._next_leak = time.monotonic() + _LEAK_EVERY_S
            self._bucket.leak(now_ms)

    def close(self) -> None:
        """Release the backend connection."""
        with self._lock:
            self._bucket.close()


# pyrate-limiter logs each bucket it creates at INFO: noise in every run's log.
logging.getLogger("pyrate_limiter").setLevel(logging.WARNING)


class RateBudget:
    """The request budget: ``per_second`` requests, spread over the second, shared by its users."""

    def __init__(
        self, per_second: float, *, backend_url: str | None = None, scope: str = "welkin"
    ) -> None:
        """Create a budget; ``per_second <= 0`` means unlimited.

        With ``backend_url`` every process naming the same backend and ``scope`` (one
        API client) draws from one budget.
        """
        self.per_second = per_second
        self._budget: Budget | None = None
        if per_second > 0:
            self._budget = Budget(
                spread_rates(per_second), backend_url=backend_url, key=budget_key("requests", scope)
            )

    @property
    def shared(self) -> bool:
        """Whether the budget lives in a shared backend."""
        return self._budget is not None and self._budget.shared

    def spend(self) -> None:
        """Block until one request may be sent."""
        if self._budget is not None:
            self._budget.acquire()

    def close(self) -> None:
        """Release the backend connection, if any."""
        if self._budget is not None:
            self._budget.close()


def token_budget(*, backend_url: str | None = None, scope: str = "welkin") -> Budget:
    """The budget of token requests: under Welkin's 100 per 5 minutes per API client."""
    key = budget_key("tokens", scope)
    rates = [Rate(TOKEN_REQUESTS_PER_5_MINUTES, int(Duration.MINUTE) * 5)]
    return Budget(rates, backend_url=backend_url, key=key)
