"""Route modules of the emulated Welkin API, one per domain."""

from __future__ import annotations

from ..http import Router
from . import (
    audit,
    calendar,
    cdts,
    encounters,
    export,
    formations,
    patients,
    token,
    users,
    webhook_audit,
)


def build_router() -> Router:
    """All API routes.

    Tenant-level ones (``/{tenant}/admin/…``) come first so that ``admin`` is never taken for an
    instance name.
    """
    r = Router()
    token.register(r)
    users.register(r)
    audit.register(r)
    webhook_audit.register(r)
    patients.register(r)
    cdts.register(r)
    encounters.register(r)
    calendar.register(r)
    formations.register(r)
    export.register(r)
    return r
