"""The token endpoint: ``POST /{tenant}/admin/api_clients/{clientName}`` with ``{"secret"}``."""

from __future__ import annotations

import hmac

from ..auth import bad_credentials
from ..http import Ctx, Reply, Router, json_reply


def get_token(ctx: Ctx) -> Reply:
    """200 ``{"token"}`` (recorded), after the 100-per-5-minutes throttle (spec §11.4)."""
    state = ctx.state
    name = ctx.params["clientName"]
    client = state.config.client(ctx.tenant, name)
    if client is not None:
        # Counted per existing client before the secret is checked, like any token request.
        state.tokens.check_throttle(ctx.tenant, name, state.faults.settings.token_limit)
    body = ctx.json_object()
    secret = body.get("secret")
    if client is None or not isinstance(secret, str):
        raise bad_credentials()
    if not hmac.compare_digest(secret.encode(), client.secret.encode()):
        raise bad_credentials()
    token = state.tokens.issue(client, state.faults.settings.token_lifetime)
    return json_reply({"token": token})


def register(r: Router) -> None:
    """Add the token route (no bearer token needed)."""
    r.add("POST", "/{tenant}/admin/api_clients/{clientName}", get_token, auth=False)
