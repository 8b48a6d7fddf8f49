"""Which failures are retried, and how long to wait between attempts.

One policy for every Welkin call: full-jitter exponential backoff, except
that a ``Retry-After`` header (seconds or HTTP date) sets the wait.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
import typing as t

import backoff
import requests
from singer_sdk.exceptions import RetriableAPIError

from welkin_client.errors import WelkinConnectionError

LOGGER = logging.getLogger("welkin_client.retry")

RETRIABLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

BASE_WAIT = 0.5
MAX_WAIT = 30.0
MAX_RETRY_AFTER = 300.0

T = t.TypeVar("T")


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header, if the response has one."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def wait_generator(
    base: float = BASE_WAIT, cap: float = MAX_WAIT
) -> t.Generator[float, t.Any, None]:
    """Backoff wait generator: ``Retry-After`` when given, else full-jitter exponential.

    python-backoff sends the exception of each failed attempt into the generator.
    """
    exception = yield 0.0  # priming value, discarded by backoff
    attempt = 0
    while True:
        response = getattr(exception, "response", None)
        asked = retry_after_seconds(response) if isinstance(exception, RetriableAPIError) else None
        # Full jitter spreads retries of concurrent writers apart.
        jittered = random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - not crypto
        wait = asked if asked is not None else jittered
        attempt += 1
        exception = yield wait


def log_backoff(logger: logging.Logger) -> t.Callable[[t.Any], None]:
    """A backoff ``on_backoff`` handler that logs the exception's safe message only."""

    def handler(details: t.Any) -> None:  # noqa: ANN401 - backoff's Details
        exc = details.get("exception")
        logger.warning(
            "Retrying in %.1f s after attempt %d: %s",
            details.get("wait", 0.0),
            details.get("tries", 0),
            exc if isinstance(exc, RetriableAPIError) else type(exc).__name__ + f": {exc}",
        )

    return handler


UNREACHABLE: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


def with_retries(func: t.Callable[[], T], *, max_tries: int) -> T:
    """Call ``func`` until it returns, retrying retriable failures with the shared policy.

    Raises:
        WelkinConnectionError: the host stayed unreachable for every attempt; the one
            summary line names the host, the attempts and the seconds spent, and is
            fatal, so no enclosing retry loop starts over.
    """
    started = time.monotonic()
    decorated = backoff.on_exception(
        wait_generator,
        RETRIABLE_EXCEPTIONS,
        max_tries=max_tries,
        jitter=None,
        on_backoff=log_backoff(LOGGER),
        logger=None,
    )(func)
    try:
        result: T = decorated()
    except UNREACHABLE as exc:
        spent = time.monotonic() - started
        msg = (
            f"{type(exc).__name__} {exc}: gave up after {max_tries} attempts in {spent:.1f} s. "
            "Check api_url (or environment), that the server is up, and the network or proxy."
        )
        raise WelkinConnectionError(msg) from None
    return result
