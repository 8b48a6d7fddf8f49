"""The receiver as a real process: authentication, validation, durable numbered storage."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests

from welkin_webhooks.testing import ReceiverProcess

SECRET = "hdr-s3cret-value"
PING = {
    "sourceId": "9be39258-9a81-4dc4-953a-630e4e5fc77b",
    "eventSubtype": "CDT_CREATED",
    "tenantName": "demo",
    "instanceName": "sandbox",
    "patientId": "89ec0634-50f3-40b1-981d-22ab39dd3037",
    "eventEntity": "CDT",
    "sourceName": "insurance",
    "url": "https://api.live.welkincloud.io/demo/sandbox/patients/x/cdts/insurance/y",
}


@pytest.fixture
def receiver(tmp_path: Path):
    with ReceiverProcess(tmp_path / "events.db", secret=SECRET) as process:
        yield process


def post(receiver: ReceiverProcess, body: Any, secret: str | None = SECRET, **kw: Any):
    headers = {receiver.header: secret} if secret is not None else {}
    return requests.post(receiver.url, json=body, headers=headers, timeout=10, **kw)


def rows(receiver: ReceiverProcess) -> list[tuple[Any, ...]]:
    with sqlite3.connect(receiver.event_log) as conn:
        return conn.execute(
            "SELECT seq, tenant, instance, entity, subtype, source_id, source_name, patient_id "
            "FROM welkin_events ORDER BY seq"
        ).fetchall()


def health(receiver: ReceiverProcess) -> dict[str, Any]:
    return requests.get(receiver.base_url + "/health", timeout=10).json()


def test_authenticates_by_header_in_constant_time_and_logs_no_value(receiver) -> None:
    assert post(receiver, PING, secret=None).status_code == 401
    wrong = post(receiver, PING, secret="hdr-s3cret-valuX")
    assert wrong.status_code == 401 and wrong.text == "Unauthorized"
    assert post(receiver, PING, secret=SECRET[:-1]).status_code == 401
    assert rows(receiver) == []
    ok = post(receiver, PING)
    assert (ok.status_code, ok.text) == (200, "Message stored.")
    assert health(receiver)["unauthorized"] == 3
    log = "\n".join(receiver.log)
    assert "missing X-Welkin-Webhook-Secret header" in log and "wrong" in log
    assert SECRET not in log and "valuX" not in log and PING["sourceId"] not in log


def test_stores_ids_and_vocabulary_with_increasing_seq(receiver) -> None:
    assert post(receiver, PING).status_code == 200
    trailing = requests.post(receiver.url + "/", json={**PING, "eventSubtype": "CDT_UPDATED"},
                             headers={receiver.header: SECRET}, timeout=10)  # fmt: skip
    assert trailing.status_code == 200
    assert rows(receiver) == [
        (
            1,
            "demo",
            "sandbox",
            "CDT",
            "CDT_CREATED",
            PING["sourceId"],
            "insurance",
            PING["patientId"],
        ),
        (
            2,
            "demo",
            "sandbox",
            "CDT",
            "CDT_UPDATED",
            PING["sourceId"],
            "insurance",
            PING["patientId"],
        ),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        [PING],
        {k: v for k, v in PING.items() if k != "sourceId"},
        {**PING, "eventEntity": None},
        {**PING, "eventSubtype": "cdt created; drop table"},
        {**PING, "sourceId": "../../etc/passwd"},
        {**PING, "patientId": 12},
        {**PING, "sourceName": "x" * 500},
    ],
)
def test_malformed_payloads_get_400_are_counted_and_never_stored(receiver, body) -> None:
    raw = body if isinstance(body, str) else None
    response = (
        requests.post(receiver.url, data=raw, headers={receiver.header: SECRET}, timeout=10)
        if raw
        else post(receiver, body)
    )
    assert response.status_code == 400
    assert rows(receiver) == []
    assert health(receiver)["malformed"] == 1
    assert "etc/passwd" not in "\n".join(receiver.log)


def test_oversized_body_is_refused(receiver) -> None:
    assert post(receiver, {**PING, "padding": "x" * 20000}).status_code == 400
    assert rows(receiver) == []


def test_welkin_test_ping_is_answered_not_stored(receiver) -> None:
    test_ping = {"sourceId": "SOURCE_ID", "eventSubtype": "EVENT_SUBTYPE", "tenantName": "demo",
                 "instanceName": "sandbox", "patientId": "PATIENT_ID", "eventEntity": "EVENT_ENTITY",
                 "sourceName": "SOURCE_NAME", "url": "URL"}  # fmt: skip
    response = post(receiver, test_ping)
    assert (response.status_code, response.text) == (200, "Test payload received")
    assert rows(receiver) == []


def test_replayed_deliveries_are_each_acknowledged(receiver) -> None:
    # Welkin retries a delivery it saw fail: the receiver answers every copy 200 and logs each;
    # tap-welkin's event mode pulls the resource once however many copies there are.
    for _ in range(3):
        assert post(receiver, PING).status_code == 200
    assert [r[0] for r in rows(receiver)] == [1, 2, 3]
    assert len({r[1:] for r in rows(receiver)}) == 1


def test_an_acknowledged_ping_survives_a_kill(tmp_path: Path) -> None:
    receiver = ReceiverProcess(tmp_path / "events.db", secret=SECRET).start()
    try:
        for i in range(20):
            assert post(receiver, {**PING, "sourceId": f"id-{i}"}).status_code == 200
    finally:
        receiver.kill()  # SIGKILL right after the last 200
    assert [r[5] for r in rows(receiver)] == [f"id-{i}" for i in range(20)]
    with ReceiverProcess(tmp_path / "events.db", secret=SECRET) as again:
        assert post(again, PING).status_code == 200
        assert rows(again)[-1][0] == 21  # numbering continues, never reused


def test_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="WELKIN_WEBHOOKS_SECRET"):
        ReceiverProcess(tmp_path / "e.db", secret="").start()


def test_postgres_event_log_numbers_concurrent_pings_in_commit_order(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from postgres import postgres_server  # tests/e2e: a throwaway real PostgreSQL server

    with postgres_server() as pg:
        url = f"postgresql://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/{pg.database}"
        with ReceiverProcess(url, secret=SECRET) as receiver:
            with ThreadPoolExecutor(8) as pool:
                codes = list(
                    pool.map(
                        lambda i: post(receiver, {**PING, "sourceId": f"p{i}"}).status_code,
                        range(40),
                    )
                )
            assert codes == [200] * 40
            assert post(receiver, {"eventEntity": "CDT"}).status_code == 400
        seqs = pg.psql("SELECT seq FROM welkin_events ORDER BY seq").split()
        assert seqs == [str(i) for i in range(1, 41)]
        assert pg.psql("SELECT count(DISTINCT source_id) FROM welkin_events") == "40"
