"""Reading ahead: every feed of a run is read at once, each a few pages ahead of its writer.

singer-sdk syncs a tap's streams one after another, and the export feeds are
independent: reading them in turn pays every request's latency in sequence. A
:class:`ReadPlan` starts, before the first stream is written, one thread per
selected feed (each export type, the users list; the CDT streams share one feed).
Each thread fills a bounded queue of pages (:data:`PAGES_AHEAD`), so memory does
not grow with the data, and requests still go through the tap's one session and
request budget. Only the main thread writes Singer messages: a stream's records,
and so its STATE, only cover pages taken from the queue.

Each stream's read (export or list endpoints) is decided once, in its feed
thread before its first page, and the stream's sync waits for that decision.
"""

from __future__ import annotations

import atexit
import queue
import threading
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from tap_welkin.bookmarks import Bound

Record = dict[str, t.Any]
#: Pages each feed holds ahead of the page being written (plus one being fetched).
PAGES_AHEAD = 4
_END = object()
_POLL_S = 0.2


@dataclass(frozen=True)
class Source:
    """What a stream reads this run: its path, the bound it reads from, and its pages."""

    export: bool
    #: Why the list endpoints are read, for the stream's log line ("" on the export path).
    reason: str
    bound: Bound
    pages: Iterable[list[Record]]


class _Failure:
    """An exception raised in a feed thread, handed to the reader."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class PageFeed:
    """One stream's pages, produced by a background thread into a bounded queue."""

    def __init__(self, name: str, open_source: Callable[[], Source]) -> None:
        """Prepare the feed; ``open_source`` runs in the feed thread and decides the path."""
        self.name = name
        self._open_source = open_source
        self._queue: queue.Queue[t.Any] = queue.Queue(maxsize=PAGES_AHEAD)
        self._decided = threading.Event()
        self._stop = threading.Event()
        self._source: Source | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"feed-{name}", daemon=True)

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def source(self) -> Source:
        """The source of the stream this run (waits for the feed thread's decision).

        Raises:
            BaseException: the error that kept the feed from deciding (e.g. a 403 on a
                forced export path).
        """
        self._decided.wait()
        if self._source is None:
            raise t.cast("BaseException", self._error)
        return self._source

    def pages(self) -> Iterator[list[Record]]:
        """The pages in order; an error of the feed thread is raised here, in the reader."""
        self.source()
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the thread at its next page (a reader that stops early, or the run's end)."""
        self._stop.set()
        while True:  # unblock a thread waiting to put
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def _run(self) -> None:
        try:
            self._source = self._open_source()
        except BaseException as exc:  # noqa: BLE001 - handed to the reader
            self._error = exc
            self._decided.set()
            return
        self._decided.set()
        try:
            for page in self._source.pages:
                if not self._put(page):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the reader
            self._put(_Failure(exc))

    def _put(self, item: t.Any) -> bool:  # noqa: ANN401
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
            except queue.Full:
                continue
            return True
        return False


class ReadPlan:
    """The feeds of one run, started together before any stream is written."""

    def __init__(self, feeds: Iterable[tuple[str, Callable[[], Source]]]) -> None:
        """One feed per ``(stream name, source opener)``; nothing is read before :meth:`start`."""
        self._feeds = {name: PageFeed(name, opener) for name, opener in feeds}
        self._lock = threading.Lock()
        self._started = False
        self._taken: set[str] = set()

    def start(self) -> None:
        """Start every feed (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            atexit.register(self.close)
            for feed in self._feeds.values():
                feed.start()

    def feed(self, name: str) -> PageFeed | None:
        """The feed of stream ``name`` (the plan is started first), or None if it has none."""
        self.start()
        return self._feeds.get(name)

    def take(self, name: str) -> PageFeed | None:
        """The feed of stream ``name`` for its reader, once (the plan is started first)."""
        self.start()
        with self._lock:
            if name in self._taken:
                return None
            self._taken.add(name)
            return self._feeds.get(name)

    def close(self) -> None:
        """Stop every feed thread."""
        for feed in self._feeds.values():
            feed.close()


def chunked(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """``items`` as lists of up to ``size`` (a list endpoint's records as feed pages)."""
    page: list[Record] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page
