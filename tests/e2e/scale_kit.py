"""Helpers of the running-at-scale tests: PostgreSQL as warehouse, state backend and budget."""

from __future__ import annotations

import json
from typing import Any

from postgres import PostgresServer


def pg_url(pg: PostgresServer, *, driver: str = "") -> str:
    """A URL of ``pg``'s database (``driver`` e.g. ``+psycopg`` for SQLAlchemy)."""
    return f"postgresql{driver}://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/{pg.database}"


def warehouse_env(pg: PostgresServer) -> dict[str, str]:
    """target-postgres into ``pg`` (schema ``welkin``)."""
    return {
        "TARGET_POSTGRES_HOST": "127.0.0.1",
        "TARGET_POSTGRES_PORT": str(pg.port),
        "TARGET_POSTGRES_USER": pg.user,
        "TARGET_POSTGRES_PASSWORD": pg.password,
        "TARGET_POSTGRES_DATABASE": pg.database,
    }


def state_env(pg: PostgresServer) -> dict[str, str]:
    """Meltano's system database, and so its state backend, in ``pg``."""
    return {"MELTANO_DATABASE_URI": pg_url(pg, driver="+psycopg")}


def states(pg: PostgresServer) -> dict[str, Any]:
    """Every Meltano state in ``pg``: state id -> the Singer state (bookmarks)."""
    rows = pg.psql("select state_id || chr(9) || coalesce(completed_state::text, '{}') from state")
    found = {}
    for line in rows.splitlines():
        state_id, text = line.split("\t", 1)
        found[state_id] = json.loads(text).get("singer_state", {})
    return found
