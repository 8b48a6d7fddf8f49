"""The base stream: Welkin's session, auth, retry policy and PHI-safe errors for every stream."""

from __future__ import annotations

import sys
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import msgspec
import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream
from welkin_client.auth import check_response
from welkin_client.errors import describe, error_code_of
from welkin_client.pagination import (
    MAX_PAGE_SIZE,
    MetaInfoPaginator,
    SpringPagePaginator,
    WelkinPaginator,
    cache_body,
    response_body,
)
from welkin_client.paths import route_template
from welkin_client.retry import log_backoff, wait_generator

from tap_welkin import sdk_compat
from tap_welkin.bookmarks import bound_for, parse_lookback
from tap_welkin.feeds import RawPage

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tap_welkin.auth import WelkinAuthenticator
    from tap_welkin.bookmarks import Bound
    from tap_welkin.tap import TapWelkin

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

_decode = msgspec.json.Decoder().decode


class _Cursor(msgspec.Struct):
    start: t.Any = None
    end: t.Any = None
    hasNext: t.Any = None  # noqa: N815 - Welkin's name


class _Envelope(msgspec.Struct):
    cursor: _Cursor | None = None


#: Checks a body and reads only its export cursor: nothing else is built.
_decode_envelope = msgspec.json.Decoder(_Envelope).decode
#: Set while a request whose body is kept raw (:class:`RawPage`) is sent in this thread.
_raw_bodies = threading.local()


def decode_page(content: bytes) -> t.Any:  # noqa: ANN401
    """A raw page's decoded body."""
    return _decode(content)


def _envelope_body(content: bytes) -> dict[str, t.Any]:
    """The body's cursor alone, as the export paginator reads it."""
    try:
        cursor = _decode_envelope(content or b"{}").cursor
    except msgspec.ValidationError:  # not an export envelope: decode it all
        return t.cast("dict[str, t.Any]", _decode(content))
    if cursor is None:
        return {"cursor": None}
    return {"cursor": {"start": cursor.start, "end": cursor.end, "hasNext": cursor.hasNext}}


class WelkinStream(sdk_compat.DirectRecordWrites, RESTStream[t.Any]):
    """A Welkin list endpoint.

    All streams of a tap share one session, token manager and rate budget (the
    tap's ``welkin`` client), so the request budget and the token endpoint's limit
    hold for the whole process. Errors and retries are classified by
    ``welkin_client``; nothing logged names a concrete URL, a body or a value.
    """

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)  # type: ignore[misc]
    #: Tenant-level (``/{tenant}/admin/…``) rather than instance-level resource.
    admin_scope: t.ClassVar[bool] = False
    # Welkin's JSON is already JSON-typed: the SDK's recursive conformance (made
    # for Python-typed sources: datetimes, bytes, 0/1 booleans) cost 60% of a sync.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: The envelope of the list endpoint in ``path``.
    paginator_class: t.ClassVar[type[SpringPagePaginator | MetaInfoPaginator]] = SpringPagePaginator

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Create the stream (see ``RESTStream``)."""
        super().__init__(*args, **kwargs)
        # A STATE message after each page's worth of records, so an interrupted
        # export run resumes close to where it stopped.
        self.STATE_MSG_FREQUENCY = self.page_size

    @property
    def tap(self) -> TapWelkin:
        """The tap, typed."""
        return t.cast("TapWelkin", self._tap)

    @property
    @override
    def url_base(self) -> str:
        return self.tap.welkin.url("", admin=self.admin_scope)

    @property
    @override
    def requests_session(self) -> requests.Session:
        return self.tap.welkin.session

    @property
    @override
    def authenticator(self) -> WelkinAuthenticator:
        return self.tap.authenticator

    @property
    @override
    def user_agent(self) -> str:  # type: ignore[override]
        # The session's (configured, or tap-welkin's), not singer-sdk's default.
        return str(self.requests_session.headers["User-Agent"])

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout") or 60)

    @property
    def page_size(self) -> int:
        """Records per page: Welkin's maximum unless configured lower."""
        return min(int(self.config.get("page_size") or MAX_PAGE_SIZE), MAX_PAGE_SIZE)

    def bound(self) -> Bound:
        """The lower bound on ``updatedAt`` of this run, from the bookmark and settings."""
        # The raw state: the SDK's state manager may not exist yet (see uses_export).
        return bound_for(
            self.tap_state.get("bookmarks", {}).get(self.name, {}),
            replication_key=str(self.replication_key),
            start_date=self.config.get("start_date"),
            lookback=parse_lookback(self.config.get("lookback_window")),
        )

    @override
    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> Iterable[Context | None]:
        # The SDK's default copies every record to sync the children of a stream
        # that has none.
        if not self.child_streams:
            return ()
        return super().generate_child_contexts(record, context)

    @override
    def validate_response(self, response: requests.Response) -> None:
        # Refreshes the token once on TOKEN_EXPIRED / NOT_VALID_JSON_WEB_TOKEN.
        check_response(response, self.tap.welkin.tokens)
        # Decode here, inside the retry policy: a truncated or garbled body is
        # retried like a dropped connection. msgspec is several times faster than
        # json, and the paginator's end checks reuse the decoded body.
        try:
            if getattr(_raw_bodies, "on", False):
                cache_body(response, _envelope_body(response.content))
            else:
                cache_body(response, _decode(response.content or b"null"))
        except msgspec.DecodeError:
            request = response.request
            where = f"{request.method} {route_template(request.url or '')}" if request else "?"
            msg = f"Welkin API {response.status_code} sent a body that is not JSON on {where}"
            raise RetriableAPIError(msg, response) from None

    @override
    def response_error_message(self, response: requests.Response) -> str:
        # The SDK's default appends the body, which can hold PHI.
        return describe(response, *error_code_of(response))

    @override
    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        return wait_generator()  # type: ignore[return-value]

    @override
    def backoff_jitter(self, value: float) -> float:
        # wait_generator already applies full jitter and honours Retry-After.
        return value

    @override
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries") or 6)

    @override
    def backoff_handler(self, details: Details) -> None:
        # The SDK default logs the request arguments, i.e. URLs with patient ids.
        log_backoff(self.logger)(details)

    @override
    def build_prepared_request(self, *args: t.Any, **kwargs: t.Any) -> requests.PreparedRequest:
        # The SDK also sets ``session.auth`` here; the session is shared with the
        # token manager, whose token call must stay unauthenticated. ``_request``
        # applies the authenticator to every attempt anyway.
        request = requests.Request(*args, **kwargs)
        request.headers.setdefault("User-Agent", self.user_agent)
        return self.requests_session.prepare_request(request)

    @override
    def get_new_paginator(self) -> WelkinPaginator:
        self._paginator = self.paginator_class()
        return self._paginator

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"page": next_page_token or 0, "size": self.page_size}

    @override
    def parse_response(self, response: requests.Response) -> Iterator[dict[str, t.Any]]:
        yield from self._paginator.records(self.decode(response))

    @staticmethod
    def decode(response: requests.Response) -> t.Any:  # noqa: ANN401
        """The body decoded by ``validate_response``."""
        return response_body(response)

    def fetch_pages(
        self,
        path: str,
        paginator: WelkinPaginator,
        *,
        params: Mapping[str, t.Any] | None = None,
        page_param: str = "page",
        method: str = "GET",
        body: t.Any = None,  # noqa: ANN401
        ahead: bool = True,
    ) -> Iterator[list[dict[str, t.Any]]]:
        """Yield the records of each page of ``path`` (relative to ``url_base``).

        Used where one stream reads many lists (per patient, per time window):
        same retries, token refresh and classification as ``request_records``,
        without putting patient ids into the SDK's metric contexts.

        The next page is requested as soon as the current one has arrived (its
        cursor or number is known by then) and fetched while the current page's
        records are processed: one page ahead hides the network round trip.
        Pages still come out in order, and at most two are held at a time.
        ``ahead=False`` fetches each page when asked (a feed thread, which has its
        own queue of pages ahead).
        """
        send = sdk_compat.request_sender(self)

        def fetch(token: t.Any) -> requests.Response:  # noqa: ANN401
            query = dict(params or {})
            if token is not None:
                query[page_param] = token
            prepared = self.build_prepared_request(
                method=method, url=self.url_base + path, params=query, json=body
            )
            response = send(prepared, None)
            self.decode(response)  # decode off the consumer's thread, cached on the response
            return response

        if not ahead:
            while not paginator.finished:
                response = fetch(paginator.current_value)
                records = paginator.records(self.decode(response))
                paginator.advance(response)
                del response  # its body (bytes and decoded) is not held while the page waits
                yield records
            return
        if paginator.finished:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="welkin-page") as fetcher:
            pending = fetcher.submit(fetch, paginator.current_value)
            while pending is not None:
                response = pending.result()
                records = paginator.records(self.decode(response))
                paginator.advance(response)
                pending = (
                    None if paginator.finished else fetcher.submit(fetch, paginator.current_value)
                )
                yield records

    def fetch_raw_pages(
        self, path: str, paginator: WelkinPaginator, *, params: Mapping[str, t.Any], page_param: str
    ) -> Iterator[RawPage]:
        """The pages of ``path`` as :class:`RawPage`: only the cursor is decoded here.

        The body is still checked as JSON inside the retry policy, like every response.
        """
        send = sdk_compat.request_sender(self)
        while not paginator.finished:
            query = dict(params)
            if paginator.current_value is not None:
                query[page_param] = paginator.current_value
            prepared = self.build_prepared_request(
                method="GET", url=self.url_base + path, params=query
            )
            _raw_bodies.on = True
            try:
                response = send(prepared, None)
            finally:
                _raw_bodies.on = False
            content = response.content
            paginator.advance(response)
            del response
            yield RawPage(content)
