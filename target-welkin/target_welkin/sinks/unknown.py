"""Streams the target cannot place in Welkin: every record is rejected, the run goes on."""

from __future__ import annotations

import typing as t

from singer_sdk.sinks.core import BaseJSONSchemaValidator
from typing_extensions import override

from target_welkin.rejects import Code, Operation, RecordRejected
from target_welkin.sinks.base import WelkinSink
from target_welkin.validation import RejectAll


class UnknownStreamSink(WelkinSink):
    """A stream that is neither a Welkin resource name, a CDT stream nor in ``streams``."""

    resource = "unknown"
    key_fields = ()
    fields: t.Mapping[str, t.Any] = {}
    read_only = frozenset()

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Every record is rejected, before any other check."""
        return RejectAll(
            self.schema,
            RecordRejected(
                f"stream '{self.stream_name}' maps to no Welkin resource of this instance "
                "(name one in 'streams')",
                operation=Operation.VALIDATE,
                error_code=Code.UNKNOWN_STREAM,
                invalid=True,
            ),
        )
