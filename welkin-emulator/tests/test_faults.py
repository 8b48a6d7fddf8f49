"""Every fault switch, from the command line and at run time, plus scripted faults."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import pytest
import requests
from emulator_kit import Api

from welkin_emulator.testing import EmulatorProcess

PATIENTS = "/{tenant}/{instance}/patients"


def count_patients(api: Api) -> int:
    return api.post("by-filter/patients", {}, params={"size": 1}).json()["totalElements"]


# -- run-time switches (PUT /_emulator/faults) ------------------------------------------------


def test_faults_endpoint_reports_and_validates(api: Api) -> None:
    settings = api.emu.faults()
    assert settings["latency_ms"] == 0 and settings["token_lifetime"] == 3600
    updated = api.emu.set_faults(error_rate=0.25, retry_after=3)
    assert updated["error_rate"] == 0.25 and updated["retry_after"] == 3
    assert api.emu.faults()["error_rate"] == 0.25
    for bad in ({"nope": 1}, {"error_rate": 2}, {"latency_ms": -1}, {"drop_rate": "x"}):
        r = requests.put(f"{api.emu.url}/_emulator/faults", json=bad, timeout=10)
        assert r.status_code == 400
    assert api.emu.faults()["error_rate"] == 0.25  # a rejected update changes nothing


def test_latency_does_not_serialise_clients(api: Api) -> None:
    api.emu.set_faults(latency_ms=400)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    requests.get(
                        api.url("formations/current/cdts"), headers=api.session.headers, timeout=10
                    ).status_code
                ),
                range(8),
            )
        )
    elapsed = time.monotonic() - started
    assert codes == [200] * 8
    assert 0.4 <= elapsed < 2.0, elapsed  # serialised, 8 x 400 ms would take 3.2 s


def test_error_rate(api: Api) -> None:
    api.emu.set_faults(error_rate=1.0)
    statuses = {api.get("formations/current/cdts").status_code for _ in range(30)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    api.emu.set_faults(error_rate=0.0)
    assert api.get("formations/current/cdts").status_code == 200


def test_error_rate_is_a_probability(api: Api) -> None:
    api.emu.set_faults(error_rate=0.5, seed=42)
    failures = sum(api.get("formations/current/cdts").status_code >= 500 for _ in range(200))
    assert 60 < failures < 140


def test_same_fault_seed_same_sequence(api: Api) -> None:
    def run() -> list[int]:
        api.emu.set_faults(error_rate=0.3, throttle_rate=0.2, seed=5)
        return [api.get("formations/current/cdts").status_code for _ in range(40)]

    assert run() == run()


def test_throttle_rate_sends_retry_after(api: Api) -> None:
    api.emu.set_faults(throttle_rate=1.0, retry_after=4)
    r = api.get("formations/current/cdts")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "4"
    assert r.json()[0]["errorCode"] == "TOO_MANY_REQUESTS"


def test_global_rate_limit(api: Api) -> None:
    api.emu.set_faults(rate_limit=5, retry_after=2)
    codes = [api.get("formations/current/cdts").status_code for _ in range(12)]
    assert codes[:5] == [200] * 5
    assert 429 in codes[5:]
    limited = next(
        r for r in (api.get("formations/current/cdts") for _ in range(5)) if r.status_code == 429
    )
    assert limited.headers["Retry-After"] == "2"
    time.sleep(1.05)
    assert api.get("formations/current/cdts").status_code == 200


def test_drop_rate_closes_the_connection(api: Api) -> None:
    api.emu.set_faults(drop_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.url("formations/current/cdts"), headers=api.session.headers, timeout=5)
    api.emu.set_faults(drop_rate=0.0)
    assert api.get("formations/current/cdts").status_code == 200


def test_malformed_rate_sends_broken_json(api: Api) -> None:
    api.emu.set_faults(malformed_rate=1.0)
    r = api.get("formations/current/cdts")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()


def test_clear_and_reset(api: Api) -> None:
    api.emu.set_faults(error_rate=1.0, latency_ms=10, token_lifetime=99)
    api.emu.script_faults([{"action": "error"}])
    api.emu.clear_faults()
    settings = api.emu.faults()
    assert settings["error_rate"] == 0 and settings["latency_ms"] == 0
    assert settings["token_lifetime"] == 99  # token settings are not faults
    assert requests.get(f"{api.emu.url}/_emulator/faults/script", timeout=10).json() == []
    api.emu.reset()
    assert api.emu.faults()["token_lifetime"] == 3600


# -- scripted faults --------------------------------------------------------------------------


def test_scripted_error_before_does_not_commit(api: Api) -> None:
    before = count_patients(api)
    api.emu.script_faults(
        [{"method": "POST", "route": PATIENTS, "action": "error", "status": 503, "times": 2}]
    )
    codes = [
        api.post("patients", {"firstName": "A", "lastName": "B"}).status_code for _ in range(3)
    ]
    assert codes == [503, 503, 201]
    assert count_patients(api) == before + 1


def test_scripted_error_after_commits_first(api: Api) -> None:
    before = count_patients(api)
    api.emu.script_faults(
        [{"method": "POST", "route": PATIENTS, "action": "error", "status": 500, "after": True}]
    )
    r = api.post("patients", {"firstName": "A", "lastName": "B"})
    assert r.status_code == 500
    assert r.json()[0]["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert count_patients(api) == before + 1  # ambiguous failure: the write happened


def test_scripted_drop_after_commits_first(api: Api) -> None:
    before = count_patients(api)
    api.emu.script_faults([{"method": "POST", "route": PATIENTS, "action": "drop", "after": True}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("patients", {"firstName": "A", "lastName": "B"})
    assert count_patients(api) == before + 1


def test_scripted_drop_before_does_not_commit(api: Api) -> None:
    before = count_patients(api)
    api.emu.script_faults([{"method": "POST", "route": PATIENTS, "action": "drop"}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("patients", {"firstName": "A", "lastName": "B"})
    assert count_patients(api) == before


def test_scripted_throttle_and_malformed(api: Api) -> None:
    api.emu.script_faults(
        [
            {
                "route": "/{tenant}/{instance}/formations/{version}/cdts",
                "action": "throttle",
                "retry_after": 9,
            },
            {"route": "/{tenant}/{instance}/formations/{version}/cdts", "action": "malformed"},
        ]
    )
    first = api.get("formations/current/cdts")
    assert first.status_code == 429 and first.headers["Retry-After"] == "9"
    second = api.get("formations/current/cdts")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        second.json()
    assert api.get("formations/current/cdts").json()


def test_scripted_401_looks_like_an_expired_token(api: Api) -> None:
    api.emu.script_faults(
        [
            {
                "method": "GET",
                "route": "/{tenant}/{instance}/export/{type}",
                "action": "error",
                "status": 401,
            }
        ]
    )
    r = api.get("export/PATIENT")
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "TOKEN_EXPIRED"
    assert api.get("export/PATIENT").status_code == 200


def test_scripted_timeout(api: Api) -> None:
    api.emu.script_faults(
        [
            {
                "route": "/{tenant}/{instance}/formations/{version}/cdts",
                "action": "timeout",
                "seconds": 3,
            }
        ]
    )
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(api.url("formations/current/cdts"), headers=api.session.headers, timeout=0.5)
    assert time.monotonic() - started < 2
    assert api.get("formations/current/cdts").status_code == 200  # other requests are unaffected


def test_script_matches_method_route_and_concrete_path_and_counts_down(api: Api) -> None:
    p = api.new_patient()
    left = api.emu.script_faults(
        [
            {
                "method": "PATCH",
                "route": f"/demo/sandbox/patients/{p['id']}",
                "action": "error",
                "status": 502,
            },
            {"method": "GET", "route": "*", "action": "latency", "ms": 1, "times": -1},
        ]
    )
    assert [e["times"] for e in left] == [1, -1]
    assert api.get(f"patients/{p['id']}").status_code == 200  # GET: latency only
    assert api.patch(f"patients/{p['id']}", {"firstName": "Z"}).status_code == 502
    assert api.patch(f"patients/{p['id']}", {"firstName": "Z"}).status_code == 200
    remaining = requests.get(f"{api.emu.url}/_emulator/faults/script", timeout=10).json()
    assert [e["action"] for e in remaining] == ["latency"]
    requests.delete(f"{api.emu.url}/_emulator/faults/script", timeout=10)
    assert requests.get(f"{api.emu.url}/_emulator/faults/script", timeout=10).json() == []


def test_script_is_validated(api: Api) -> None:
    for bad in (
        [{"action": "explode"}],
        [{"action": "error", "times": 0}],
        [{"action": "error", "status": 9}],
        {"no": "list"},
        [{"action": "error", "bogus": 1}],
    ):
        r = requests.post(f"{api.emu.url}/_emulator/faults/script", json=bad, timeout=10)
        assert r.status_code == 400, bad


def test_control_routes_are_never_faulted(api: Api) -> None:
    api.emu.set_faults(error_rate=1.0, drop_rate=1.0)
    assert requests.get(f"{api.emu.url}/_emulator/health", timeout=5).status_code == 200


# -- the same switches from the command line --------------------------------------------------


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "empty.db"


def test_cli_flags_set_the_start_up_faults(empty_db: Path) -> None:
    args = (
        "--latency-ms",
        "5",
        "--error-rate",
        "0.1",
        "--throttle-rate",
        "0.2",
        "--retry-after",
        "7",
        "--rate-limit",
        "50",
        "--token-lifetime",
        "1234",
        "--drop-rate",
        "0.05",
        "--malformed-rate",
        "0.04",
        "--fault-seed",
        "9",
        "--token-limit",
        "30",
        "--timeout-seconds",
        "12",
        "--export-exclusive-start",
    )
    with EmulatorProcess(empty_db, extra_args=args) as emu:
        assert emu.faults() == {
            "latency_ms": 5,
            "error_rate": 0.1,
            "throttle_rate": 0.2,
            "retry_after": 7,
            "rate_limit": 50,
            "token_lifetime": 1234,
            "drop_rate": 0.05,
            "malformed_rate": 0.04,
            "seed": 9,
            "token_limit": 30,
            "timeout_seconds": 12,
            "export_exclusive_start": 1,
        }
        emu.clear_faults()
        emu.reset()  # back to the CLI settings, not to the built-in defaults
        assert emu.faults()["retry_after"] == 7


@pytest.mark.parametrize(
    ("flags", "check"),
    [
        (("--error-rate", "1"), "error"),
        (("--throttle-rate", "1", "--retry-after", "6"), "throttle"),
        (("--drop-rate", "1"), "drop"),
        (("--malformed-rate", "1"), "malformed"),
        (("--rate-limit", "2"), "rate"),
        (("--latency-ms", "300"), "latency"),
        (("--token-lifetime", "0.2"), "lifetime"),
    ],
)
def test_cli_flag_behaviour(empty_db: Path, flags: tuple[str, ...], check: str) -> None:
    with EmulatorProcess(empty_db, extra_args=flags) as emu:
        if check == "lifetime":
            token = emu.token()
            time.sleep(0.3)
            r = requests.get(
                f"{emu.api_url}/patients", headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
            assert r.status_code == 401 and r.json()[0]["errorCode"] == "TOKEN_EXPIRED"
            return
        url = f"{emu.url}/demo/admin/api_clients/DEMOCLIENT"
        started = time.monotonic()
        if check == "drop":
            with pytest.raises(requests.exceptions.ConnectionError):
                requests.post(url, json={"secret": "demo-secret"}, timeout=5)
            return
        responses = [
            requests.post(url, json={"secret": "demo-secret"}, timeout=5) for _ in range(4)
        ]
        codes = [r.status_code for r in responses]
        if check == "error":
            assert all(c in (500, 502, 503) for c in codes)
        elif check == "throttle":
            assert codes == [429] * 4 and responses[0].headers["Retry-After"] == "6"
        elif check == "malformed":
            assert codes == [200] * 4
            with pytest.raises(requests.exceptions.JSONDecodeError):
                responses[0].json()
        elif check == "rate":
            assert codes[:2] == [200, 200] and 429 in codes[2:]
        elif check == "latency":
            assert codes == [200] * 4 and time.monotonic() - started >= 1.2
