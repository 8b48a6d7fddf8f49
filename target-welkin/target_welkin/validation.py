"""Record validation against the stream's SCHEMA whose messages name fields, never values."""

from __future__ import annotations

import typing as t

import jsonschema
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from typing_extensions import override

from target_welkin.reasons import schema_mismatch
from target_welkin.rejects import Code, Operation, RecordRejected


class SchemaValidator(BaseJSONSchemaValidator):
    """jsonschema Draft 7; a failure is a :class:`RecordRejected` naming the field's path.

    The SDK's own validator logs the failing record and its error quotes the value.
    """

    def __init__(self, schema: dict[str, t.Any]) -> None:
        """Compile ``schema`` (already checked by :func:`validator_for`)."""
        super().__init__(schema)
        self._validator = jsonschema.Draft7Validator(schema)

    @override
    def validate(self, record: dict[str, t.Any]) -> None:
        """Raise RecordRejected on the record's first mismatch."""
        error = next(iter(self._validator.iter_errors(record)), None)
        if error is not None:
            raise schema_mismatch(error)


class RejectAll(BaseJSONSchemaValidator):
    """Rejects every record with one reason (an unusable SCHEMA, an unknown stream)."""

    def __init__(self, schema: dict[str, t.Any], rejected: RecordRejected) -> None:
        """Every record gets ``rejected``."""
        super().__init__(schema)
        self.rejected = rejected

    @override
    def validate(self, record: dict[str, t.Any]) -> None:
        """Always raise."""
        raise self.rejected


def validator_for(schema: dict[str, t.Any], *, enabled: bool) -> BaseJSONSchemaValidator | None:
    """The validator of a stream: None when ``validate_records`` is off and the SCHEMA is usable."""
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError:
        return RejectAll(
            schema,
            RecordRejected(
                "the stream's SCHEMA is not a valid JSON schema",
                operation=Operation.VALIDATE,
                error_code=Code.INVALID_SCHEMA,
                invalid=True,
            ),
        )
    return SchemaValidator(schema) if enabled else None
