"""HTTP edge cases a faithful server gets right: half-sent requests, scripted 4xx codes."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from emulator_kit import Api

from welkin_emulator.testing import EmulatorProcess


def total_patients(api: Api) -> int:
    page = api.post("by-filter/patients", {}, params={"size": 1}).json()
    return int(page["totalElements"])


def test_a_request_cut_short_by_the_client_is_not_processed(api: Api) -> None:
    before = total_patients(api)
    url = urlsplit(api.emu.url)
    body = b'{"firstName": "Half", "lastName": "Sent", "externalId": "HALF-1"}'
    head = (
        f"POST {urlsplit(api.url('patients')).path} HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\nAuthorization: Bearer {api.token}\r\n"
        # More bytes announced than sent: the client dies before the rest (a body of
        # trailing spaces would still be valid JSON, so a server must not act on it).
        f"Content-Type: application/json\r\nContent-Length: {len(body) + 40}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head + body)
    time.sleep(0.5)
    assert total_patients(api) == before
    assert api.get("patients/HALF-1", params={"type": "EID"}).status_code == 404


def test_scripted_client_errors_carry_welkins_error_codes(api: Api) -> None:
    route = "/{tenant}/{instance}/by-filter/patients"
    for status, code in ((403, "ACCESS_FOR_API_CLIENT_RESTRICTED"), (400, "VALIDATION_ERROR")):
        api.emu.script_faults([{"route": route, "action": "error", "status": status}])
        response = api.post("by-filter/patients", {})
        assert response.status_code == status
        assert response.json()[0]["errorCode"] == code


def test_export_start_can_be_made_exclusive(seeded_db: Path) -> None:
    with EmulatorProcess(seeded_db, extra_args=("--export-exclusive-start",)) as emu:
        api = Api(emu)
        first = api.get("export/PATIENT", params={"pageSize": 5}).json()
        second = api.get(
            "export/PATIENT", params={"pageSize": 5, "start": first["cursor"]["end"]}
        ).json()
        assert api.get("/_emulator/faults").json()["export_exclusive_start"] == 1
    # Inclusive (the default) repeats the boundary item; exclusive starts after it.
    assert first["data"][-1]["updatedAt"] == first["cursor"]["end"]
    assert second["data"][0]["updatedAt"] > first["cursor"]["end"]
    assert not {p["id"] for p in first["data"]} & {p["id"] for p in second["data"]}
