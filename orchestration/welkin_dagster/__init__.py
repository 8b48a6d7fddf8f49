"""Dagster project for tap-welkin: parallel, retried, scheduled `meltano run` workers.

The definitions are in :mod:`welkin_dagster.definitions` (``dagster dev -m
welkin_dagster.definitions``); the plan and the worker runner import no Dagster.
"""
