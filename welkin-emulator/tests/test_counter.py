"""The request counter: per method and route template, exact, resettable, control routes excluded."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests
from emulator_kit import Api


def test_counts_per_method_and_route_template(api: Api) -> None:
    api.emu.reset_requests()
    assert api.emu.requests() == {"total": 0}
    p = api.new_patient()
    for _ in range(3):
        api.get(f"patients/{p['id']}")
    api.get("export/PATIENT", params={"pageSize": 2})
    api.get("export/CDT_RECORD", params={"pageSize": 2})
    api.get("admin/users")
    api.get("no/such/route")
    counts = api.emu.requests()
    assert counts == {
        "POST /{tenant}/{instance}/patients": 1,
        "GET /{tenant}/{instance}/patients/{patientId}": 3,
        "GET /{tenant}/{instance}/export/{type}": 2,
        "GET /{tenant}/admin/users": 1,
        "GET <unmatched>": 1,
        "total": 8,
    }


def test_control_routes_are_not_counted_and_reset_works(api: Api) -> None:
    api.emu.reset_requests()
    api.get("formations/current/cdts")
    for _ in range(3):
        requests.get(f"{api.emu.url}/_emulator/health", timeout=5)
        api.emu.faults()
    assert api.emu.requests()["total"] == 1
    r = requests.delete(f"{api.emu.url}/_emulator/requests", timeout=5)
    assert r.json() == {"total": 0}
    assert api.emu.requests() == {"total": 0}


def test_token_calls_and_faulted_requests_are_counted(api: Api) -> None:
    api.emu.reset_requests()
    api.emu.token()
    api.emu.script_faults([{"action": "drop"}, {"action": "error", "status": 503}])
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.url("formations/current/cdts"), headers=api.session.headers, timeout=5)
    assert api.get("formations/current/cdts").status_code == 503
    counts = api.emu.requests()
    assert counts["POST /{tenant}/admin/api_clients/{clientName}"] == 1
    assert counts["GET /{tenant}/{instance}/formations/{version}/cdts"] == 2
    assert counts["total"] == 3


def test_counter_is_exact_under_concurrency(api: Api) -> None:
    api.emu.reset_requests()
    headers = dict(api.session.headers)

    def hit(_: int) -> int:
        return requests.get(
            api.url("formations/current/encounters"), headers=headers, timeout=10
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(hit, range(120))) == {200}
    assert api.emu.requests() == {
        "GET /{tenant}/{instance}/formations/{version}/encounters": 120,
        "total": 120,
    }
