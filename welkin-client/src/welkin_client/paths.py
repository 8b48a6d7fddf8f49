"""Route templates from concrete URL paths.

Every log line and error message names a request by its route template
(``GET /{tenant}/{instance}/patients/{patientId}``), never by its concrete path:
concrete paths carry patient ids, external keys (which can be MRNs) and CDT names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Path segments that are part of Welkin's route vocabulary, kept verbatim.
_STATIC_SEGMENTS = frozenset(
    {
        "admin",
        "api_clients",
        "assessments",
        "audit-data",
        "audit-webhook",
        "by-filter",
        "calendar",
        "cdts",
        "current",
        "disposition",
        "encounters",
        "events",
        "export",
        "formations",
        "full-encounters",
        "patients",
        "users",
        "work-hours",
        "psm-schedules",
    }
)

# What an unknown segment is, named by the segment before it.
_PLACEHOLDER_AFTER = {
    "api_clients": "{clientName}",
    "patients": "{patientId}",
    "users": "{userId}",
    "encounters": "{encounterId}",
    "full-encounters": "{encounterId}",
    "events": "{eventId}",
    "cdts": "{cdtName}",
    "{cdtName}": "{recordId}",
    "export": "{type}",
    "formations": "{version}",
}


def route_template(url_or_path: str) -> str:
    """Return the route template of a Welkin URL or path, without its query string.

    >>> route_template("https://h/acme/prod/patients/0b5e/cdts/allergies/9f1c?x=1")
    '/{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}/{recordId}'
    >>> route_template("/acme/admin/users/jdoe")
    '/{tenant}/admin/users/{userId}'
    """
    path = (
        urlsplit(url_or_path).path
        if "://" in url_or_path
        else url_or_path.split("?", maxsplit=1)[0]
    )
    segments = [s for s in path.split("/") if s]
    if not segments:
        return "/"
    out = ["{tenant}"]
    if len(segments) > 1:
        out.append("admin" if segments[1] == "admin" else "{instance}")
    for segment in segments[2:]:
        if segment in _STATIC_SEGMENTS:
            out.append(segment)
        else:
            out.append(_PLACEHOLDER_AFTER.get(out[-1], "{id}"))
    return "/" + "/".join(out)
