"""CDT records: flat ``POST``/``PATCH`` under ``patients/{patientId}/cdts/{cdtName}``.

Fields come from the CDT's formation (``formations/current/cdts``): editable
fields are written with their formation type, system fields are dropped, any
other field is rejected. Records are matched by ``external_id`` or
``external_guid`` within their patient.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from target_welkin.client import CdtRecordsApi
from target_welkin.payload import FieldSpec, cdt_field_specs
from target_welkin.sinks.base import WelkinSink

# The record envelope as Welkin and tap-welkin show it, and the system fields
# every CDT carries (also dropped if a formation leaves them out).
CDT_ENVELOPE = frozenset(
    {
        "patientId",
        "cdtId",
        "cdtName",
        "version",
        "created_at",
        "created_by",
        "created_by_name",
        "updated_at",
        "updated_by",
        "updated_by_name",
        "source_type",
        "source_name",
        "source_id",
        "createdAt",
        "updatedAt",
    }
)


class CdtRecordsSink(WelkinSink):
    """Records of one CDT, named by the stream (``cdt_<name>``) or by ``streams``."""

    resource = "cdt"
    api_class = CdtRecordsApi  # type: ignore[assignment]
    fields: t.Mapping[str, FieldSpec] = {}
    read_only = CDT_ENVELOPE
    key_fields = ("external_id", "external_guid")
    source_id_field = "external_guid"
    parent_resource = "patients"

    @override
    def setup(self) -> None:
        """Read the CDT's formation: its fields decide what a record may hold."""
        self.run.start()
        name, formation = self.run.cdt_formation(self.stream_name)
        self.resource = f"cdt:{name}"
        self.fields, system = cdt_field_specs(formation)
        self.read_only = CDT_ENVELOPE | system
        self.api = CdtRecordsApi(self.run.connection.client, name)
        self.register()
