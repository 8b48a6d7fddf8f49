"""One paginator per Welkin list envelope (spec section 3).

Every paginator stops on the envelope's own end flag (``last``,
``metaInfo.lastPage``, ``cursor.hasNext``), never on "fewer items than asked".
They are singer-sdk paginators, so tap streams use them directly and
``WelkinClient.paginate`` drives them for the target.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator

if t.TYPE_CHECKING:
    import requests

MAX_PAGE_SIZE = 1000
_BODY_ATTR = "_welkin_body"


def response_body(response: requests.Response) -> t.Any:  # noqa: ANN401
    """The decoded JSON body of ``response``, decoded once and cached on the response.

    A 1000-record page is read by the caller and by ``has_more``/``get_next``;
    decoding it three times costs more than the request. A caller with a faster
    decoder can store its result first with :func:`cache_body`.
    """
    if _BODY_ATTR not in response.__dict__:
        response.__dict__[_BODY_ATTR] = response.json()
    return response.__dict__[_BODY_ATTR]


def cache_body(response: requests.Response, body: t.Any) -> None:  # noqa: ANN401
    """Remember an already decoded body for :func:`response_body`."""
    response.__dict__[_BODY_ATTR] = body


class WelkinPaginator(BaseAPIPaginator[t.Any]):
    """Base: knows where an envelope keeps its records."""

    def records(self, body: t.Any) -> list[dict[str, t.Any]]:  # noqa: ANN401
        """The records of a decoded response body."""
        raise NotImplementedError

    def get_next(self, response: requests.Response) -> t.Any:  # noqa: ANN401
        """Next page token."""
        raise NotImplementedError


class SpringPagePaginator(WelkinPaginator):
    """Style A: ``{"content": [...], "last": bool, "number": n, ...}``, 0-based ``page``."""

    def __init__(self) -> None:
        """Start at page 0."""
        super().__init__(0)

    def page(self, body: dict[str, t.Any]) -> dict[str, t.Any]:
        """The Spring page object of a body."""
        return body

    def records(self, body: t.Any) -> list[dict[str, t.Any]]:  # noqa: ANN401
        """``content`` of the page."""
        return list(self.page(body).get("content") or [])

    def has_more(self, response: requests.Response) -> bool:
        """More pages while ``last`` is false."""
        return not self.page(response_body(response)).get("last", True)

    def get_next(self, response: requests.Response) -> int:
        """The next 0-based page number."""
        return int(self.current_value) + 1


class NamedPagePaginator(SpringPagePaginator):
    """Style A': ``{"name": "<cdtName>", "data": {Spring page}}`` (CDT records)."""

    def page(self, body: dict[str, t.Any]) -> dict[str, t.Any]:
        """The Spring page under ``data``."""
        return dict(body.get("data") or {})


class MetaInfoPaginator(WelkinPaginator):
    """Style B: ``{"data": [...], "metaInfo": {"page", "lastPage", ...}}``."""

    def __init__(self) -> None:
        """Start at page 0."""
        super().__init__(0)

    def records(self, body: t.Any) -> list[dict[str, t.Any]]:  # noqa: ANN401
        """``data`` of the page."""
        return list(body.get("data") or [])

    def has_more(self, response: requests.Response) -> bool:
        """More pages while ``metaInfo.lastPage`` is false."""
        return not (response_body(response).get("metaInfo") or {}).get("lastPage", True)

    def get_next(self, response: requests.Response) -> int:
        """The next 0-based page number."""
        return int(self.current_value) + 1


class ExportCursorStuck(RuntimeError):
    """The export cursor did not advance: more than a page of records share one timestamp."""


class ExportCursorPaginator(WelkinPaginator):
    """Style D: ``{"data": [...], "cursor": {"start", "end", "hasNext"}}``.

    The token is the ``start`` to send: the initial bookmark, then ``cursor.end``.
    Whether Welkin's ``start`` is inclusive is unknown, so boundary records may
    come twice (see :class:`ExportBoundary`). A page that does not move the cursor
    would repeat forever: that is an error, not a loop.
    """

    def __init__(self, start: str | None) -> None:
        """Start from ``start`` (an ISO timestamp) or from the beginning."""
        super().__init__(start)
        self.pages = 0
        self.boundary = ExportBoundary()

    def records(self, body: t.Any) -> list[dict[str, t.Any]]:
        """``data`` of the page, less the boundary items the previous page already gave.

        Call it once per page, in order: it remembers the page's boundary.
        """
        return self.boundary.fresh(body.get("data") or [])

    def has_more(self, response: requests.Response) -> bool:
        """More pages while ``cursor.hasNext`` is true."""
        return bool((response_body(response).get("cursor") or {}).get("hasNext"))

    def get_next(self, response: requests.Response) -> str | None:
        """``cursor.end``, which must move forward.

        Raises:
            ExportCursorStuck: ``hasNext`` is true but ``end`` equals the current ``start``.
        """
        self.pages += 1
        end = (response_body(response).get("cursor") or {}).get("end")
        if end is None or end == self.current_value:
            msg = (
                f"Export cursor did not advance past {self.current_value!s}: more records "
                "share one updatedAt than fit in a page. Raise page_size (up to 1000) or "
                "use extraction_path=rest for this stream."
            )
            raise ExportCursorStuck(msg)
        return str(end)


def export_updated_at(item: dict[str, t.Any]) -> str | None:
    """An export item's update time: top-level ``updatedAt``, else ``jsonBody.updated_at``."""
    value = item.get("updatedAt")
    if value is None:
        body = item.get("jsonBody")
        if isinstance(body, dict):
            value = body.get("updated_at")
    return value if isinstance(value, str) else None


class ExportBoundary:
    """Drops items already emitted at the previous page's boundary timestamp.

    With an inclusive ``start``, the items whose ``updatedAt`` equals ``cursor.end``
    come again on the next page; ids seen at that timestamp are remembered.
    """

    def __init__(self) -> None:
        """Nothing seen yet."""
        self._boundary: str | None = None
        self._ids_at_boundary: set[str] = set()

    def fresh(self, items: t.Iterable[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        """The items of one page that were not already emitted."""
        out = list(items)
        # Every item's time, read straight from ``updatedAt`` when all have it (a page
        # of 1000 is read by a tap's writer thread: a call per item is measurable).
        times = [item.get("updatedAt") for item in out]
        if set(map(type, times)) - {str}:
            times = [export_updated_at(item) for item in out]
        boundary, seen = self._boundary, self._ids_at_boundary
        if boundary is not None and boundary in times:
            kept = [
                k for k, u in enumerate(times) if u != boundary or str(out[k].get("id")) not in seen
            ]
            out, times = [out[k] for k in kept], [times[k] for k in kept]
        if out:
            last = max((u for u in times if u is not None), default="")
            if last != boundary:
                self._boundary, self._ids_at_boundary = last, set()
            self._ids_at_boundary.update(
                str(out[k].get("id")) for k, u in enumerate(times) if u == last
            )
        return out
