"""Route modules of the emulated Welkin API, one per domain."""

from __future__ import annotations

from ..http import Router
from . import (
    assessments,
    audit,
    calendar,
    care_plans,
    cdts,
    documents,
    encounter_links,
    encounters,
    export,
    formations,
    messages,
    patients,
    programs,
    schedules,
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
    encounter_links.register(r)
    schedules.register(r)
    calendar.register(r)
    formations.register(r)
    export.register(r)
    messages.register(r)
    programs.register(r)
    assessments.register(r)
    documents.register(r)
    care_plans.register(r)
    return r
