"""Bounded concurrent writes, at most one in flight per key.

Every write job names the keys it touches: the identities of its own record
(``patients|externalId=...``) and of the parents it resolves. A job starts only
after every earlier job sharing one of its keys has finished, so two writes for
one key never overlap, records of one key are applied in input order, and a
CDT record waits for its patient's create. Jobs are handed to the thread pool
only once they can run, so no worker ever blocks on another job (no deadlock
however few workers there are).
"""

from __future__ import annotations

import threading
import typing as t
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


class _Job:
    __slots__ = ("dependents", "done", "fn", "keys", "owner", "waiting")

    def __init__(self, fn: t.Callable[[], None], keys: tuple[str, ...], owner: str) -> None:
        self.fn = fn
        self.keys = keys
        self.owner = owner
        self.waiting = 0
        self.done = False
        self.dependents: list[_Job] = []


class KeyedScheduler:
    """Runs jobs on ``max_workers`` threads, serialised per key.

    An exception escaping a job is fatal: later jobs are skipped, and
    :meth:`submit` and :meth:`wait` re-raise it in the caller's thread.
    """

    def __init__(self, max_workers: int, *, max_pending: int | None = None) -> None:
        """Start the pool; ``submit`` blocks while ``max_pending`` jobs are unfinished."""
        self.max_workers = max(1, max_workers)
        self.max_pending = max_pending or self.max_workers * 20
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="welkin-writer")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._tail: dict[str, _Job] = {}
        self._pending: Counter[str] = Counter()
        self.fatal: BaseException | None = None

    def submit(self, keys: t.Iterable[str], fn: t.Callable[[], None], *, owner: str) -> None:
        """Queue ``fn`` to run after every earlier job that shares a key with it."""
        job = _Job(fn, tuple(dict.fromkeys(keys)), owner)
        with self._changed:
            while self.fatal is None and self._pending.total() >= self.max_pending:
                self._changed.wait()
            self._raise_fatal()
            deps = {self._tail[k] for k in job.keys if k in self._tail}
            for dep in deps:
                dep.dependents.append(job)
            job.waiting = len(deps)
            for key in job.keys:
                self._tail[key] = job
            self._pending[owner] += 1
        if not deps:
            self._pool.submit(self._run, job)

    def wait(self, owner: str | None = None) -> None:
        """Block until every job (of ``owner``, or all) has finished; re-raise a fatal error."""
        with self._changed:
            while self.fatal is None and (
                self._pending[owner] if owner is not None else self._pending.total()
            ):
                self._changed.wait()
            self._raise_fatal()

    def _raise_fatal(self) -> None:
        if self.fatal is not None:
            raise self.fatal

    def _run(self, job: _Job) -> None:
        try:
            if self.fatal is None:
                job.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            with self._lock:
                if self.fatal is None:
                    self.fatal = exc
        finally:
            with self._changed:
                job.done = True
                for key in job.keys:
                    if self._tail.get(key) is job:
                        del self._tail[key]
                ready = []
                for dependent in job.dependents:
                    dependent.waiting -= 1
                    if dependent.waiting == 0:
                        ready.append(dependent)
                self._pending[job.owner] -= 1
                self._changed.notify_all()
            for dependent in ready:
                self._pool.submit(self._run, dependent)

    def close(self) -> None:
        """Stop the pool after the queued jobs (skipped if a fatal error happened)."""
        self._pool.shutdown(wait=True)
