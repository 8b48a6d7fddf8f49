"""Reading ahead: every feed of a run is read at once, ahead of its writer, in a page budget.

singer-sdk syncs a tap's streams one after another, and the export feeds are
independent: reading them in turn pays every request's latency in sequence. A
:class:`ReadPlan` starts, before the first stream is written, one thread per
selected feed (each export type, the users list, the Designer lists; the CDT
streams share one feed). Within an export feed each page's ``start`` is the
previous page's cursor, so a feed is a chain of requests: what hides latency is
pages fetched before their stream is written. The plan holds at most
:data:`PAGE_BUDGET` pages ahead of the writer, handed out in sync order: the
stream being written and the next ones may each hold up to
:data:`FEED_AHEAD_MAX` pages (a feed read to its end counts only what it holds),
every later feed :data:`FEED_AHEAD_MIN`. Export pages are held as the bytes
Welkin sent (:class:`RawPage`, about 1 MB for 1000 records) and decoded by the
writer, so memory is bounded by the budget, not by the data. Requests still go
through the tap's one session and request budget. Only the main thread writes
Singer messages: a stream's records, and so its STATE, only cover pages taken
from its feed.

Each stream's read (export or list endpoints) is decided once, in its feed
thread before its first page, and the stream's sync waits for that decision.
"""

from __future__ import annotations

import atexit
import collections
import threading
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from tap_welkin.bookmarks import Bound

Record = dict[str, t.Any]
#: Pages a feed read outside a plan holds ahead of the page being written.
PAGES_AHEAD = 4
#: Pages a plan's feeds hold ahead of the writer, shared in sync order. More hides more
#: latency (the next streams' pages arrive while one is written), at about 1 MB a page.
PAGE_BUDGET = 64
#: Pages one feed of a plan may hold: at most (the next streams), at least (the rest).
FEED_AHEAD_MAX = 16
FEED_AHEAD_MIN = 1
_END = object()


@dataclass(frozen=True)
class RawPage:
    """An export page as Welkin sent it: held as bytes, decoded when its stream is written.

    A decoded 1000-record page takes several times its JSON's size, and pages decoded
    in many threads and freed in another fragment the heap; bytes are one block.
    """

    content: bytes


Page = list[Record] | RawPage


@dataclass(frozen=True)
class Source:
    """What a stream reads this run: its path, the bound it reads from, and its pages."""

    export: bool
    #: Why the list endpoints are read, for the stream's log line ("" on the export path).
    reason: str
    bound: Bound
    pages: Iterable[Page]


class _Failure:
    """An exception raised in a feed thread, handed to the reader."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class PageFeed:
    """One stream's pages, produced by a background thread, held until the reader takes them."""

    def __init__(
        self,
        name: str,
        open_source: Callable[[], Source],
        *,
        lock: threading.Condition | None = None,
        allowance: Callable[[PageFeed], int] | None = None,
    ) -> None:
        """Prepare the feed; ``open_source`` runs in the feed thread and decides the path.

        ``lock`` and ``allowance`` (pages this feed may hold now) come from a plan.
        """
        self.name = name
        self._open_source = open_source
        self._lock = lock or threading.Condition()
        self._allowance = allowance or (lambda _feed: PAGES_AHEAD)
        self._held: collections.deque[t.Any] = collections.deque()
        self._decided = threading.Event()
        self._stop = False
        #: The reader is finished with this feed (read to the end, stopped or closed).
        self.done = False
        #: The reader has started to take pages.
        self.reading = False
        #: Every page is fetched (or the read failed): the feed holds all it will.
        self.finished = False
        self._source: Source | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"feed-{name}", daemon=True)

    @property
    def held(self) -> int:
        """Pages fetched and not yet taken by the reader."""
        return len(self._held)

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

    def pages(self) -> Iterator[Page]:
        """The pages in order; an error of the feed thread is raised here, in the reader."""
        self.source()
        with self._lock:
            self.reading = True
            self._lock.notify_all()
        try:
            while True:
                with self._lock:
                    while not self._held:
                        self._lock.wait()
                    item = self._held.popleft()
                    self._lock.notify_all()  # room for this feed, or for the next ones
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the thread at its next page (a reader that stops early, or the run's end)."""
        with self._lock:
            self._stop = self.done = True
            self._held.clear()
            self._lock.notify_all()

    def _run(self) -> None:
        try:
            self._source = self._open_source()
        except BaseException as exc:  # noqa: BLE001 - handed to the reader
            self._error = exc
            self._decided.set()
            return
        self._decided.set()
        pages = iter(self._source.pages)
        try:
            # Room is reserved before a page is requested, so a waiting thread holds none.
            while self._room():
                page = next(pages, _END)
                self._put(page)
                if page is _END:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reader
            self._put(_Failure(exc))

    def _room(self) -> bool:
        """Wait until this feed may hold one more page; False once the reader is done."""
        with self._lock:
            while not self._stop and len(self._held) >= self._allowance(self):
                self._lock.wait()
            return not self._stop

    def _put(self, item: t.Any) -> None:  # noqa: ANN401
        with self._lock:
            self.finished = item is _END or isinstance(item, _Failure)
            if not self._stop:
                self._held.append(item)
            self._lock.notify_all()


class ReadPlan:
    """The feeds of one run, started together before any stream is written.

    Feeds are given in sync order; that order shares out :data:`PAGE_BUDGET`.
    """

    def __init__(self, feeds: Iterable[tuple[str, Callable[[], Source]]]) -> None:
        """One feed per ``(stream name, source opener)``; nothing is read before :meth:`start`."""
        self._pages = threading.Condition()
        self._feeds = {
            name: PageFeed(name, opener, lock=self._pages, allowance=self.allowance)
            for name, opener in feeds
        }
        self._lock = threading.Lock()
        self._started = False
        self._taken: set[str] = set()

    def allowance(self, feed: PageFeed) -> int:
        """Pages ``feed`` may hold now: the budget left after the feeds synced before it.

        A feed read to its end counts what it holds, others their share. The feed
        being read always gets its share, whatever the feeds before it hold. Called
        with the plan's page lock held.
        """
        left = PAGE_BUDGET
        for other in self._feeds.values():
            if other.done:
                continue
            share = max(FEED_AHEAD_MIN, min(FEED_AHEAD_MAX, left))
            if other is feed:
                return FEED_AHEAD_MAX if feed.reading else share
            left = max(0, left - (other.held if other.finished else share))
        return FEED_AHEAD_MIN

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
