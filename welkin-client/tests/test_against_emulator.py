"""welkin-client against a real welkin-emulator process over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from welkin_client import WelkinAuthError, WelkinClient, WelkinNotFound
from welkin_client.errors import TokenUnavailable, WelkinConnectionError
from welkin_client.pagination import ExportCursorPaginator, SpringPagePaginator
from welkin_emulator.testing import EmulatorProcess, seed_database

TOKEN_TEMPLATE = "/{tenant}/admin/api_clients/{clientName}"
TOKEN_ROUTE = "POST " + TOKEN_TEMPLATE


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    db = tmp_path_factory.mktemp("client") / "welkin.db"
    seed_database(db, 30, seed=3)
    with EmulatorProcess(db) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _clean(emulator: EmulatorProcess) -> Iterator[None]:
    emulator.clear_faults()
    emulator.set_faults(token_lifetime=3600)
    emulator.reset_requests()
    yield
    emulator.clear_faults()


def client_for(emulator: EmulatorProcess, **overrides: object) -> WelkinClient:
    config = {
        "api_url": emulator.url,
        "tenant": "demo",
        "instance": "sandbox",
        "api_client": "DEMOCLIENT",
        "secret_key": "demo-secret",
        "max_requests_per_second": 0,
        "request_timeout": 5,
        **overrides,
    }
    return WelkinClient(config)


def test_one_token_serves_many_requests(emulator: EmulatorProcess) -> None:
    client = client_for(emulator)
    for _ in range(5):
        client.request("POST", "by-filter/patients", params={"size": 1}, json={})
    assert emulator.requests().get(TOKEN_ROUTE) == 1


def test_token_is_refreshed_before_it_expires(emulator: EmulatorProcess) -> None:
    emulator.set_faults(token_lifetime=2)
    client = client_for(emulator)
    started = time.monotonic()
    calls = 0
    while time.monotonic() - started < 5:
        client.request("POST", "by-filter/patients", params={"size": 1}, json={})
        calls += 1
        time.sleep(0.2)
    counts = emulator.requests()
    # Refreshed ahead of expiry: no request ever met an expired token (no 401, no retry).
    assert counts.get(TOKEN_ROUTE, 0) >= 3
    assert counts["POST /{tenant}/{instance}/by-filter/patients"] == calls


def test_a_refused_token_is_replaced_once(emulator: EmulatorProcess) -> None:
    client = client_for(emulator)
    client.tokens.token  # noqa: B018 - fetch one
    # Simulate a token Welkin no longer accepts (e.g. revoked), still "fresh" locally.
    client.tokens._token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LXNpZ25lZA"
    response = client.request("POST", "by-filter/patients", params={"size": 1}, json={})
    assert response.status_code == 200
    assert emulator.requests().get(TOKEN_ROUTE) == 2


def test_wrong_secret_fails_at_once_with_a_clear_message(emulator: EmulatorProcess) -> None:
    client = client_for(emulator, secret_key="not-the-secret")
    with pytest.raises(WelkinAuthError) as info:
        client.request("GET", "patients/x")
    assert "refused the API client's secret" in str(info.value)
    assert "not-the-secret" not in str(info.value)
    assert emulator.requests().get(TOKEN_ROUTE) == 1  # not retried


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ({"action": "malformed"}, "was not JSON"),  # truncated body, status 200
        ({"action": "error", "status": 200}, "had no token"),  # JSON without a token
    ],
)
def test_a_malformed_token_answer_is_retried(
    emulator: EmulatorProcess, fault: dict[str, object], problem: str
) -> None:
    client = client_for(emulator)
    emulator.script_faults([{"method": "POST", "route": TOKEN_TEMPLATE, "times": 2, **fault}])
    response = client.request("POST", "by-filter/patients", params={"size": 1}, json={})
    assert response.status_code == 200
    assert emulator.requests().get(TOKEN_ROUTE) == 3
    assert client.tokens.fetch_count == 1


def test_a_token_answer_malformed_on_every_try_names_the_route_not_the_body(
    emulator: EmulatorProcess,
) -> None:
    client = client_for(emulator, max_retries=2)
    emulator.script_faults(
        [{"method": "POST", "route": TOKEN_TEMPLATE, "action": "malformed", "times": -1}]
    )
    with pytest.raises(TokenUnavailable) as info:
        client.tokens.token  # noqa: B018 - the token call alone, with its own retries
    message = str(info.value)
    assert message.startswith("Welkin's token call failed on all 2 attempts (max_retries)")
    assert message.endswith(f"was not JSON on {TOKEN_ROUTE}")
    assert "firstName" not in message  # a part of the truncated body
    assert "DEMOCLIENT" not in message
    assert emulator.requests() == {TOKEN_ROUTE: 2, "total": 2}


@pytest.mark.parametrize(
    "fault", [{"action": "error", "status": 503}, {"action": "drop"}, {"action": "malformed"}]
)
def test_a_dead_token_call_is_not_retried_around_its_own_retries(
    emulator: EmulatorProcess, fault: dict[str, object]
) -> None:
    # Each request attempt asks for a token: retried around the token call's own
    # retries, a dead token endpoint cost max_retries squared calls (9 here).
    client = client_for(emulator, max_retries=3)
    emulator.script_faults([{"method": "POST", "route": TOKEN_TEMPLATE, "times": -1, **fault}])
    # 'failed on all 3 attempts', or for dropped connections 'gave up after 3 attempts'.
    with pytest.raises(TokenUnavailable, match=r"(failed on all|gave up after) 3 attempts"):
        client.request("POST", "by-filter/patients", params={"size": 1}, json={})
    assert emulator.requests() == {TOKEN_ROUTE: 3, "total": 3}
    # Other callers (writer threads) hear the same at once, with no more calls.
    with pytest.raises(TokenUnavailable):
        client.request("GET", "patients/x")
    assert emulator.requests() == {TOKEN_ROUTE: 3, "total": 3}


def test_throttling_errors_and_drops_are_retried(emulator: EmulatorProcess) -> None:
    client = client_for(emulator)
    route = "/{tenant}/{instance}/by-filter/patients"
    emulator.script_faults(
        [
            {"method": "POST", "route": route, "action": "throttle", "retry_after": 1, "times": 1},
            {"method": "POST", "route": route, "action": "error", "status": 503, "times": 1},
            {"method": "POST", "route": route, "action": "drop", "times": 1},
        ]
    )
    started = time.monotonic()
    response = client.request("POST", "by-filter/patients", params={"size": 5}, json={})
    assert len(response.json()["content"]) == 5
    assert emulator.requests()["POST " + route] == 4
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_transport_errors_name_the_route_not_the_url(emulator: EmulatorProcess) -> None:
    client = client_for(emulator, max_retries=1)
    patient_id = "0d9f3c1e-aaaa-bbbb-cccc-000000000001"
    client.tokens.token  # noqa: B018 - the drop is for the patient request
    emulator.script_faults([{"action": "drop", "times": 1}])
    with pytest.raises(WelkinConnectionError) as info:
        client.request("GET", f"patients/{patient_id}")
    host = emulator.api_url.split("//", 1)[1].split("/", 1)[0]
    route = "GET /{tenant}/{instance}/patients/{patientId}"
    assert str(info.value).startswith(f"ConnectionError talking to {host} on {route}: gave up")
    assert patient_id not in str(info.value)


def test_not_found_is_classified_and_safe(emulator: EmulatorProcess) -> None:
    client = client_for(emulator)
    with pytest.raises(WelkinNotFound) as info:
        client.request("GET", "patients/MRN-SECRET-42", params={"type": "MRN"})
    assert "MRN-SECRET-42" not in str(info.value)
    assert "404" in str(info.value)


def test_paginators_read_every_record_once(emulator: EmulatorProcess) -> None:
    client = client_for(emulator)
    by_filter = list(
        client.paginate(
            "by-filter/patients", SpringPagePaginator(), method="POST", json={}, params={"size": 7}
        )
    )
    exported = list(
        client.paginate(
            "export/PATIENT",
            ExportCursorPaginator(None),
            params={"pageSize": 7},
            token_param="start",
        )
    )
    assert len(by_filter) == 30
    assert {p["id"] for p in by_filter} == {p["id"] for p in exported}
    assert len({p["id"] for p in exported}) == len(exported)
