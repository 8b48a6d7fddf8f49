"""Encounters (patient sub-resource, CDT-style records)."""

from __future__ import annotations

import sys
import typing as t

from welkin_client.pagination import MetaInfoPaginator

from tap_welkin import schemas
from tap_welkin.extraction import IncrementalStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_welkin.bookmarks import Bound


class EncountersStream(IncrementalStream):
    """Every encounter, from ``export/ENCOUNTER`` or ``GET patients/{patientId}/encounters``.

    Records keep Welkin's envelope (``jsonBody`` nested); ``jsonBody.updated_at``
    and ``created_at`` are surfaced as top-level ``updatedAt``/``createdAt``, the
    replication key and its companion, named like the other streams' timestamps.
    """

    name = "encounters"
    schema = schemas.ENCOUNTER
    export_type = "ENCOUNTER"
    rest_route = "GET /{tenant}/{instance}/patients/{patientId}/encounters"
    paginator_class = MetaInfoPaginator
    deleted_cdts = ("__encounter__",)

    @override
    def rest_records(self, bound: Bound) -> Iterator[dict[str, t.Any]]:
        # Welkin has no date filter on this list: read every patient's encounters.
        return self.for_each_patient(
            lambda patient_id: self.fetch_pages(
                f"patients/{patient_id}/encounters",
                MetaInfoPaginator(),
                params={"size": self.page_size},
            )
        )
