"""Stream names of CDTs: one rule, so the target finds what the tap named."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

# tap-welkin's stream that feeds every CDT stream; no CDT may be named like it.
RESERVED_NAMES = frozenset({"cdt_records"})
MAX_NAME_LENGTH = 63  # PostgreSQL's identifier limit, the tightest of common warehouses


def _slug(cdt_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", cdt_name.lower()).strip("_")


def cdt_stream_name(cdt_name: str, others: Iterable[str] = ()) -> str:
    """The stream (table) name of a CDT, from its machine name.

    Rule: ``cdt_`` + the machine name lowercased, each run of characters other
    than ``a-z``/``0-9`` replaced by one ``_``, leading/trailing ``_`` removed
    (``cdt-self-care`` → ``cdt_cdt_self_care``, ``Allergies`` → ``cdt_allergies``).
    If another CDT in ``others`` gives the same name, the name is ``cdt_records``,
    or it is longer than 63 characters, ``_`` + the first 8 hex digits of the
    SHA-1 of the machine name is appended (after shortening), so names stay
    unique, valid and stable. Pass every CDT name of the instance as ``others``.
    """
    base = f"cdt_{_slug(cdt_name)}".rstrip("_")
    clash = base in RESERVED_NAMES or any(
        o != cdt_name and _slug(o) == _slug(cdt_name) for o in others
    )
    if not clash and len(base) <= MAX_NAME_LENGTH:
        return base
    digest = hashlib.sha1(cdt_name.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
    return f"{base[: MAX_NAME_LENGTH - 9]}_{digest}"
