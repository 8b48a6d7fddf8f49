"""The ASGI application: control API, request counting, fault injection, auth, dispatch.

Order of work for an API request: match the route template → count it → decide the fault plan →
sleep the injected latency (``asyncio.sleep``, so clients are never serialised) → global rate
limit → a "before" fault ends the request here → read the body → run the handler in the thread
pool (SQLite is blocking) → an "after" fault replaces the real answer, otherwise send it.

A dropped connection is a real one: the transport is closed without a response, so clients see
``RemoteDisconnected``/``ConnectionError``, not a 500.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from .auth import bad_credentials
from .config import EmulatorConfig
from .control import build_control_app
from .errors import ApiError
from .faults import FaultSettings, Plan
from .http import BASE_HEADERS, Ctx, Match, Reply, empty_reply, error_reply, json_reply, parse_query
from .routes import build_router
from .routes.common import forbidden
from .state import AppState
from .storage import Database

log = logging.getLogger("welkin_emulator")

_HTML_5XX = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}
MALFORMED_BODY = b'{"content":[{"id":"9f1c2d3e-0000-4000-8000-000000000000","firstName":'


def fault_reply(plan: Plan) -> Reply:
    """The response for an ``error``/``throttle``/``malformed`` fault."""
    if plan.action == "throttle":
        err = ApiError(
            plan.status or 429, "TOO_MANY_REQUESTS", "API", "Too many requests",
            headers={"Retry-After": str(plan.retry_after)},
        )  # fmt: skip
        return error_reply(err)
    if plan.action == "malformed":
        return Reply(plan.status or 200, MALFORMED_BODY)
    status = plan.status or 500
    if status in _HTML_5XX:
        # What an AWS load balancer sends: HTML, not Welkin's JSON array.
        text = _HTML_5XX[status]
        html = (
            f"<html>\r\n<head><title>{text}</title></head>\r\n<body>\r\n"
            f"<center><h1>{text}</h1></center>\r\n</body>\r\n</html>\r\n"
        )
        return Reply(status, html.encode(), "text/html")
    if status == 401:
        return error_reply(ApiError(401, "TOKEN_EXPIRED", "AUTH", "Aws Jwt Token has expired"))
    if status in _CLIENT_ERRORS:
        code, component, message = _CLIENT_ERRORS[status]
        return error_reply(ApiError(status, code, component, message))
    return error_reply(ApiError(status, "INTERNAL_SERVER_ERROR", "API", "Internal server error"))


# Scripted 4xx faults carry the code Welkin uses for that status (spec section 7).
_CLIENT_ERRORS = {
    400: ("VALIDATION_ERROR", "API", "Validation failed"),
    403: (
        "ACCESS_FOR_API_CLIENT_RESTRICTED",
        "AUTH",
        "Access to this API is restricted for the APIClient",
    ),
    404: ("DT_RECORD_NOT_FOUND", "CDT", "DT record not found"),
    409: ("CONFLICT", "API", "Conflict"),
}


async def send_reply(send: Send, reply: Reply) -> None:
    """Send ``reply`` with the recorded standard headers."""
    headers: list[tuple[bytes, bytes]] = [
        (k.lower().encode(), v.encode()) for k, v in BASE_HEADERS.items()
    ]
    if reply.content_type is not None:
        headers.append((b"content-type", reply.content_type.encode()))
    if reply.status != 204:
        headers.append((b"content-length", str(len(reply.body)).encode()))
    headers.extend((k.lower().encode(), v.encode()) for k, v in reply.headers.items())
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if reply.status == 204 else reply.body})


async def drop_connection(receive: Receive) -> None:
    """Close the client's TCP connection without sending anything.

    uvicorn's ``receive`` is a bound method of its per-request cycle object, which holds the
    transport; marking the cycle disconnected stops uvicorn from trying to send a 500 afterwards.
    """
    cycle: Any = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:  # pragma: no cover - other servers: make the response unusable instead
        raise ConnectionAbortedError("fault injection: drop")
    cycle.disconnected = True
    cycle.keep_alive = False
    transport.close()
    await asyncio.sleep(0)


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client went away before sending all of it
    (a request that never fully arrived must not be processed, as on a real server).
    """
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return None


class EmulatorApp:
    """The emulator as one ASGI callable (control API + emulated Welkin API)."""

    def __init__(
        self,
        db_path: str,
        config: EmulatorConfig,
        faults: FaultSettings,
        *,
        control_token: str | None = None,
    ) -> None:
        self.state = AppState(config=config, db=Database(db_path), initial_faults=faults)
        self.router = build_router()
        self.control = build_control_app(self.state, control_token=control_token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/_emulator" or path.startswith("/_emulator/"):
            await self.control(scope, receive, send)
            return
        await self._api(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.state.db.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        match = self.router.match(method, path)
        template = match.route.template if match else None
        self.state.counter.add(f"{method} {template or '<unmatched>'}")
        faults = self.state.faults
        plan = faults.plan(method, template, path)
        if plan.latency_s > 0:
            await asyncio.sleep(plan.latency_s)
        if faults.rate_limited():
            plan = Plan(action="throttle", status=429, retry_after=faults.settings.retry_after)
        if plan.action in ("drop", "timeout") and not plan.after:
            await self._fault(plan, receive, send, method, template)
            return
        # Read the body even when answering with a fault, so the keep-alive connection stays
        # in a clean state for the client's next request.
        body = await read_body(receive)
        if body is None:
            return  # the client is gone: nothing to process, nobody to answer
        if plan.action and not plan.after:
            await self._fault(plan, receive, send, method, template)
            return
        if match is None:
            reply = empty_reply(404)  # recorded: unknown route → 404, empty body
        else:
            ctx = Ctx(
                method=method,
                path=path,
                params=match.params,
                query=parse_query(scope.get("query_string", b"")),
                body=body,
                headers={
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
                },
                state=self.state,
            )
            reply = await anyio.to_thread.run_sync(self._handle, match, ctx)
        if plan.action:
            await self._fault(plan, receive, send, method, template)
            return
        log.debug("%s %s -> %s", method, template or "<unmatched>", reply.status)
        await send_reply(send, reply)

    async def _fault(
        self, plan: Plan, receive: Receive, send: Send, method: str, template: str | None
    ) -> None:
        log.debug("%s %s -> fault %s", method, template or "<unmatched>", plan.action)
        if plan.action == "timeout":
            await asyncio.sleep(plan.seconds)
            await drop_connection(receive)
        elif plan.action == "drop":
            await drop_connection(receive)
        else:
            await send_reply(send, fault_reply(plan))

    def _handle(self, match: Match, ctx: Ctx) -> Reply:
        """Authenticate, check tenant/instance, run the handler; map errors to replies."""
        route = match.route
        try:
            config = self.state.config
            if ctx.tenant not in config.tenants:
                # Unknown tenant: the token call fails like bad credentials; anything else is
                # answered as if the route did not exist.
                return error_reply(bad_credentials()) if not route.auth else empty_reply(404)
            if route.auth:
                ctx.client = self.state.tokens.verify(ctx.headers.get("authorization"))
                if ctx.client.tenant != ctx.tenant:
                    return error_reply(forbidden(ctx))
                if "instance" in ctx.params and not config.has_instance(ctx.tenant, ctx.instance):
                    return error_reply(forbidden(ctx))
            return route.handler(ctx)
        except ApiError as err:
            return error_reply(err)
        except Exception as exc:  # never leak request data: log the type and route only
            log.error("%s %s failed: %s", ctx.method, route.template, type(exc).__name__)
            # Tracebacks show code, but exception messages may hold request values: opt-in only.
            log.debug("traceback", exc_info=True)
            return json_reply(
                ApiError(500, "INTERNAL_SERVER_ERROR", "API", "Internal server error").body(), 500
            )
