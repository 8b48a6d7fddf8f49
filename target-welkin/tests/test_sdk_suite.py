"""singer-sdk's standard target tests, run against the emulator as our own suite.

The SDK's test files use generic streams (``test_array_data``: ``id``,
``fruits``...). Welkin has no such resources, so each stream is mapped onto
Welkin patients (or users) with the SDK's own stream maps, and every test is
followed by a check of what landed in the emulator.

Left out, because this target deliberately rejects the record and goes on
instead of raising (each case is covered in ``test_bad_records.py``):
``TargetInvalidSchemaTest``, ``TargetRecordBeforeSchemaTest``,
``TargetRecordMissingKeyProperty``, ``TargetRecordMissingRequiredProperty``.
"""

from __future__ import annotations

import json
import re
import tempfile
from importlib import resources
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class, target_test_streams
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetArrayData,
    TargetCamelcaseComplexSchema,
    TargetCamelcaseTest,
    TargetCliPrintsTest,
    TargetDuplicateRecords,
    TargetEncodedStringData,
    TargetMultipleStateMessages,
    TargetNoPrimaryKeys,
    TargetOptionalAttributes,
    TargetPrimaryKeyUpdates,
    TargetRecordMissingOptionalFields,
    TargetSchemaNoProperties,
    TargetSchemaUpdates,
    TargetSpecialCharsInAttributes,
)
from target_welkin.settings import RejectRatioExceeded
from target_welkin.target import TargetWelkin

from .conftest import make_config, read_rejects
from .helpers import WelkinReader


def to_patients(prefix: str, key: str, first: str, **more: str) -> dict[str, object]:
    """A stream map that writes the SDK stream as Welkin patients keyed ``sdk-<prefix>-<key>``."""
    return {
        "__alias__": "patients",
        "__key_properties__": ["externalId"],
        "externalId": f"'sdk-{prefix}-' + str({key})",
        "firstName": first,
        "lastName": "'Sdkexample'",
        **more,
        "__else__": None,
    }


STREAM_MAPS = {
    "test_array_data": to_patients("array", "id", "'Array'", primaryPhoneCapabilities="fruits"),
    "TestCamelcase": to_patients("camel", "Id", "clientName"),
    "ForecastingTypeToCategory": to_patients("fc", "Id", "'FC'"),
    "test_duplicate_records": to_patients("dup", "id", "str(metric)"),
    "test_strings": to_patients("str", "id", "info"),
    "test_strings_in_objects": None,
    "test_strings_in_arrays": None,
    "test_multiple_state_messages_a": to_patients("state-a", "id", "str(record.get('metric'))"),
    "test_multiple_state_messages_b": to_patients("state-b", "id", "str(record.get('metric'))"),
    "test_no_pk": to_patients("nopk", "id", "str(metric)"),
    "test_optional_attributes": to_patients("opt", "id", "record.get('optional', 'none')"),
    "record_missing_fields": to_patients("missing", "id", "record.get('optional', 'none')"),
    "test_object_schema_with_properties": to_patients("obj", "object_store['id']", "'Obj'"),
    "test_object_schema_no_properties": to_patients("objnp", "object_store['id']", "'Obj'"),
    "test_schema_updates": to_patients("schema", "id", "record.get('a2', 'none')"),
    "test:SpecialChars!in?attributes": to_patients("special", "_id", "d['agent:type']"),
    "example_stream": {
        "__alias__": "users",
        "__key_properties__": ["username"],
        "username": "'sdk-pk-' + name.lower()",
        "email": "email",
        "__else__": None,
    },
}

# The emulator's URL is only known once it runs: the SDK factory keeps this dict
# by reference, and the fixture below fills it before the first test.
SDK_CONFIG: dict[str, object] = {}


def sdk_records(name: str) -> list[dict]:
    """The RECORD messages of one of the SDK's test files."""
    text = (resources.files(target_test_streams) / f"{name}.singer").read_text()
    return [m["record"] for m in map(json.loads, text.splitlines()) if m["type"] == "RECORD"]


def patient(reader: WelkinReader, prefix: str, key: object) -> dict:
    found = reader.patients_with("externalId", f"sdk-{prefix}-{key}")
    assert len(found) == 1, (prefix, key, len(found))
    return found[0]


class ArrayData(TargetArrayData):
    def validate(self) -> None:
        for record in sdk_records(self.name):
            assert (
                patient(self.resource, "array", record["id"])["primaryPhoneCapabilities"]
                == record["fruits"]
            )


class Camelcase(TargetCamelcaseTest):
    def validate(self) -> None:
        for record in sdk_records(self.name):
            assert (
                patient(self.resource, "camel", record["Id"])["firstName"] == record["clientName"]
            )


class DuplicateRecords(TargetDuplicateRecords):
    def validate(self) -> None:
        assert patient(self.resource, "dup", 1)["firstName"] == "100"  # the last one wins
        assert patient(self.resource, "dup", 2)["firstName"] == "20"


CONTROL = re.compile("[\x00-\x1f]")


class EncodedStrings(TargetEncodedStringData):
    """Every encoding lands unchanged; a name holding control characters is a reject (limits)."""

    def test(self) -> None:
        with pytest.raises(RejectRatioExceeded, match="2 of 11 records"):
            self.runner.sync_all()

    def validate(self) -> None:
        records = [r for r in sdk_records(self.name) if "info" in r and isinstance(r["info"], str)]
        refused = {r["id"] for r in records if CONTROL.search(r["info"])}
        assert refused == {6, 11}  # a newline; NUL and U+0001
        for record in records:
            if record["id"] not in refused:
                assert patient(self.resource, "str", record["id"])["firstName"] == record["info"]
            else:
                assert not self.resource.patients_with("externalId", f"sdk-str-{record['id']}")
        rejects = [r for r in read_rejects(SDK_CONFIG) if r["stream"] == "test_strings"]
        assert {(r["key"], r["errorCode"]) for r in rejects} == {
            (f"id={n}", "VALUE_LIMIT") for n in refused
        }


class NoPrimaryKeys(TargetNoPrimaryKeys):
    def validate(self) -> None:
        for record in sdk_records(self.name):
            assert patient(self.resource, "nopk", record["id"])["firstName"] == str(
                record["metric"]
            )


class OptionalAttributes(TargetOptionalAttributes):
    def validate(self) -> None:
        assert patient(self.resource, "opt", 1)["firstName"] == "This is optional"
        assert patient(self.resource, "opt", 2)["firstName"] == "none"


class MissingOptionalFields(TargetRecordMissingOptionalFields):
    def validate(self) -> None:
        assert patient(self.resource, "missing", 1)["firstName"] == "now you see me"
        assert patient(self.resource, "missing", 2)["firstName"] == "none"


class SchemaNoProperties(TargetSchemaNoProperties):
    def validate(self) -> None:
        for prefix in ("obj", "objnp"):
            assert patient(self.resource, prefix, 1) and patient(self.resource, prefix, 2)


class SchemaUpdates(TargetSchemaUpdates):
    def validate(self) -> None:
        for record in sdk_records(self.name):
            patient(self.resource, "schema", record["id"])


class SpecialChars(TargetSpecialCharsInAttributes):
    def validate(self) -> None:
        assert patient(self.resource, "special", "a2e98886")["firstName"] == "desktop"


class PrimaryKeyUpdates(TargetPrimaryKeyUpdates):
    def validate(self) -> None:
        assert self.resource.user("sdk-pk-alice")["email"] == "alice@example.com"
        assert self.resource.user("sdk-pk-bob")["email"] == "bob@example.com"


class MultipleStateMessages(TargetMultipleStateMessages):
    """Every checkpoint is relayed, in order, once the records before it are written.

    The SDK's own assertion (three of the five states, compared as strings with
    parsed dicts) expects batch-time draining and is why the SDK leaves this test
    out of its default suite; this target drains at every STATE, so all five go out.
    """

    def test(self) -> None:
        self.runner.sync_all()
        text = (resources.files(target_test_streams) / f"{self.name}.singer").read_text()
        sent = [m["value"] for m in map(json.loads, text.splitlines()) if m["type"] == "STATE"]
        assert self.runner.state_messages == sent

    def validate(self) -> None:
        text = (resources.files(target_test_streams) / f"{self.name}.singer").read_text()
        for message in map(json.loads, text.splitlines()):
            if message["type"] == "RECORD":
                prefix = "state-" + message["stream"][-1]
                assert patient(self.resource, prefix, message["record"]["id"])


welkin_target_tests = SingerTestSuite(
    kind="target",
    tests=[
        ArrayData,
        TargetCamelcaseComplexSchema,
        Camelcase,
        TargetCliPrintsTest,
        DuplicateRecords,
        EncodedStrings,
        MultipleStateMessages,
        NoPrimaryKeys,
        OptionalAttributes,
        PrimaryKeyUpdates,
        MissingOptionalFields,
        SchemaNoProperties,
        SchemaUpdates,
        SpecialChars,
    ],
)

SdkTargetTests = get_target_test_class(
    TargetWelkin,
    config=SDK_CONFIG,
    custom_suites=[welkin_target_tests],
    include_target_tests=False,
)


class TestWelkinTargetSdk(SdkTargetTests):  # type: ignore[misc,valid-type]
    """The SDK's target tests, adapted to Welkin resources."""

    @pytest.fixture(autouse=True)
    def _emulator_config(self, emulator):
        if not SDK_CONFIG:
            state = tempfile.mkdtemp(prefix="target-welkin-sdk-")
            SDK_CONFIG.update(
                make_config(emulator, Path(state) / "state"),
                stream_maps=STREAM_MAPS,
                max_reject_ratio=0.0,
            )

    @pytest.fixture
    def resource(self, emulator):
        return WelkinReader(emulator)
