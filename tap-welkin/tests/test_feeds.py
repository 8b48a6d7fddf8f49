"""The read plan's feeds and the CDT router: order, bounds, errors, hand-over."""

from __future__ import annotations

import threading
import time
import typing as t

import msgspec
import pytest
from tap_welkin import client, feeds
from tap_welkin.bookmarks import Bound
from tap_welkin.extraction import decoded
from tap_welkin.feeds import PAGES_AHEAD, PageFeed, RawPage, ReadPlan, Source, chunked
from tap_welkin.streams.cdts import CdtRouter, with_last

if t.TYPE_CHECKING:
    from collections.abc import Iterator


def _source(pages: t.Iterable[list[dict[str, t.Any]]]) -> Source:
    return Source(export=True, reason="", bound=Bound(None), pages=pages)


def test_pages_come_in_order_and_stay_a_bounded_number_ahead() -> None:
    produced: list[int] = []

    def pages() -> Iterator[list[dict[str, t.Any]]]:
        for n in range(50):
            produced.append(n)
            yield [{"id": str(n)}]

    feed = PageFeed("s", lambda: _source(pages()))
    feed.start()
    time.sleep(0.3)  # the thread fills its queue, then waits for the reader
    assert len(produced) <= PAGES_AHEAD + 1
    assert [page[0]["id"] for page in feed.pages()] == [str(n) for n in range(50)]


def test_an_error_in_the_feed_thread_is_raised_in_the_reader() -> None:
    def pages() -> Iterator[list[dict[str, t.Any]]]:
        yield [{"id": "1"}]
        raise RuntimeError("page 2 failed")

    feed = PageFeed("s", lambda: _source(pages()))
    feed.start()
    got = feed.pages()
    assert next(got) == [{"id": "1"}]
    with pytest.raises(RuntimeError, match="page 2 failed"):
        next(got)


def test_a_failed_decision_is_raised_where_the_source_is_asked_for() -> None:
    def refuse() -> Source:
        raise PermissionError("403")

    feed = PageFeed("s", refuse)
    feed.start()
    with pytest.raises(PermissionError):
        feed.source()


def test_a_reader_that_stops_early_stops_the_thread() -> None:
    def pages() -> Iterator[list[dict[str, t.Any]]]:
        n = 0
        while True:
            n += 1
            yield [{"id": str(n)}]

    plan = ReadPlan([("s", lambda: _source(pages()))])
    feed = plan.take("s")
    assert feed is not None
    assert plan.feed("s") is feed
    assert plan.take("s") is None  # one reader per feed; a second sync reads anew
    reader = feed.pages()
    next(reader)
    reader.close()
    feed._thread.join(timeout=5)  # noqa: SLF001
    assert not feed._thread.is_alive()  # noqa: SLF001
    assert plan.feed("other") is None


def test_feeds_of_a_plan_are_read_at_the_same_time() -> None:
    started = threading.Barrier(3, timeout=5)

    def opener() -> Source:
        started.wait()  # all three feeds must be in flight at once to get past this
        return _source([[{"id": "1"}]])

    plan = ReadPlan([(name, opener) for name in ("a", "b", "c")])
    plan.start()
    for name in ("a", "b", "c"):
        feed = plan.feed(name)
        assert feed is not None
        assert list(feed.pages()) == [[{"id": "1"}]]


def _until(condition: t.Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5  # a stuck feed fails here rather than hanging
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_plan_shares_its_page_budget_in_sync_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "PAGE_BUDGET", 6)
    monkeypatch.setattr(feeds, "FEED_AHEAD_MAX", 4)
    monkeypatch.setattr(feeds, "FEED_AHEAD_MIN", 0)

    def opener() -> Source:
        return _source([{"id": str(n)}] for n in range(20))

    plan = ReadPlan([(name, opener) for name in ("a", "b", "c")])
    plan.start()
    a, b, c = (t.cast("PageFeed", plan.feed(name)) for name in ("a", "b", "c"))
    # The stream written first may hold the most, the later ones what is left.
    assert _until(lambda: (a.held, b.held, c.held) == (4, 2, 0))
    time.sleep(0.1)
    assert (a.held, b.held, c.held) == (4, 2, 0)
    assert len(list(a.pages())) == 20
    # Once the first stream is written, its share goes to the next ones.
    assert _until(lambda: (b.held, c.held) == (4, 2))
    assert len(list(b.pages())) == 20
    assert len(list(c.pages())) == 20


def test_a_feed_read_out_of_turn_still_gets_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "PAGE_BUDGET", 2)
    monkeypatch.setattr(feeds, "FEED_AHEAD_MAX", 2)
    monkeypatch.setattr(feeds, "FEED_AHEAD_MIN", 0)

    def opener() -> Source:
        return _source([{"id": str(n)}] for n in range(10))

    plan = ReadPlan([(name, opener) for name in ("a", "b")])
    b = t.cast("PageFeed", plan.feed("b"))
    # "a" holds the whole budget and is never read; "b" is read anyway.
    assert len(list(b.pages())) == 10
    plan.close()


def test_a_feed_read_to_its_end_leaves_its_unused_share() -> None:
    plan = ReadPlan(
        [("small", lambda: _source([[{"id": "1"}]])), ("big", lambda: _source([[{}]] * 100))]
    )
    plan.start()
    small, big = (t.cast("PageFeed", plan.feed(name)) for name in ("small", "big"))
    assert _until(lambda: small.finished)
    assert _until(lambda: big.held == min(feeds.FEED_AHEAD_MAX, feeds.PAGE_BUDGET - 2))
    plan.close()


def test_chunked() -> None:
    assert list(chunked(({"id": str(n)} for n in range(5)), 2)) == [
        [{"id": "0"}, {"id": "1"}],
        [{"id": "2"}, {"id": "3"}],
        [{"id": "4"}],
    ]
    assert list(chunked([], 2)) == []


def test_router_hands_each_record_to_its_stream_once() -> None:
    router = CdtRouter()
    assert router.seal() is None  # nothing held
    router.add("cdt_a", {"id": "1"})
    router.add("cdt_b", {"id": "2"})
    first = router.seal()
    router.add("cdt_a", {"id": "3"})
    second = router.seal()
    assert first is not None
    assert second is not None
    # Sealed batches wait until taken; a stream takes all of its records, oldest first.
    assert router.take("cdt_a") == [{"id": "1"}, {"id": "3"}]
    assert router.take("cdt_a") == []
    router.add("cdt_a", {"id": "4"})
    assert router.take("cdt_a") == []  # not sealed yet
    assert router.seal() is not None
    assert router.take("cdt_b") == [{"id": "2"}]
    assert router.take("cdt_a") == [{"id": "4"}]
    assert router.take("cdt_c") == []
    assert router.held == 0


def test_with_last() -> None:
    assert list(with_last([{"id": "1"}, {"id": "2"}])) == [
        ({"id": "1"}, False),
        ({"id": "2"}, True),
    ]
    assert list(with_last([])) == []


def test_raw_export_pages_are_decoded_in_order_less_the_repeated_boundary() -> None:
    def raw(*items: tuple[str, str]) -> RawPage:
        data = [{"id": i, "updatedAt": u} for i, u in items]
        return RawPage(msgspec.json.encode({"data": data, "cursor": {"end": items[-1][1]}}))

    t1, t2 = "2025-01-01T00:00:00.000Z", "2025-01-02T00:00:00.000Z"
    pages = [raw(("a", t1), ("b", t2)), raw(("b", t2), ("c", t2)), [{"id": "x"}]]
    assert [[r["id"] for r in page] for page in decoded(pages)] == [["a", "b"], ["c"], ["x"]]


def test_a_raw_page_request_decodes_only_the_cursor() -> None:
    body = b'{"data": [{"id": "1"}], "cursor": {"start": null, "end": "e", "hasNext": true}}'
    assert client._envelope_body(body) == {"cursor": {"start": None, "end": "e", "hasNext": True}}  # noqa: SLF001
    with pytest.raises(msgspec.DecodeError):
        client._envelope_body(body[:-5])  # noqa: SLF001 - truncated: retried by the caller
