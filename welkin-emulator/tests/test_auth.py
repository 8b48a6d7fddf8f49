"""Token endpoint, bearer auth, the recorded 401/403/404 bodies, tenants and instances."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from emulator_kit import Api

from welkin_emulator.testing import EmulatorProcess


def token_call(
    emu: EmulatorProcess,
    client: str = "DEMOCLIENT",
    secret: str = "demo-secret",
    tenant: str = "demo",
) -> requests.Response:
    return requests.post(
        f"{emu.url}/{tenant}/admin/api_clients/{client}", json={"secret": secret}, timeout=10
    )


def assert_error(
    r: requests.Response, status: int, code: str, component: str, message: str | None = None
) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert isinstance(body, list) and len(body) >= 1
    item = body[0]
    assert set(item) >= {"errorCode", "componentType", "message", "details"}
    assert (item["errorCode"], item["componentType"]) == (code, component)
    if message is not None:
        assert item["message"] == message
    return item


def test_token_is_jwt_shaped(api: Api) -> None:
    r = token_call(api.emu)
    assert r.status_code == 200
    assert list(r.json()) == ["token"]
    assert len(r.json()["token"].split(".")) == 3


@pytest.mark.parametrize(
    ("client", "secret", "tenant"),
    [
        ("DEMOCLIENT", "wrong", "demo"),
        ("NOBODY", "demo-secret", "demo"),
        ("DEMOCLIENT", "demo-secret", "nosuchtenant"),
    ],
)
def test_bad_credentials_get_a_json_array_4xx(
    api: Api, client: str, secret: str, tenant: str
) -> None:
    r = token_call(api.emu, client, secret, tenant)
    assert 400 <= r.status_code < 500
    item = r.json()[0]
    assert item["componentType"] == "AUTH"
    assert secret not in r.text


def test_missing_and_garbage_tokens_get_the_recorded_401(api: Api) -> None:
    url = api.url("patients")
    for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Bearer a.b.c"}):
        item = assert_error(
            requests.get(url, headers=headers, timeout=10),
            401,
            "NOT_VALID_JSON_WEB_TOKEN",
            "AUTH",
            "Not valid JWT",
        )
        assert item["details"] == {}
        assert "date" in item


def test_tampered_token_is_rejected(api: Api) -> None:
    head, payload, sig = api.token.split(".")
    forged = f"{head}.{payload}.{sig[:-2]}AA"
    r = requests.get(api.url("patients"), headers={"Authorization": f"Bearer {forged}"}, timeout=10)
    assert_error(r, 401, "NOT_VALID_JSON_WEB_TOKEN", "AUTH")


def test_expired_token_gets_token_expired_and_a_new_token_works(api: Api) -> None:
    api.emu.set_faults(token_lifetime=0.3)
    short = api.emu.token()
    time.sleep(0.4)
    r = requests.get(api.url("patients"), headers={"Authorization": f"Bearer {short}"}, timeout=10)
    item = assert_error(r, 401, "TOKEN_EXPIRED", "AUTH", "Aws Jwt Token has expired")
    assert item["details"] == {}
    api.emu.set_faults(token_lifetime=3600)
    fresh = api.emu.token()
    assert requests.get(
        api.url("patients"), headers={"Authorization": f"Bearer {fresh}"}, timeout=10
    ).ok


def test_token_throttle_after_100_requests_in_5_minutes(api: Api) -> None:
    with requests.Session() as s:
        url = f"{api.emu.url}/demo/admin/api_clients/NOEXPORT"
        codes = [
            s.post(url, json={"secret": "noexport-secret"}, timeout=10).status_code
            for _ in range(101)
        ]
        assert codes[:100] == [200] * 100
        item = assert_error(
            s.post(url, json={"secret": "noexport-secret"}, timeout=10),
            429,
            "TOO_MANY_REQUESTS",
            "AUTH",
        )
        assert item["details"] == {}
        assert codes[100] == 429
    # Per client: DEMOCLIENT is not blocked.
    assert token_call(api.emu).status_code == 200


def test_clear_faults_forgets_token_history(api: Api) -> None:
    api.emu.set_faults(token_limit=2)
    assert [token_call(api.emu, "NOEXPORT", "noexport-secret").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    api.emu.clear_faults()
    assert api.emu.faults()["token_limit"] == 2  # the setting stays
    assert token_call(api.emu, "NOEXPORT", "noexport-secret").status_code == 200


def test_token_limit_is_configurable(api: Api) -> None:
    api.emu.set_faults(token_limit=2)
    codes = [token_call(api.emu, "NOEXPORT", "noexport-secret").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_unknown_route_is_404_with_an_empty_body(api: Api) -> None:
    for method, path in (
        ("GET", "nothing-here"),
        ("PATCH", "admin/users/x/y"),
        ("GET", "/"),
        ("PUT", "patients"),
    ):
        r = api.request(method, path)
        assert r.status_code == 404
        assert r.content == b""
        assert r.headers["content-length"] == "0"


def test_unknown_instance_and_foreign_tenant_are_rejected(api: Api, tmp_path: Path) -> None:
    r = api.get("/demo/otherinstance/patients")
    item = assert_error(r, 403, "ACCESS_FOR_API_CLIENT_RESTRICTED", "AUTH")
    assert "date" not in item
    assert api.get("/ghost/sandbox/patients").status_code == 404
    config = {
        "tenants": [
            {
                "name": "demo",
                "instances": ["sandbox"],
                "apiClients": [{"name": "DEMOCLIENT", "secret": "demo-secret"}],
            },
            {
                "name": "acme",
                "instances": ["prod"],
                "apiClients": [{"name": "ACME", "secret": "acme-secret", "exportAllowed": False}],
            },
        ]
    }
    with EmulatorProcess(tmp_path / "two.db", config=config) as emu:
        acme = emu.token("ACME", "acme-secret", tenant="acme")
        h = {"Authorization": f"Bearer {acme}"}
        assert (
            requests.get(f"{emu.url}/acme/prod/patients", headers=h, timeout=10).status_code == 200
        )
        r = requests.get(f"{emu.url}/demo/sandbox/patients", headers=h, timeout=10)
        assert_error(r, 403, "ACCESS_FOR_API_CLIENT_RESTRICTED", "AUTH")
        r = requests.get(f"{emu.url}/acme/prod/export/PATIENT", headers=h, timeout=10)
        assert_error(r, 403, "ACCESS_FOR_API_CLIENT_RESTRICTED", "AUTH")
        assert (
            token_call(emu, "NOEXPORT", "noexport-secret").status_code == 401
        )  # not in this config


def test_export_forbidden_without_export_permission(api: Api) -> None:
    noexport = Api(api.emu, "NOEXPORT", "noexport-secret")
    for kind in ("PATIENT", "CDT_RECORD", "ENCOUNTER", "CALENDAR_EVENT"):
        r = noexport.get(f"export/{kind}")
        item = assert_error(
            r,
            403,
            "ACCESS_FOR_API_CLIENT_RESTRICTED",
            "AUTH",
            "Access to this API is restricted for the APIClient",
        )
        assert item["details"]["clientName"] == "NOEXPORT"
        assert item["details"]["clientType"] == "API_CLIENT"
        assert item["details"]["requestURI"] == f"/demo/sandbox/export/{kind}"
    # The same client may read everything else.
    assert noexport.post("by-filter/patients", {}).status_code == 200


def test_user_delete_is_forbidden(api: Api) -> None:
    user = api.active_user()
    assert_error(
        api.delete(f"admin/users/{user['id']}", params={"type": "ID"}),
        403,
        "ACCESS_FOR_API_CLIENT_RESTRICTED",
        "AUTH",
    )
