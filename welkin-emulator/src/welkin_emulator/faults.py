"""Fault injection (random and scripted), the global rate limit, and the request counter.

Everything here runs on the event-loop thread (the ASGI wrapper calls it before and after a
handler), so no locks are needed and the counter is exact with uvicorn's single worker.

Random faults are decided per request from a seeded RNG (``seed``), so a run is reproducible for a
given sequence of requests. Scripted faults are deterministic: the first matching script entry
with ``times`` left is consumed. With ``after: true`` the request is processed and committed
first and the client gets the fault instead of the real answer (an ambiguous failure).
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ACTIONS = ("error", "throttle", "drop", "malformed", "timeout", "latency")


@dataclass
class FaultSettings:
    """Switchable behaviour; every field can be set from the CLI and ``PUT /_emulator/faults``."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: int = 1
    rate_limit: float = 0.0
    token_lifetime: float = 3600.0
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    seed: int = 0
    token_limit: int = 100
    timeout_seconds: float = 30.0
    # 1: export `start` is exclusive (updatedAt > start). Spec §11 leaves it open; clients
    # must cope with both, so tests can switch it.
    export_exclusive_start: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update, validating names, types and ranges (ValueError if bad)."""
        known = {f.name: f for f in fields(self)}
        for name in changes:
            if name not in known:
                raise ValueError(f"unknown fault setting '{name}'")
        staged = asdict(self)
        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"'{name}' must be a number")
            if value < 0:
                raise ValueError(f"'{name}' must not be negative")
            if name.endswith("_rate") and name != "rate_limit" and value > 1:
                raise ValueError(f"'{name}' is a probability between 0 and 1")
            if name == "export_exclusive_start" and value not in (0, 1):
                raise ValueError("'export_exclusive_start' is 0 or 1")
            integral = ("seed", "retry_after", "token_limit", "export_exclusive_start")
            staged[name] = int(value) if name in integral else value
        for name, value in staged.items():
            setattr(self, name, value)

    def without_faults(self) -> FaultSettings:
        """A copy with every fault off, keeping token settings and the seed."""
        return FaultSettings(
            token_lifetime=self.token_lifetime,
            token_limit=self.token_limit,
            seed=self.seed,
            retry_after=self.retry_after,
            timeout_seconds=self.timeout_seconds,
            export_exclusive_start=self.export_exclusive_start,
        )


@dataclass
class ScriptEntry:
    """One scripted fault; see the module docstring and ``POST /_emulator/faults/script``."""

    action: str
    method: str = "*"
    route: str = "*"
    status: int = 0
    times: int = 1
    after: bool = False
    retry_after: int | None = None
    seconds: float | None = None
    ms: float | None = None

    @classmethod
    def from_dict(cls, data: Any) -> ScriptEntry:
        """Validate one entry of the script list (ValueError if bad)."""
        if not isinstance(data, dict):
            raise ValueError("each script entry must be an object")
        allowed = {f.name for f in fields(cls)}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown script keys: {sorted(unknown)}")
        action = data.get("action")
        if action not in ACTIONS:
            raise ValueError(f"'action' must be one of {list(ACTIONS)}")
        entry = cls(action=action)
        entry.method = str(data.get("method") or "*").upper()
        entry.route = str(data.get("route") or "*")
        times = data.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or times == 0 or times < -1:
            raise ValueError("'times' must be a positive integer, or -1 for unlimited")
        entry.times = times
        entry.after = bool(data.get("after", False))
        status = data.get("status")
        default_status = {"error": 500, "throttle": 429, "malformed": 200}.get(action, 0)
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError("'status' must be an HTTP status code")
        entry.status = int(status) if status is not None else default_status
        for key in ("retry_after", "seconds", "ms"):
            val = data.get(key)
            if val is not None:
                if isinstance(val, bool) or not isinstance(val, (int, float)) or val < 0:
                    raise ValueError(f"'{key}' must be a non-negative number")
                setattr(entry, key, int(val) if key == "retry_after" else float(val))
        return entry

    def matches(self, method: str, template: str | None, path: str) -> bool:
        """Whether this entry applies to a request."""
        if self.method not in ("*", method):
            return False
        return self.route in ("*", path) or (template is not None and self.route == template)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (``times`` is what is left)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Plan:
    """What to do with one request, decided before it is handled."""

    latency_s: float = 0.0
    action: str | None = None
    status: int = 0
    after: bool = False
    retry_after: int = 1
    seconds: float = 0.0


@dataclass
class FaultEngine:
    """Holds the current settings and script and decides a :class:`Plan` per request."""

    settings: FaultSettings
    script: list[ScriptEntry] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)
    _window: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._rng.seed(self.settings.seed)

    def update(self, changes: dict[str, Any]) -> None:
        """Partial settings update; a new ``seed`` restarts the random sequence."""
        self.settings.update(changes)
        if "seed" in changes:
            self._rng.seed(self.settings.seed)

    def replace(self, settings: FaultSettings) -> None:
        """Swap in a whole new settings object (reset/clear)."""
        self.settings = settings
        self._rng.seed(settings.seed)
        self._window.clear()

    def rate_limited(self) -> bool:
        """Sliding one-second window over admitted requests; True means answer 429."""
        limit = self.settings.rate_limit
        if limit <= 0:
            return False
        now = time.monotonic()
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) >= limit:
            return True
        self._window.append(now)
        return False

    def plan(self, method: str, template: str | None, path: str) -> Plan:
        """Decide latency and fault for one API request (scripted entries win)."""
        s = self.settings
        plan = Plan(latency_s=s.latency_ms / 1000.0, retry_after=s.retry_after)
        for entry in self.script:
            if entry.times != 0 and entry.matches(method, template, path):
                if entry.times > 0:
                    entry.times -= 1
                if entry.action == "latency":
                    plan.latency_s += (entry.ms or 0.0) / 1000.0
                    break
                plan.action, plan.status, plan.after = entry.action, entry.status, entry.after
                if entry.retry_after is not None:
                    plan.retry_after = entry.retry_after
                plan.seconds = entry.seconds if entry.seconds is not None else s.timeout_seconds
                self.script = [e for e in self.script if e.times != 0]
                return plan
        self.script = [e for e in self.script if e.times != 0]
        rng = self._rng
        # Always draw all four numbers so the sequence does not depend on which rates are set.
        d, e, t, m = rng.random(), rng.random(), rng.random(), rng.random()
        if d < s.drop_rate:
            plan.action = "drop"
        elif e < s.error_rate:
            plan.action, plan.status = "error", rng.choice((500, 502, 503))
        elif t < s.throttle_rate:
            plan.action, plan.status = "throttle", 429
        elif m < s.malformed_rate:
            plan.action, plan.status = "malformed", 200
        return plan


class RequestCounter:
    """Counts API requests per ``METHOD /route/{template}`` since start or the last reset."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._total = 0

    def add(self, key: str) -> None:
        """Count one request."""
        self._counts[key] = self._counts.get(key, 0) + 1
        self._total += 1

    def snapshot(self) -> dict[str, int]:
        """Counts plus a ``total`` key."""
        out = dict(sorted(self._counts.items()))
        out["total"] = self._total
        return out

    def reset(self) -> None:
        """Start counting from zero."""
        self._counts.clear()
        self._total = 0
