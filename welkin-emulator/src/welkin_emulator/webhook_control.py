"""Control API of the webhooks: ``/_emulator/webhooks`` and ``/_emulator/webhooks/faults``.

* ``GET /_emulator/webhooks`` → definitions (header values masked), delivery counts, queue length
* ``PUT /_emulator/webhooks`` ``{"webhooks": [...]}`` → replace the definitions (config syntax)
* ``GET|PUT /_emulator/webhooks/faults`` → ``fail_rate``, ``duplicate_rate``, ``max_attempts``,
  ``base_delay`` (seconds before the first retry, doubled each time), ``seed``
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .state import AppState
from .webhooks import hooks_from_config

Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:  # noqa: ANN401
    return Response(orjson.dumps(data), status, media_type="application/json")


async def _object(request: Request) -> dict[str, Any] | None:
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def webhook_routes(state: AppState, guard: Callable[[Handler], Handler]) -> list[Route]:
    """The control routes, each behind ``guard`` (the control token check)."""
    dispatcher = state.webhooks

    def summary() -> dict[str, Any]:
        return {
            "webhooks": [h.record() for h in dispatcher.hooks],
            "stats": dict(dispatcher.stats),
            "pending": dispatcher.pending(),
        }

    async def hooks(request: Request) -> Response:
        if request.method == "PUT":
            data = await _object(request)
            if data is None or not isinstance(data.get("webhooks"), list):
                return _json({"error": 'body must be {"webhooks": [...]}'}, 400)
            try:
                dispatcher.hooks = hooks_from_config(data["webhooks"])
            except (ValueError, TypeError, AttributeError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json(summary())

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            data = await _object(request)
            if data is None:
                return _json({"error": "body must be a JSON object"}, 400)
            try:
                dispatcher.set_faults(data)
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json(dispatcher.faults.to_dict())

    return [
        Route("/_emulator/webhooks", guard(hooks), methods=["GET", "PUT"]),
        Route("/_emulator/webhooks/faults", guard(faults), methods=["GET", "PUT"]),
    ]
