"""The control API under ``/_emulator/`` (never counted, never faulted).

With a control token (``--control-token`` or ``WELKIN_EMULATOR_CONTROL_TOKEN``), every route
but ``health`` needs ``Authorization: Bearer <token>`` and answers 401 without it.

* ``GET /_emulator/health`` → 200 ``{"status": "ok"}``
* ``GET|PUT /_emulator/faults`` → current settings / partial update (400 on unknown keys)
* ``GET|POST|DELETE /_emulator/faults/script`` → list / replace / clear scripted faults
  (``POST`` with ``"append": true`` in the query string appends instead of replacing)
* ``POST /_emulator/faults/clear`` → every fault off, the script and token-request history
  cleared (token settings kept)
* ``GET|DELETE /_emulator/requests`` → request counts per ``METHOD /template`` plus ``total``
* ``POST /_emulator/reset`` → start-up fault settings, no script, counters and token throttle
  cleared
* ``GET /_emulator/counts?tenant=&instance=`` → how many records the database holds per export
  type (plus ``USER``, ``GOAL``, ``DOCUMENT_SUMMARY``, ``ENCOUNTER_ASSESSMENT``,
  ``WORK_HOURS``): what a full sync should load
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .faults import ScriptEntry
from .state import AppState
from .webhook_control import webhook_routes

# type → (table, kind filter); kinds of the ``records`` and ``items`` tables by their own names
_COUNTED = {
    "PATIENT": ("patients", None), "CALENDAR_EVENT": ("calendar_events", None),
    "CDT_RECORD": ("records", "CDT"), "ENCOUNTER": ("records", "ENCOUNTER"),
    "ENCOUNTER_DISPOSITION": ("records", "DISPOSITION"),
    "ENCOUNTER_ASSESSMENT": ("records", "ENCOUNTER_ASSESSMENT"),
    "DOCUMENT_SUMMARY": ("records", "DOCUMENT_SUMMARY"),
}  # fmt: skip


def record_counts(state: AppState, tenant: str, instance: str) -> dict[str, int]:
    """Rows per resource of one tenant/instance (every ``items`` kind by its name)."""
    conn = state.db.conn
    out: dict[str, int] = {}
    for name, (table, kind) in _COUNTED.items():
        sql = f"SELECT COUNT(*) FROM {table} WHERE tenant=? AND instance=?"  # noqa: S608 - constants
        args: list[Any] = [tenant, instance]
        if kind:
            sql += " AND kind=?"
            args.append(kind)
        out[name] = int(conn.execute(sql, args).fetchone()[0])
    for kind, n in conn.execute(
        "SELECT kind, COUNT(*) FROM items WHERE tenant=? AND instance=? GROUP BY kind",
        (tenant, instance),
    ):
        out[str(kind)] = int(n)
    out["USER"] = int(
        conn.execute("SELECT COUNT(*) FROM users WHERE tenant=?", (tenant,)).fetchone()[0]
    )
    return out


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _BadJson


class _BadJson:
    """Marker for an unparseable body."""


Handler = Callable[[Request], Awaitable[Response]]


def _guard(handler: Handler, control_token: str | None) -> Handler:
    """``handler`` behind the control token, when there is one."""
    if control_token is None:
        return handler
    expected = control_token.encode()

    async def guarded(request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        # Starlette decodes headers as latin-1; compare bytes in constant time.
        if not hmac.compare_digest(given.encode("latin-1"), expected):
            return _json({"error": "control token required"}, 401)
        return await handler(request)

    return guarded


def _fault_routes(state: AppState, guard: Callable[[Handler], Handler]) -> list[Route]:
    """``/_emulator/faults…``: the fault settings and the scripted faults."""

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            data = await _body(request)
            if not isinstance(data, dict):
                return _json({"error": "body must be a JSON object"}, 400)
            try:
                state.faults.update(data)
            except ValueError as exc:
                return _json({"error": str(exc)}, 400)
        return _json(state.faults.settings.to_dict())

    async def clear(_: Request) -> Response:
        state.faults.replace(state.faults.settings.without_faults())
        state.faults.script = []
        # Token-request history is not a fault, but one test's token calls must not throttle
        # the next test that shares the server, and tests call this between tests.
        state.tokens.reset_throttle()
        return _json(state.faults.settings.to_dict())

    async def script(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.script = []
        elif request.method == "POST":
            data = await _body(request)
            if isinstance(data, dict):
                data = [data]
            if not isinstance(data, list):
                return _json({"error": "body must be a list of script entries"}, 400)
            try:
                entries = [ScriptEntry.from_dict(item) for item in data]
            except ValueError as exc:
                return _json({"error": str(exc)}, 400)
            if request.query_params.get("append", "").lower() == "true":
                state.faults.script.extend(entries)
            else:
                state.faults.script = entries
        return _json([e.to_dict() for e in state.faults.script])

    return [
        Route("/_emulator/faults", guard(faults), methods=["GET", "PUT"]),
        Route("/_emulator/faults/clear", guard(clear), methods=["POST"]),
        Route("/_emulator/faults/script", guard(script), methods=["GET", "POST", "DELETE"]),
    ]


def build_control_app(state: AppState, *, control_token: str | None = None) -> Starlette:
    """The Starlette app serving ``/_emulator/…`` (see the module docstring for the token)."""

    def guard(handler: Handler) -> Handler:
        return _guard(handler, control_token)

    async def health(_: Request) -> Response:
        return _json({"status": "ok"})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.counter.reset()
        return _json(state.counter.snapshot())

    async def counts(request: Request) -> Response:
        tenant = request.query_params.get("tenant", "demo")
        instance = request.query_params.get("instance", "sandbox")
        return _json(record_counts(state, tenant, instance))

    async def reset(_: Request) -> Response:
        state.reset()
        return _json({"status": "reset"})

    return Starlette(
        routes=[
            # Health stays open: it reveals nothing and readiness probes have no token.
            Route("/_emulator/health", health, methods=["GET"]),
            *_fault_routes(state, guard),
            Route("/_emulator/requests", guard(requests), methods=["GET", "DELETE"]),
            Route("/_emulator/reset", guard(reset), methods=["POST"]),
            Route("/_emulator/counts", guard(counts), methods=["GET"]),
            *webhook_routes(state, guard),
        ]
    )
