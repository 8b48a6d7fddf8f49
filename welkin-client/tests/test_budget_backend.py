"""The budget backend setting: what it accepts, and errors that name it, never its value."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pyrate_limiter import Rate
from singer_sdk.exceptions import ConfigValidationError
from welkin_client.ratelimit import (
    Budget,
    BudgetBackendError,
    RateBudget,
    spread_rates,
    token_budget,
)
from welkin_client.settings import check_connection_settings

BASE = {"tenant": "t", "instance": "i", "api_client": "c", "secret_key": "s"}


@pytest.mark.parametrize(
    "url",
    ["redis://secret-host:6379/0", "s3://secret-host/key", "sqlite://secret-host", "secret-host"],
)
def test_an_unsupported_backend_is_refused_by_name(url: str) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        check_connection_settings({**BASE, "rate_limit_backend_url": url})
    message = str(caught.value)
    assert "'rate_limit_backend_url' is invalid" in message
    assert "secret-host" not in message


@pytest.mark.parametrize(
    "url",
    [
        "",
        "sqlite:///relative/budget.db",
        "sqlite:////abs/budget.db",
        "postgresql://loader:pw@db.example:5432/welkin",
        "postgresql+psycopg://loader@db.example/welkin",
    ],
)
def test_supported_backends_pass_the_check(url: str) -> None:
    check_connection_settings({**BASE, "rate_limit_backend_url": url})


def test_an_unusable_backend_stops_with_one_line_naming_the_setting() -> None:
    with pytest.raises(BudgetBackendError) as caught:
        RateBudget(5, backend_url="sqlite:////proc/no-such-place/secret-name.db")
    assert "rate_limit_backend_url" in str(caught.value)
    assert "secret-name" not in str(caught.value)


def test_two_budgets_on_one_sqlite_file_share_their_window(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'budget.db'}"
    first = Budget([Rate(3, 60_000)], backend_url=url, key="shared")
    second = Budget([Rate(3, 60_000)], backend_url=url, key="shared")
    other = Budget([Rate(3, 60_000)], backend_url=url, key="another")
    first.acquire()
    second.acquire()
    first.acquire()
    # The window is full for both (a wait comes back), but not for another key.
    assert first._try() is not None
    assert second._try() is not None
    assert other._try() is None
    for budget in (first, second, other):
        budget.close()


def test_the_token_budget_stays_under_welkins_block() -> None:
    tokens = token_budget()
    for _ in range(90):
        assert tokens._try() is None
    wait = tokens._try()
    assert wait is not None and wait > 200  # seconds: the rest of the 5-minute window


@pytest.mark.parametrize("per_second", [0.5, 1, 1.5, 3, 7, 10, 13, 20, 37, 100])
def test_the_budget_windows_are_valid_and_never_allow_more_than_r_a_second(
    per_second: float,
) -> None:
    rates = spread_rates(per_second)
    Budget(rates).close()  # pyrate-limiter refuses an inconsistent list
    longest = rates[-1]
    assert longest.limit / longest.interval * 1000 <= per_second
    assert rates[0].limit <= max(1, per_second / 5)


def test_one_process_uses_nearly_all_of_the_budget_and_never_more() -> None:
    budget = RateBudget(13)
    times = []
    for _ in range(40):
        budget.spend()
        times.append(time.monotonic())
    start = 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        assert end - start + 1 <= 13
    assert (len(times) - 1) / (times[-1] - times[0]) >= 0.9 * 13
