"""What to do with one record, given what Welkin holds: a pure function, no call to Welkin."""

from __future__ import annotations

import enum
import typing as t

Json = dict[str, t.Any]


class Action(enum.Enum):
    """The verdict on one record."""

    CREATE = "create"
    PATCH = "patch"
    UNCHANGED = "unchanged"
    SKIP = "skip"  # write mode insert, and the record exists
    NOT_FOUND = "not_found"  # write mode update, and nothing matches
    DELETE = "delete"
    SKIP_DELETE = "skip_delete"  # marked deleted, deletes not allowed (or not possible)
    GONE = "gone"  # marked deleted and already absent from Welkin


def changed_fields(
    payload: t.Mapping[str, t.Any],
    same: t.Callable[[str, t.Any], bool],
    *,
    create_only: t.Collection[str] = (),
) -> Json:
    """Fields of ``payload`` whose value Welkin lacks (``same(name, value)`` is False)."""
    return {
        name: value
        for name, value in payload.items()
        if name not in create_only and not same(name, value)
    }


def decide(
    *,
    exists: bool,
    changed: t.Mapping[str, t.Any],
    write_mode: str = "upsert",
    deleted: bool = False,
    allow_deletes: bool = False,
    deletable: bool = False,
) -> Action:
    """Create, patch, skip or delete.

    ``exists``: Welkin holds a resource matching the record. ``changed``: what
    a patch would send (ignored unless ``exists``). ``deleted``: the record is
    marked deleted at the source (``_sdc_deleted_at``); it is never upserted.
    """
    if deleted:
        if not (allow_deletes and deletable):
            return Action.SKIP_DELETE
        return Action.DELETE if exists else Action.GONE
    if not exists:
        return Action.NOT_FOUND if write_mode == "update" else Action.CREATE
    if write_mode == "insert":
        return Action.SKIP
    return Action.PATCH if changed else Action.UNCHANGED
