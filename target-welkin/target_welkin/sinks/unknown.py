"""Streams the target cannot place in Welkin: every record is rejected, the run goes on."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from target_welkin.rejects import Code, Operation, RecordRejected
from target_welkin.sinks.base import WelkinSink


class UnknownStreamSink(WelkinSink):
    """A stream that is neither a Welkin resource name, a CDT stream nor in ``streams``."""

    resource = "unknown"
    key_fields = ()
    fields: t.Mapping[str, t.Any] = {}
    read_only = frozenset()

    @override
    def _validate_and_parse(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        # The first per-record step: reject before any other check.
        raise RecordRejected(
            f"stream '{self.stream_name}' maps to no Welkin resource of this instance "
            "(name one in 'streams')",
            operation=Operation.VALIDATE,
            error_code=Code.UNKNOWN_STREAM,
            invalid=True,
        )
