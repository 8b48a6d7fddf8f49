"""Compare an emulator response with the facts recorded from the real API (fixtures)."""

from __future__ import annotations

import re
from typing import Any

import requests

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TS_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
FORMATS = {"uuid": UUID, "timestamp_utc": TS_UTC, "timestamp_local": TS_LOCAL}

# Keys a later recording of the same resource added: the emulator serves the newest shape
# (patients: test_patient_create_birthdate, August 2022, has the first three; the May 2022 ones
# do not; the 2023 records add accessCode and preferableInstancePhoneId).
PATIENT_NEWER_KEYS = frozenset(
    {"nric", "primaryPhoneCapabilities", "secondaryPhoneCapabilities", "accessCode",
     "preferableInstancePhoneId"}
)  # fmt: skip
# Keys the real API leaves out while their value is null (recorded for users: a created user
# has no firstName/lastName/phone..., a read one has updatedByName but no createdByName); a
# real tenant's list (2026) has fullTerritoriesAccessInstances on some users and no
# userAttributes, which the 2022 recordings still show.
USER_OPTIONAL_KEYS = frozenset(
    {"createdByName", "updatedByName", "firstName", "lastName", "phone", "timezone", "locale",
     "credentials", "fullTerritoriesAccessInstances", "userAttributes"}
)  # fmt: skip
OPTIONAL_KEYS = {
    "": USER_OPTIONAL_KEYS,
    # An encounter's related user (full-encounters).
    "userRelatedToCalendarEvent": USER_OPTIONAL_KEYS,
}
TENANT_DEFINED = frozenset({"customUserAttributes", "userAttributes"})
# CDT system fields: the rest of a record's jsonBody follows the tenant's formation, which
# changed between recordings made months apart (dispositions: notes only, then four fields).
CDT_SYSTEM_KEYS = frozenset(
    {"id", "external_id", "external_guid", "created_at", "created_by", "created_by_name",
     "updated_at", "updated_by", "updated_by_name", "source_type", "source_name", "source_id"}
)  # fmt: skip


def kind(value: Any) -> str:
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


def collect(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        out["keys"].setdefault(path, set()).update(value)
        for k, v in value.items():
            collect(v, f"{path}.{k}" if path else k, out)
    elif isinstance(value, list):
        for item in value:
            collect(item, path + "[]", out)
    else:
        out["leaves"].setdefault(path, []).append(value)


def facts(data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"keys": {}, "leaves": {}}
    collect(data, "", out)
    return out


def _optional_path(path: str, optional: bool) -> bool:
    """Whether the object at ``path`` is the value of a key its parent may lack."""
    parent, _, key = path.rpartition(".")
    return optional and key.rstrip("[]") in OPTIONAL_KEYS.get(parent, set())


def _tenant_defined(path: str) -> bool:
    """Objects whose keys each tenant defines (a user's custom attributes)."""
    return any(seg in TENANT_DEFINED for seg in path.replace("[]", "").split("."))


def _check_binary(where: str, resp: requests.Response) -> None:
    """A file download: bytes that are not UTF-8 text."""
    assert resp.content, f"{where}: body should hold the file"
    try:
        resp.content.decode()
    except UnicodeDecodeError:
        return
    raise AssertionError(f"{where}: body should be binary")


def check_exchange(  # noqa: C901, PLR0912 - one check per recorded fact
    expected: dict[str, Any],
    resp: requests.Response,
    *,
    optional: bool = False,
    skip_constants: frozenset[str] = frozenset(),
    newer_keys: frozenset[str] = frozenset(),
    formation_bodies: frozenset[str] = frozenset(),
    skip_headers: frozenset[str] = frozenset(),
) -> None:
    """Assert that ``resp`` matches the recorded exchange ``expected``.

    ``formation_bodies``: CDT ``jsonBody`` paths where only the system fields must match.
    """
    where = f"{expected['method']} {expected['route']}"
    assert resp.status_code == expected["status"], (
        f"{where}: status {resp.status_code}: {resp.text[:300]}"
    )
    for name, value in expected["headers"].items():
        if name in skip_headers:
            continue
        assert resp.headers.get(name) == value, f"{where}: header {name}={resp.headers.get(name)!r}"
    if "content-type" not in expected["headers"]:
        assert "content-type" not in resp.headers, f"{where}: unexpected content-type"
    if expected["body"] == "empty":
        assert resp.content == b"", f"{where}: body should be empty"
        return
    if expected["body"] == "binary":
        _check_binary(where, resp)
        return
    data = resp.json()
    assert kind(data) == expected["body"], f"{where}: body is {kind(data)}"
    got = facts(data)
    for path, keys in expected["keys"].items():
        if _tenant_defined(path):
            continue
        if path not in got["keys"] and _optional_path(path, optional):
            continue
        assert path in got["keys"], f"{where}: no object at {path!r}"
        have, want = set(got["keys"][path]), set(keys)
        if optional:
            opt = OPTIONAL_KEYS.get(path, set())
            have, want = have - opt, want - opt
        if path == "":
            have -= newer_keys - want
        if path in formation_bodies:
            have, want = have & CDT_SYSTEM_KEYS, want & CDT_SYSTEM_KEYS
        assert have == want, (
            f"{where}: keys at {path!r}: missing {want - have}, extra {have - want}"
        )
    paths = {p for p in got["keys"] if not _tenant_defined(p)}
    recorded = {
        p for p in expected["keys"] if not _optional_path(p, optional) and not _tenant_defined(p)
    }
    assert recorded <= paths and not {
        p for p in paths - recorded if not _optional_path(p, optional)
    }, f"{where}: object paths differ: {sorted(paths ^ recorded)}"
    for path, types in expected["types"].items():
        for value in got["leaves"].get(path, []):
            if value is not None and not (kind(value) == "int" and "float" in types):
                assert kind(value) in types, f"{where}: {path} is {kind(value)}, expected {types}"
    for path, fmt in expected["formats"].items():
        for value in got["leaves"].get(path, []):
            if isinstance(value, str):
                assert FORMATS[fmt].match(value), f"{where}: {path} is not a {fmt}"
    for path, value in expected["constants"].items():
        if path in skip_constants:
            continue
        values = got["leaves"].get(path, [])
        assert values, f"{where}: no value at {path}"
        assert all(v == value for v in values), f"{where}: {path} should be {value!r}, got {values}"
    if "error" in expected:
        err = expected["error"]
        item = data[0]
        assert item["errorCode"] == err["errorCode"]
        assert item["componentType"] == err["componentType"]
        assert item["message"] == err["message"]
        assert sorted(item["details"]) == err["details_keys"]
        assert ("date" in item) == err["has_date"]
