"""Dagster project for tap-welkin: parallel, retried, scheduled `meltano run` workers."""

from welkin_dagster.definitions import defs

__all__ = ["defs"]
