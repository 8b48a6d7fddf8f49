"""Narrow unit tests of welkin-client's pure logic (no network)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError
from welkin_client.errors import (
    TokenRejected,
    WelkinAuthError,
    WelkinExportForbidden,
    WelkinForbidden,
    WelkinNotFound,
    WelkinRejected,
    classify_response,
)
from welkin_client.pagination import (
    ExportBoundary,
    ExportCursorPaginator,
    ExportCursorStuck,
    MetaInfoPaginator,
    NamedPagePaginator,
    SpringPagePaginator,
)
from welkin_client.paths import route_template
from welkin_client.ratelimit import RateBudget
from welkin_client.retry import retry_after_seconds, wait_generator
from welkin_client.settings import base_url_from_config

BASE = "https://api.live.welkincloud.io/acme/prod"


def response(
    status: int,
    body: object,
    url: str = f"{BASE}/patients",
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode() if body is not None else b""
    resp.headers.update(headers or {})
    resp.request = requests.Request(method, url).prepare()
    resp.url = url
    return resp


@pytest.mark.parametrize(
    ("url", "template"),
    [
        (
            f"{BASE}/patients/5f0c/cdts/allergies/9a1b",
            "/{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}/{recordId}",
        ),
        (f"{BASE}/patients/MRN-0042?type=MRN", "/{tenant}/{instance}/patients/{patientId}"),
        (f"{BASE}/export/PATIENT?start=2024-01-01", "/{tenant}/{instance}/export/{type}"),
        ("https://h/acme/admin/users/jane.doe", "/{tenant}/admin/users/{userId}"),
        ("https://h/acme/admin/api_clients/CLIENT", "/{tenant}/admin/api_clients/{clientName}"),
        (f"{BASE}/calendar/events/ev-1", "/{tenant}/{instance}/calendar/events/{eventId}"),
        (f"{BASE}/by-filter/patients?page=3", "/{tenant}/{instance}/by-filter/patients"),
    ],
)
def test_route_template_hides_every_identifier(url: str, template: str) -> None:
    assert route_template(url) == template


def test_error_message_names_code_route_and_field_but_no_value() -> None:
    body = [
        {
            "errorCode": "VALIDATION_ERROR",
            "componentType": "CDT",
            "message": "bad value 'Peanuts'",
            "details": {"field": "cdtf-allergen"},
            "date": "2024-01-01T00:00:00.000Z",
        }
    ]
    resp = response(400, body, url=f"{BASE}/patients/p-123/cdts/allergies", method="POST")
    with pytest.raises(WelkinRejected) as info:
        classify_response(resp)
    message = str(info.value)
    assert message == (
        "Welkin API 400 VALIDATION_ERROR on POST "
        "/{tenant}/{instance}/patients/{patientId}/cdts/{cdtName} (field: cdtf-allergen)"
    )
    assert "Peanuts" not in message and "p-123" not in message and "allergies" not in message
    assert info.value.error_code == "VALIDATION_ERROR"
    assert info.value.field == "cdtf-allergen"


@pytest.mark.parametrize(
    ("status", "body", "url", "expected"),
    [
        (401, [{"errorCode": "TOKEN_EXPIRED"}], f"{BASE}/patients", TokenRejected),
        (401, [{"errorCode": "NOT_VALID_JSON_WEB_TOKEN"}], f"{BASE}/patients", TokenRejected),
        (401, [{"errorCode": "SOMETHING_ELSE"}], f"{BASE}/patients", WelkinAuthError),
        (
            403,
            [{"errorCode": "ACCESS_FOR_API_CLIENT_RESTRICTED"}],
            f"{BASE}/export/PATIENT",
            WelkinExportForbidden,
        ),
        (
            403,
            [{"errorCode": "ACCESS_FOR_API_CLIENT_RESTRICTED"}],
            f"{BASE}/patients/x",
            WelkinForbidden,
        ),
        (404, None, f"{BASE}/nowhere", WelkinNotFound),
        (429, [{"errorCode": "TOO_MANY_REQUESTS"}], f"{BASE}/patients", RetriableAPIError),
        (502, None, f"{BASE}/patients", RetriableAPIError),
        (409, [], f"{BASE}/patients", WelkinRejected),
    ],
)
def test_classification(status: int, body: object, url: str, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        classify_response(response(status, body, url=url))


def test_success_is_not_an_error() -> None:
    classify_response(response(201, {"id": "x"}))


def test_retry_after_sets_the_wait_and_jitter_bounds_the_rest() -> None:
    gen = wait_generator(base=0.5, cap=4)
    next(gen)
    throttled = RetriableAPIError("429", response(429, None, headers={"Retry-After": "7"}))
    assert gen.send(throttled) == 7.0
    waits = [gen.send(RetriableAPIError("503", response(503, None))) for _ in range(6)]
    assert all(0 <= w <= 4 for w in waits)
    assert retry_after_seconds(response(429, None, headers={"Retry-After": "100000"})) == 300.0
    assert retry_after_seconds(response(429, None)) is None


def test_spring_named_and_metainfo_paginators_stop_on_the_envelope_flag() -> None:
    spring = SpringPagePaginator()
    page = {"content": [{"id": 1}], "last": False, "number": 0}
    assert spring.records(page) == [{"id": 1}]
    spring.advance(response(200, page))
    assert spring.current_value == 1 and not spring.finished
    # A short page that is not flagged last does not stop paging.
    spring.advance(response(200, {"content": [], "last": True, "number": 1}))
    assert spring.finished

    named = NamedPagePaginator()
    body = {"name": "allergies", "data": {"content": [{"id": "a"}], "last": True}}
    assert named.records(body) == [{"id": "a"}]
    named.advance(response(200, body))
    assert named.finished

    meta = MetaInfoPaginator()
    meta.advance(response(200, {"data": [], "metaInfo": {"page": 0, "lastPage": False}}))
    assert meta.current_value == 1
    meta.advance(response(200, {"data": [], "metaInfo": {"page": 1, "lastPage": True}}))
    assert meta.finished


def test_export_cursor_follows_end_and_refuses_to_loop() -> None:
    pager = ExportCursorPaginator("2024-01-01T00:00:00.000Z")
    pager.advance(
        response(200, {"data": [], "cursor": {"end": "2024-02-01T00:00:00.000Z", "hasNext": True}})
    )
    assert pager.current_value == "2024-02-01T00:00:00.000Z"
    with pytest.raises(ExportCursorStuck, match="did not advance"):
        pager.advance(
            response(
                200, {"data": [], "cursor": {"end": "2024-02-01T00:00:00.000Z", "hasNext": True}}
            )
        )
    done = ExportCursorPaginator(None)
    done.advance(response(200, {"data": [], "cursor": {"end": None, "hasNext": False}}))
    assert done.finished


def test_export_boundary_drops_repeated_boundary_items_only() -> None:
    boundary = ExportBoundary()
    first = [
        {"id": "a", "updatedAt": "T1"},
        {"id": "b", "updatedAt": "T2"},
        {"id": "c", "updatedAt": "T2"},
    ]
    assert [i["id"] for i in boundary.fresh(first)] == ["a", "b", "c"]
    # Inclusive start: b and c come again; d shares their timestamp and is new.
    second = [
        {"id": "b", "updatedAt": "T2"},
        {"id": "c", "updatedAt": "T2"},
        {"id": "d", "updatedAt": "T2"},
        {"id": "e", "jsonBody": {"updated_at": "T3"}},
    ]
    assert [i["id"] for i in boundary.fresh(second)] == ["d", "e"]
    # A record updated again later is a new version, not a duplicate.
    assert [i["id"] for i in boundary.fresh([{"id": "b", "updatedAt": "T4"}])] == ["b"]


def test_rate_budget_spaces_requests() -> None:
    budget = RateBudget(per_second=5)
    started = time.monotonic()
    for _ in range(11):
        budget.spend()
    # 11 requests at 5/s need at least two full windows.
    assert time.monotonic() - started >= 1.5
    unlimited = RateBudget(per_second=0)
    started = time.monotonic()
    for _ in range(1000):
        unlimited.spend()
    assert time.monotonic() - started < 0.5


def test_cdt_stream_names_are_one_rule_for_tap_and_target() -> None:
    from welkin_client.naming import cdt_stream_name

    assert cdt_stream_name("cdt-self-care") == "cdt_cdt_self_care"
    assert cdt_stream_name("Allergies--2024-") == "cdt_allergies_2024"
    clashing = ["Vitals", "vitals"]
    names = [cdt_stream_name(n, clashing) for n in clashing]
    assert len(set(names)) == 2 and all(n.startswith("cdt_vitals_") for n in names)
    assert cdt_stream_name("records") != "cdt_records"
    long_name = "x" * 100
    assert len(cdt_stream_name(long_name)) <= 63
    assert cdt_stream_name(long_name) == cdt_stream_name(long_name, [long_name, "other"])


@pytest.mark.parametrize(
    ("config", "base_url"),
    [
        ({}, "https://api.live.welkincloud.io"),
        ({"environment": "eu-1"}, "https://api.eu-1.welkincloud.io"),
        (
            {"api_url": "https://proxy.example.org:8443/welkin/"},
            "https://proxy.example.org:8443/welkin",
        ),
        ({"api_url": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
        ({"api_url": "http://localhost:8080"}, "http://localhost:8080"),
        ({"api_url": "http://[::1]:8080"}, "http://[::1]:8080"),
        ({"api_url": "http://10.0.0.5", "allow_insecure_http": True}, "http://10.0.0.5"),
    ],
)
def test_accepted_connection_settings_build_the_base_url(
    config: dict[str, object], base_url: str
) -> None:
    assert base_url_from_config(config) == base_url


@pytest.mark.parametrize(
    ("config", "setting", "rule"),
    [
        ({"environment": "x@127.0.0.1:9/#"}, "environment", "host-name label"),
        ({"environment": "evil.example.org"}, "environment", "host-name label"),
        ({"environment": "Live"}, "environment", "host-name label"),
        ({"environment": "-live"}, "environment", "host-name label"),
        ({"environment": "a" * 64}, "environment", "host-name label"),
        ({"api_url": "http://welkin.example.org"}, "api_url", "https"),
        ({"api_url": "http://10.0.0.5", "allow_insecure_http": False}, "api_url", "https"),
        ({"api_url": "http://127.0.0.1.example.org"}, "api_url", "https"),
        ({"api_url": "https://user:pw@welkin.example.org"}, "api_url", "without user"),
        ({"api_url": "https://welkin.example.org/?x=1"}, "api_url", "without query"),
        ({"api_url": "https://welkin.example.org/#frag"}, "api_url", "without query"),
        ({"api_url": "ftp://welkin.example.org"}, "api_url", "absolute URL"),
        ({"api_url": "welkin.example.org"}, "api_url", "absolute URL"),
        ({"api_url": "https://welkin.example.org:port"}, "api_url", "absolute URL"),
    ],
)
def test_unsafe_connection_settings_are_refused_by_name_not_value(
    config: dict[str, object], setting: str, rule: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        base_url_from_config(config)
    message = str(caught.value)
    assert caught.value.errors == [message]
    assert f"'{setting}'" in message
    assert rule in message
    assert "\n" not in message
    for value in config.values():
        if isinstance(value, str):
            assert value not in message
