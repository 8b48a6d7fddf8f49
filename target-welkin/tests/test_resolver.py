"""Reference resolution: id map first, no lookup when the index is complete, else one lookup."""

from __future__ import annotations

import typing as t

import pytest
from target_welkin.client import ResourceApi
from target_welkin.idmap import IdMap
from target_welkin.references import PLANNED, lock_key
from target_welkin.rejects import Code, RecordRejected
from target_welkin.resolver import Deferred, ReferenceResolver
from target_welkin.writers import DryRunWrites, LiveWrites


class FakeApi(ResourceApi):
    """Answers lookups from a dict and counts them (no HTTP: a narrow unit test)."""

    def __init__(self, by_key: dict[str, list[str]]) -> None:
        self.by_key = by_key
        self.calls = 0

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[dict[str, t.Any]]:
        self.calls += 1
        return [{"id": i} for i in self.by_key.get(f"{key_field}={value}", [])]

    def get(self, welkin_id: str, parent_id: str | None) -> dict[str, t.Any] | None:
        self.calls += 1
        ids = {i for found in self.by_key.values() for i in found}
        return {"id": welkin_id} if welkin_id in ids else None


class Complete:
    def __init__(self, complete: bool) -> None:
        self.value = complete

    def complete(self, resource: str) -> bool:
        return self.value


@pytest.fixture
def idmap(tmp_path):
    opened = IdMap(tmp_path / "idmap.sqlite", secret="s")
    yield opened
    opened.close()


def resolver(idmap, api, *, complete=False, writes=None):
    return ReferenceResolver(
        idmap, {"patients": api}, writes or LiveWrites(t.cast("t.Any", None)), Complete(complete)
    )


def test_a_lookup_is_made_once_then_the_id_map_answers(idmap):
    api = FakeApi({"externalId=E1": ["w1"]})
    found = resolver(idmap, api)
    assert found.resolve("patients", "externalId", "E1", "patientId") == "w1"
    assert found.resolve("patients", "externalId", "E1", "patientId") == "w1"
    assert api.calls == 1


def test_a_complete_index_answers_unknown_without_a_call(idmap):
    api = FakeApi({"externalId=E1": ["w1"]})
    with pytest.raises(RecordRejected) as rejected:
        resolver(idmap, api, complete=True).resolve("patients", "externalId", "E1", "patientId")
    assert rejected.value.error_code == Code.UNKNOWN_PARENT
    assert "E1" not in str(rejected.value)
    assert api.calls == 0


def test_two_matches_are_ambiguous_and_nothing_is_unknown(idmap):
    api = FakeApi({"externalId=E2": ["w1", "w2"]})
    with pytest.raises(RecordRejected) as rejected:
        resolver(idmap, api).resolve("patients", "externalId", "E2", "patientId")
    assert rejected.value.error_code == Code.AMBIGUOUS_MATCH
    with pytest.raises(RecordRejected) as missing:
        resolver(idmap, api).resolve("patients", "externalId", "E3", "patientId")
    assert missing.value.error_code == Code.UNKNOWN_PARENT


def test_a_parent_a_dry_run_would_create_is_planned(idmap):
    writes = DryRunWrites()
    writes.create(FakeApi({}), {}, None, lambda: None, t.cast("t.Any", type("A", (), {"count": 0})()),
                  [lock_key("patients", "externalId", "E9")])  # fmt: skip
    found = resolver(idmap, FakeApi({}), writes=writes)
    assert found.resolve("patients", "externalId", "E9", "patientId") == PLANNED


def test_deferred_records_keep_their_keys_until_taken():
    deferred = Deferred()
    ran: list[int] = []
    deferred.add(lambda: ran.append(1), ["k1"])
    assert deferred.pending and deferred.holds(["k1", "k2"]) and not deferred.holds(["k3"])
    for retry in deferred.take():
        retry()
    assert ran == [1] and not deferred.pending and not deferred.holds(["k1"])
