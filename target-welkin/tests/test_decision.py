"""The create/patch/skip/delete verdict: a pure function, tested without Welkin."""

from __future__ import annotations

import pytest
from target_welkin.decision import Action, changed_fields, decide


@pytest.mark.parametrize(
    ("exists", "changed", "mode", "expected"),
    [
        (False, {}, "upsert", Action.CREATE),
        (False, {}, "insert", Action.CREATE),
        (False, {}, "update", Action.NOT_FOUND),
        (True, {}, "upsert", Action.UNCHANGED),
        (True, {"a": 1}, "upsert", Action.PATCH),
        (True, {"a": 1}, "update", Action.PATCH),
        (True, {"a": 1}, "insert", Action.SKIP),
        (True, {}, "insert", Action.SKIP),
    ],
)
def test_upserts(exists, changed, mode, expected):
    assert decide(exists=exists, changed=changed, write_mode=mode) is expected


@pytest.mark.parametrize(
    ("exists", "allow", "deletable", "expected"),
    [
        (True, True, True, Action.DELETE),
        (False, True, True, Action.GONE),
        (True, False, True, Action.SKIP_DELETE),
        (True, True, False, Action.SKIP_DELETE),  # patients, users
        (False, False, False, Action.SKIP_DELETE),
    ],
)
def test_a_record_marked_deleted_is_never_upserted(exists, allow, deletable, expected):
    for mode in ("upsert", "insert", "update"):
        verdict = decide(
            exists=exists,
            changed={"a": 1},
            write_mode=mode,
            deleted=True,
            allow_deletes=allow,
            deletable=deletable,
        )
        assert verdict is expected


def test_changed_fields_keep_what_differs_and_never_create_only_fields():
    held = {"a": 1, "b": "x"}
    changed = changed_fields(
        {"a": 1, "b": "y", "c": None, "appointment": {}},
        lambda name, value: held.get(name) == value,
        create_only={"appointment"},
    )
    assert changed == {"b": "y"}
