"""One-off: turn the team's VCR recordings into the emulator's own contract fixtures.

Usage (from welkin-emulator/)::

    python tools/extract_fixtures.py ../../shared/welkin-recordings tests/fixtures/recordings.json

Needs PyYAML (not a dependency of the package). The tests never run this and never read the
recordings: they read the JSON this writes, which
keeps only facts (method, route template, status, headers, key sets per JSON path, JSON types and
value formats, error bodies without dates, a few constants) and no personal values.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TS_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
# Headers that vary per response or belong to AWS/TLS, not to the API contract.
SKIP_HEADERS = {"date", "set-cookie", "connection", "transfer-encoding", "content-length",
                "strict-transport-security"}  # fmt: skip
# Constants worth pinning (enum-like values, never personal data).
CONSTANT_KEYS = {
    "gender", "maritalStatus", "primaryLanguage", "userState", "enabled", "status", "cdtName",
    "eventStatus", "eventType", "eventMode", "participantRole", "participationStatus",
    "terminologyName", "statusType", "version", "type", "relation", "internal", "duration",
    "allDayEvent", "templateTitle", "instruction", "errorCode", "componentType", "message",
}  # fmt: skip
EXCLUDED = {
    "test_exception_no_json": "records httpbin.org/status/400, not the Welkin API",
}


# Path segments that name a resource (kept as they are in route templates).
LITERAL_SEGMENTS = frozenset(
    {"patients", "users", "cdts", "encounters", "calendar", "events", "admin", "api_clients",
     "formations", "by-filter", "export", "disposition", "full-encounters", "assessments",
     "assessment-records", "answers", "programs", "current", "history", "care-plan", "overview",
     "document-summary", "files", "chat", "inbound", "search", "sms", "emails", "psm-schedules",
     "work-hours", "audit-webhook", "audit-data", "encounter-disposition", "document-types",
     "goal-templates"}
)  # fmt: skip


def template(path: str) -> str:
    """Route template of a recorded path (``tenant_REDACTED`` etc. become placeholders)."""
    segs = [s for s in path.split("/") if s]
    out = ["{tenant}"]
    after = {"patients": "{patientId}", "users": "{userId}", "encounters": "{encounterId}",
             "events": "{eventId}", "cdts": "{cdtName}", "api_clients": "{clientName}",
             "formations": "{version}", "export": "{type}"}  # fmt: skip
    if len(segs) > 1:
        out.append("admin" if segs[1] == "admin" else "{instance}")
    for seg in segs[2:]:
        prev = out[-1]
        if seg in LITERAL_SEGMENTS and prev != "formations":  # formations/current: a version
            out.append(seg)
        elif prev == "{cdtName}":
            out.append("{recordId}")
        else:
            out.append(after.get(prev, "{id}"))
    return "/" + "/".join(out)


def kind(value: Any) -> str:
    """JSON type name."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "list" if isinstance(value, list) else "dict"


def fmt(value: str) -> str | None:
    """Format class of a string value, when it has one."""
    if UUID.match(value):
        return "uuid"
    if TS_UTC.match(value):
        return "timestamp_utc"
    if TS_LOCAL.match(value):
        return "timestamp_local"
    return None


def walk(value: Any, path: str, out: dict[str, Any]) -> None:
    """Collect key sets, JSON types, formats and constants per JSON path."""
    if isinstance(value, dict):
        out["keys"].setdefault(path, set()).update(value)
        for k, v in value.items():
            walk(v, f"{path}.{k}" if path else k, out)
    elif isinstance(value, list):
        for item in value:
            walk(item, path + "[]", out)
    else:
        leaf = path.rsplit(".", 1)[-1].rstrip("[]")
        if value is not None:
            out["types"].setdefault(path, set()).add(kind(value))
        if isinstance(value, str) and fmt(value):
            out["formats"].setdefault(path, set()).add(fmt(value))
        if leaf in CONSTANT_KEYS and kind(value) in ("str", "int", "bool", "null"):
            out["constants"].setdefault(path, []).append(value)


def describe_body(text: str | bytes) -> dict[str, Any]:
    """Facts about one response body."""
    if not text:
        return {"body": "empty"}
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        # A file download (document summary files): only its kind is a fact worth keeping.
        return {"body": "binary" if isinstance(text, bytes) else "text"}
    acc: dict[str, Any] = {"keys": {}, "types": {}, "formats": {}, "constants": {}}
    walk(data, "", acc)
    result: dict[str, Any] = {
        "body": kind(data),
        "keys": {p: sorted(k) for p, k in sorted(acc["keys"].items())},
        "types": {p: sorted(t) for p, t in sorted(acc["types"].items())},
        "formats": {p: sorted(f)[0] for p, f in sorted(acc["formats"].items()) if len(f) == 1},
        "constants": {
            p: v[0] for p, v in sorted(acc["constants"].items()) if len(set(map(str, v))) == 1
        },
    }
    if isinstance(data, dict) and isinstance(data.get("fields"), list):
        # A CDT definition: pin every field's name, type and editability, in order.
        result["formation_fields"] = [
            [f["name"], f["type"], f["editable"], f["displayType"], f["valueType"]]
            for f in data["fields"]
        ]
    if isinstance(data, list) and data and isinstance(data[0], dict) and "errorCode" in data[0]:
        err = data[0]
        result["error"] = {"errorCode": err["errorCode"], "componentType": err["componentType"],
                           "message": err["message"], "details_keys": sorted(err["details"]),
                           "has_date": "date" in err}  # fmt: skip
    return result


def main(src: str, dest: str) -> None:
    """Write the fixture file."""
    recordings = []
    # The recordings, then the patients and patient programs their tests set up (``fixtures/``).
    for path in [*sorted(Path(src).glob("*.yaml")), *sorted(Path(src).glob("fixtures/*.yaml"))]:
        name = path.relative_to(src).with_suffix("").as_posix()
        doc = yaml.safe_load(path.read_text())
        entry: dict[str, Any] = {"recording": name, "exchanges": []}
        if name in EXCLUDED:
            entry["excluded"] = EXCLUDED[name]
        for it in doc["interactions"]:
            req, resp = it["request"], it["response"]
            url = urlsplit(req["uri"])
            headers = {k.lower(): v[0] for k, v in resp["headers"].items()
                       if k.lower() not in SKIP_HEADERS}  # fmt: skip
            body = req.get("body")
            exchange = {
                "method": req["method"],
                "route": template(url.path),
                "query": dict(parse_qsl(url.query)),
                "request_keys": sorted(json.loads(body)) if body else None,
                "status": resp["status"]["code"],
                "headers": headers,
                **describe_body(resp["body"]["string"]),
            }
            entry["exchanges"].append(exchange)
        recordings.append(entry)
    Path(dest).write_text(json.dumps(recordings, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(recordings)} recordings to {dest}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
