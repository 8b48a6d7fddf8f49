"""The envelopes only some of tap-welkin's streams read (spec section 3, styles C and E).

The shared envelopes (Spring pages, metaInfo, export cursor) live in
``welkin_client.pagination``; these three are the tap's alone.
"""

from __future__ import annotations

import typing as t

from welkin_client.pagination import WelkinPaginator, response_body

if t.TYPE_CHECKING:
    import requests

Record = dict[str, t.Any]


class SingleRequestPaginator(WelkinPaginator):
    """One request, no paging: a base for the unpaged envelopes."""

    def __init__(self) -> None:
        """One page, requested without a page token."""
        super().__init__(None)

    def has_more(self, response: requests.Response) -> bool:
        """Never a second page."""
        return False

    def get_next(self, response: requests.Response) -> None:
        """No next page."""
        return


class BareListPaginator(SingleRequestPaginator):
    """Style E: a bare JSON array (formations, encounter assessment links)."""

    def records(self, body: t.Any) -> list[Record]:  # noqa: ANN401
        """The array itself."""
        return [item for item in body or [] if isinstance(item, dict)]


class SingleObjectPaginator(SingleRequestPaginator):
    """One JSON object per request (a patient's care plan, an encounter's disposition)."""

    def records(self, body: t.Any) -> list[Record]:  # noqa: ANN401
        """The object as the only record (none for an empty body)."""
        return [body] if isinstance(body, dict) and body else []


class TokenPaginator(WelkinPaginator):
    """Style C: ``{"meta": {"nextPageToken", ...}, "content": [...]}`` (chat).

    The next page is asked for with ``pageToken=<nextPageToken>``; a null token ends the list.
    """

    def __init__(self) -> None:
        """Start without a token."""
        super().__init__(None)

    def records(self, body: t.Any) -> list[Record]:  # noqa: ANN401
        """``content`` of the page."""
        return list((body or {}).get("content") or [])

    def has_more(self, response: requests.Response) -> bool:
        """More pages while ``meta.nextPageToken`` is set."""
        return bool(self._token(response))

    def get_next(self, response: requests.Response) -> str | None:
        """``meta.nextPageToken``."""
        return self._token(response)

    @staticmethod
    def _token(response: requests.Response) -> str | None:
        token = (response_body(response).get("meta") or {}).get("nextPageToken")
        return str(token) if token else None
