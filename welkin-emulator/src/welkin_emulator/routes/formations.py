"""Formations (Designer configuration): bare arrays, no paging (a ``page`` parameter is ignored)."""

from __future__ import annotations

from ..designer import FORMATION_JSON
from ..errors import ApiError, cdt_not_found
from ..formations import (
    CDT_JSON_BY_NAME,
    CDTS_JSON,
    DISPOSITION_JSON,
    TEMPLATE_JSON_BY_NAME,
    TEMPLATES_JSON,
)
from ..http import Ctx, Handler, Reply, Router, empty_reply, raw_reply


def _version_ok(ctx: Ctx) -> bool:
    version = ctx.params["version"]
    return version == "current" or version.isdigit()


def list_cdts(ctx: Ctx) -> Reply:
    """``GET formations/{version}/cdts``: every CDT definition, system fields last."""
    return raw_reply(CDTS_JSON) if _version_ok(ctx) else empty_reply(404)


def get_cdt(ctx: Ctx) -> Reply:
    """``GET formations/{version}/cdts/{cdtName}``."""
    body = CDT_JSON_BY_NAME.get(ctx.params["cdtName"])
    if body is None or not _version_ok(ctx):
        raise cdt_not_found()
    return raw_reply(body)


def list_templates(ctx: Ctx) -> Reply:
    """``GET formations/{version}/encounters``: encounter templates."""
    return raw_reply(TEMPLATES_JSON) if _version_ok(ctx) else empty_reply(404)


def get_template(ctx: Ctx) -> Reply:
    """``GET formations/{version}/encounters/{templateName}``."""
    body = TEMPLATE_JSON_BY_NAME.get(ctx.params["encounterId"])
    if body is None or not _version_ok(ctx):
        raise ApiError(
            404, "ENCOUNTER_TEMPLATE_NOT_FOUND", "ENCOUNTER", "Encounter template not found"
        )
    return raw_reply(body)


def get_disposition(ctx: Ctx) -> Reply:
    """``GET formations/{version}/encounter-disposition``: a single object."""
    return raw_reply(DISPOSITION_JSON) if _version_ok(ctx) else empty_reply(404)


# Not recorded: the 404 of an unknown name, per formation kind (shaped as the other 404s).
_NOT_FOUND = {
    "assessments": ("ASSESSMENT_NOT_FOUND", "ASSESSMENT", "Assessment not found"),
    "programs": ("PROGRAM_NOT_FOUND", "PROGRAM", "Program not found"),
    "goal-templates": ("GOAL_TEMPLATE_NOT_FOUND", "GOAL", "Goal template not found"),
    "document-types": ("DOCUMENT_TYPE_NOT_FOUND", "CDT", "Document type not found"),
}


def _designer_list(kind: str) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        return raw_reply(FORMATION_JSON[kind][0]) if _version_ok(ctx) else empty_reply(404)

    handler.__doc__ = f"``GET formations/{{version}}/{kind}``: bare array, no paging."
    return handler


def _designer_get(kind: str) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        body = FORMATION_JSON[kind][1].get(ctx.params["name"])
        if body is None or not _version_ok(ctx):
            raise ApiError(404, *_NOT_FOUND[kind])
        return raw_reply(body)

    handler.__doc__ = f"``GET formations/{{version}}/{kind}/{{name}}``."
    return handler


def register(r: Router) -> None:
    """Add the formation routes."""
    base = "/{tenant}/{instance}/formations/{version}"
    r.add("GET", f"{base}/cdts", list_cdts)
    r.add("GET", f"{base}/cdts/{{cdtName}}", get_cdt)
    r.add("GET", f"{base}/encounters", list_templates)
    r.add("GET", f"{base}/encounters/{{encounterId}}", get_template)
    r.add("GET", f"{base}/encounter-disposition", get_disposition)
    for kind in FORMATION_JSON:
        r.add("GET", f"{base}/{kind}", _designer_list(kind))
        r.add("GET", f"{base}/{kind}/{{name}}", _designer_get(kind))
