"""The registry of contract scenarios: one per recording, each replaying its requests.

Scenario modules (``contract_*.py``) register functions with :func:`scenario`;
``test_contract_recordings`` imports them all and replays every registered scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import requests
from emulator_kit import Api, load_fixture

RECORDINGS = {r["recording"]: r for r in load_fixture("recordings.json")}
Scenario = Callable[[Api], list[requests.Response]]


@dataclass(frozen=True)
class Options:
    """How one scenario's answers are compared with its recording.

    ``skip``: constants not compared (values that changed between recordings, e.g. a CDT
    version); ``formation_bodies``: CDT jsonBody paths compared on system fields only;
    ``skip_headers``: response headers not compared.
    """

    optional_keys: bool = False
    skip: frozenset[str] = frozenset()
    formation_bodies: frozenset[str] = frozenset()
    skip_headers: frozenset[str] = frozenset()


SCENARIOS: dict[str, tuple[Scenario, Options]] = {}


def scenario(
    name: str,
    *,
    optional_keys: bool = False,
    skip: frozenset[str] = frozenset(),
    formation_bodies: frozenset[str] = frozenset(),
    skip_headers: frozenset[str] = frozenset(),
) -> Callable[[Scenario], Scenario]:
    """Register ``fn`` as the replay of recording ``name``."""

    def register(fn: Scenario) -> Scenario:
        assert name in RECORDINGS, f"no recording named {name}"
        assert name not in SCENARIOS, f"two scenarios for {name}"
        SCENARIOS[name] = (fn, Options(optional_keys, skip, formation_bodies, skip_headers))
        return fn

    return register


def iso(dt: datetime) -> str:
    """``…mmmZ`` as the wrapper sends datetimes."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def token_request(api: Api) -> requests.Response:
    """The token call as recorded (no bearer token)."""
    return requests.post(
        api.url("/demo/admin/api_clients/DEMOCLIENT"), json={"secret": "demo-secret"}, timeout=10
    )
