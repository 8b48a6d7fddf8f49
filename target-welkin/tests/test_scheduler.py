"""The keyed scheduler: one write per key at a time, in input order, errors handed back."""

from __future__ import annotations

import threading
import time

import pytest
from target_welkin.scheduler import KeyedScheduler


def test_jobs_of_one_key_run_one_at_a_time_in_order():
    scheduler = KeyedScheduler(4)
    done: list[int] = []
    running = {"a": 0}
    overlap = []
    lock = threading.Lock()

    def job(n: int, key: str) -> None:
        with lock:
            running[key] = running.get(key, 0) + 1
            overlap.append(running[key])
        time.sleep(0.002)
        with lock:
            running[key] -= 1
            done.append(n)

    for n in range(20):
        scheduler.submit(["a"], lambda n=n: job(n, "a"), owner="s")
    scheduler.wait()
    scheduler.close()
    assert done == list(range(20))
    assert max(overlap) == 1


def test_a_child_waits_for_its_parent_and_other_keys_run_alongside():
    scheduler = KeyedScheduler(2)
    order: list[str] = []
    parent_started = threading.Event()

    def parent() -> None:
        parent_started.set()
        time.sleep(0.05)
        order.append("parent")

    scheduler.submit(["patients|externalId=1"], parent, owner="patients")
    scheduler.submit(["patients|externalId=9"], lambda: order.append("other"), owner="patients")
    scheduler.submit(
        ["cdt|external_id=1/a", "patients|externalId=1"],
        lambda: order.append("child"),
        owner="cdt",
    )
    scheduler.wait()
    scheduler.close()
    assert order.index("parent") < order.index("child")
    assert order.index("other") < order.index("parent")


def test_an_error_in_a_job_is_raised_in_the_caller():
    scheduler = KeyedScheduler(2)

    def boom() -> None:
        raise RuntimeError("fatal")

    scheduler.submit(["k"], boom, owner="s")
    with pytest.raises(RuntimeError, match="fatal"):
        scheduler.wait()
    scheduler.close()
