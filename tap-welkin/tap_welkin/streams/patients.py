"""Patients (instance-level)."""

from __future__ import annotations

import sys
import typing as t

from tap_welkin import schemas
from tap_welkin.extraction import IncrementalStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_welkin.bookmarks import Bound


class PatientsStream(IncrementalStream):
    """Every patient, from ``export/PATIENT`` or ``POST by-filter/patients``."""

    name = "patients"
    schema = schemas.PATIENT
    export_type = "PATIENT"
    rest_route = "POST /{tenant}/{instance}/by-filter/patients"

    @override
    def rest_records(self, bound: Bound) -> Iterator[dict[str, t.Any]]:
        # The patient list has no updatedAt filter: read all, keep what changed.
        for page in self.fetch_pages(
            "by-filter/patients",
            self.paginator_class(),
            params={"size": self.page_size},
            method="POST",
            body={},
        ):
            yield from page
