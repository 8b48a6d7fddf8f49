"""The receiver: ``POST /welkin/webhook`` (trailing slash or not) → 200 once the ping is stored.

* Authentication: the request must carry the configured header with the configured secret
  (``hmac.compare_digest``); a missing or wrong one gets 401, logged without any value.
* Validation: a JSON object with string ``eventEntity``, ``eventSubtype`` and ``sourceId``
  (Welkin's vocabulary: capitals and underscores; ids: letters, digits, ``-``/``_``), optional
  ``patientId``, ``tenantName``, ``instanceName``, ``sourceName``, ``url``. Anything else gets 400
  and is counted; nothing of it is stored. Welkin's test ping (``eventEntity`` ``EVENT_ENTITY``)
  gets 200 and is not stored.
* Storage: the event log (``welkin_client.eventlog``) commits before the 200, so a ping Welkin
  saw delivered survives a crash. A failure to store answers 500: Welkin retries the delivery.
* ``GET /health`` (no auth): ``{"status": "ok"}`` and the counters (accepted, malformed,
  unauthorized, test, failed).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from welkin_client.eventlog import Event, EventLog

log = logging.getLogger("welkin_webhooks")

MAX_BODY = 16 * 1024
_WORD = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_NAME = re.compile(r"^[A-Za-z0-9_\-. ]{1,128}$")
TEST_ENTITY = "EVENT_ENTITY"


class Malformed(ValueError):
    """A ping that does not have Welkin's payload shape (the message names fields, never values)."""


def _text(payload: Mapping[str, Any], key: str, pattern: re.Pattern[str], *, required: bool) -> Any:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise Malformed(f"field {key} is missing or not in Welkin's format")
    return value


def parse_event(body: bytes) -> Event | None:
    """The event of a ping; None for Welkin's test ping.

    Raises:
        Malformed: not a JSON object of Welkin's payload shape.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("body is not JSON") from None
    if not isinstance(payload, dict):
        raise Malformed("body is not a JSON object")
    if payload.get("eventEntity") == TEST_ENTITY:
        return None
    return Event(
        tenant=_text(payload, "tenantName", _ID, required=False),
        instance=_text(payload, "instanceName", _ID, required=False),
        entity=_text(payload, "eventEntity", _WORD, required=True),
        subtype=_text(payload, "eventSubtype", _WORD, required=True),
        source_id=_text(payload, "sourceId", _ID, required=True),
        source_name=_text(payload, "sourceName", _NAME, required=False),
        patient_id=_text(payload, "patientId", _ID, required=False),
    )


class Counters:
    """Thread-safe outcome counters."""

    def __init__(self) -> None:
        """All zero."""
        self._lock = threading.Lock()
        self.values = dict.fromkeys(("accepted", "malformed", "unauthorized", "test", "failed"), 0)

    def add(self, name: str) -> None:
        """Count one ``name``."""
        with self._lock:
            self.values[name] += 1


def build_app(event_log: EventLog, header: str, secret: str) -> Starlette:
    """The receiver storing into ``event_log``, requiring ``header: secret`` on every ping."""
    if not secret:
        raise ValueError("the webhook secret is empty")
    expected = secret.encode()
    header_name = header.lower()
    counters = Counters()

    async def receive(request: Request) -> Response:
        given = request.headers.get(header_name, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            counters.add("unauthorized")
            reason = "missing" if not given else "wrong"
            log.warning("Rejected a delivery: %s %s header (401).", reason, header)
            return PlainTextResponse("Unauthorized", 401)
        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise Malformed("body is too large")
            event = parse_event(body)
        except Malformed as exc:
            counters.add("malformed")
            log.warning("Rejected a malformed delivery (400): %s.", exc)
            return PlainTextResponse(f"Malformed payload: {exc}", 400)
        if event is None:
            counters.add("test")
            return PlainTextResponse("Test payload received")
        try:
            seq = await anyio.to_thread.run_sync(event_log.append, event)
        except Exception as exc:
            counters.add("failed")
            log.error("Could not store a delivery (500): %s.", type(exc).__name__)
            return PlainTextResponse("Not stored", 500)
        counters.add("accepted")
        log.debug("Stored event %d: %s %s.", seq, event.entity, event.subtype)
        return PlainTextResponse("Message stored.")

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", **counters.values})

    return Starlette(
        routes=[
            Route("/welkin/webhook", receive, methods=["POST"]),
            Route("/welkin/webhook/", receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=_closing(event_log),
    )


def _closing(event_log: EventLog) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        event_log.close()

    return lifespan
