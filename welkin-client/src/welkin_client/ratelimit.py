"""The client-side request budget.

Welkin documents no request rate limit, but a care organisation's tenant is
shared with its clinicians; one budget per process keeps every stream of the
tap (or every writer thread of the target) under ``max_requests_per_second``.
"""

from __future__ import annotations

import logging

from pyrate_limiter import Duration, Limiter, Rate

# pyrate-limiter logs each bucket it creates at INFO: noise in every run's log.
logging.getLogger("pyrate_limiter").setLevel(logging.WARNING)


class RateBudget:
    """A blocking token bucket of ``per_second`` requests, shared by its users."""

    def __init__(self, per_second: float) -> None:
        """Create a budget; ``per_second <= 0`` means unlimited."""
        self.per_second = per_second
        self._limiter: Limiter | None = None
        if per_second > 0:
            # pyrate-limiter counts whole requests per window: express fractional
            # rates (0.5/s) as requests per a longer window.
            window_ms = Duration.SECOND if per_second >= 1 else int(1000 / per_second)
            count = max(1, round(per_second)) if per_second >= 1 else 1
            self._limiter = Limiter(Rate(count, window_ms))

    def spend(self) -> None:
        """Block until one request may be sent."""
        if self._limiter is not None:
            self._limiter.try_acquire("welkin", blocking=True)
