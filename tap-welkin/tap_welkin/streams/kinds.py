"""The three ways tap-welkin's resource streams read Welkin, as base classes.

* :class:`ResourceStream`: an incremental resource, from ``export/{export_type}``
  (the default, about one request per 1000 records) or, when export is refused or
  no export type exists, its list endpoint ``list_path``: instance-wide, per
  patient (``{patientId}`` in the path) or per encounter (``{encounterId}`` too,
  the patient's encounters listed first).
* :class:`DesignerStream`: Designer configuration (formations), full table.
* Audit feeds are resource streams over a tenant-level ``list_path``.

Each concrete stream is declared by attributes only (see ``care.py``,
``messages.py``, ``designer.py``, ``audit.py``).
"""

from __future__ import annotations

import sys
import typing as t

from welkin_client.errors import WelkinNotFound
from welkin_client.pagination import MetaInfoPaginator, SpringPagePaginator

from tap_welkin.bookmarks import Bound
from tap_welkin.extraction import IncrementalStream, ListStream
from tap_welkin.feeds import Source
from tap_welkin.pages import BareListPaginator, SingleRequestPaginator, TokenPaginator

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator

Record = dict[str, t.Any]
#: The envelopes of list endpoints (each paginator starts without arguments).
ListPaginator = SpringPagePaginator | MetaInfoPaginator | SingleRequestPaginator | TokenPaginator


class RouteMissing(RuntimeError):
    """The list endpoint does not exist on this instance (an empty 404)."""


class ResourceStream(IncrementalStream):
    """A Welkin resource read from its export, or from ``list_path`` when export is refused."""

    #: ``export/{export_type}`` serves this stream; None: Welkin exports no such type.
    export_type: t.ClassVar[str | None] = None  # type: ignore[assignment]
    #: The list endpoint of the fallback, relative to the instance (or the tenant's
    #: admin path): ``patients/{patientId}/sms``; None: Welkin lists it nowhere.
    list_path: t.ClassVar[str | None] = None
    #: The envelope of ``list_path``.
    list_paginator: t.ClassVar[type[ListPaginator]] = SpringPagePaginator
    #: Query parameters of ``list_path`` (besides the page size).
    list_params: t.ClassVar[dict[str, t.Any]] = {}
    #: The page-size and page-token parameters of ``list_path``.
    size_param: t.ClassVar[str] = "size"
    page_param: t.ClassVar[str] = "page"
    #: The parameter of ``list_path`` that bounds the replication key from below.
    start_param: t.ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        """Name the fallback's route template after ``list_path`` (for logs and metrics)."""
        super().__init_subclass__(**kwargs)
        if "rest_route" not in cls.__dict__:
            scope = "admin" if cls.admin_scope else "{instance}"
            cls.rest_route = f"GET /{{tenant}}/{scope}/{cls.list_path or '(none)'}"

    @override
    def rest_records(self, bound: Bound) -> Iterator[Record]:
        if self.list_path is None:
            self.logger.warning(
                "Stream '%s' is empty: Welkin lists it only through export/%s, which this "
                "API client may not use.",
                self.name,
                self.export_type,
            )
            return
        try:
            if "{patientId}" in self.list_path:
                yield from self.for_each_patient(lambda pid: self.read_patient(pid, bound))
            else:
                yield from (r for page in self.read_list(self.list_path, bound) for r in page)
        except RouteMissing:
            self.logger.warning(
                "Stream '%s' is empty: this Welkin instance does not serve %s.",
                self.name,
                self.rest_route,
            )

    def read_list(self, path: str, bound: Bound) -> Iterator[list[Record]]:
        """The pages of one list (records without their key are left out).

        Raises:
            RouteMissing: Welkin answered an empty 404, its answer to an unknown route.
        """
        params = {self.size_param: self.page_size, **self.list_params}
        if self.start_param and bound.request_start:
            params[self.start_param] = bound.request_start
        pages = self.fetch_pages(
            path, self.list_paginator(), params=params, page_param=self.page_param
        )
        try:
            for page in pages:
                yield [r for r in page if all(r.get(k) is not None for k in self.primary_keys)]
        except WelkinNotFound as exc:
            # A missing record comes with an errorCode; a missing route with an empty body.
            if exc.error_code is None:
                raise RouteMissing(str(exc)) from None
            raise

    def read_patient(self, patient_id: str, bound: Bound) -> Iterator[list[Record]]:
        """One patient's records (each encounter's, for an encounter sub-resource)."""
        path = str(self.list_path).replace("{patientId}", patient_id)
        if "{encounterId}" not in path:
            pages = self.read_list(path, bound)
        else:
            pages = (
                page
                for encounter_id in self.encounter_ids(patient_id)
                for page in self.read_list(path.replace("{encounterId}", encounter_id), bound)
            )
        for page in pages:
            # Per-patient lists may leave out the patient (chat messages do).
            yield [{"patientId": patient_id, **r} for r in page]

    def encounter_ids(self, patient_id: str) -> Iterator[str]:
        """The ids of a patient's encounters."""
        pages = self.fetch_pages(
            f"patients/{patient_id}/encounters",
            MetaInfoPaginator(),
            params={"size": self.page_size},
        )
        for page in pages:
            yield from (str(e["id"]) for e in page if e.get("id"))


class DesignerStream(ListStream):
    """Designer configuration: ``formations/current/{type}``, a bare array, read in full.

    Formations carry no update time (spec 4.10): full table, one request per run,
    read ahead in the run's read plan like every other feed.
    """

    replication_key = None
    paginator_class = BareListPaginator  # type: ignore[assignment]

    @override
    def open_source(self) -> Source:
        # Formation lists are not paged: no page or size parameter.
        pages = self.fetch_pages(self.path, self.paginator_class(), ahead=False)
        return Source(export=False, reason="", bound=Bound(None), pages=pages)

    @override
    def get_url_params(self, context: t.Any, next_page_token: t.Any) -> dict[str, t.Any]:  # noqa: ANN401
        # Formation lists are not paged; the recorded wrapper sent page=0 anyway.
        return {}
