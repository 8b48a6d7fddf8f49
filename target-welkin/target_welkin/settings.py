"""target-welkin's settings and how a stream's route to Welkin is worked out from them."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import welkin_client
from singer_sdk import typing as th
from welkin_client.config_check import PATTERN_WORDS

from target_welkin.limits import SETTINGS as LIMIT_SETTINGS

RATIO = r"^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$"
PATTERN_WORDS[RATIO] = "a number from 0 to 1"
RESOURCES = ("patients", "users", "calendar_events", "encounters", "cdt")
WRITE_MODES = ("upsert", "insert", "update")
NULL_HANDLING = ("omit", "send")
PATIENT_KEYS = ("id", "externalId", "externalGuid", "mrn")

STREAM_SETTINGS = th.ObjectType(
    th.Property(
        "resource",
        th.StringType,
        allowed_values=list(RESOURCES),
        description="Welkin resource the stream writes (default: inferred from the stream name).",
    ),
    th.Property("cdt", th.StringType, description="CDT name, when `resource` is `cdt`."),
    th.Property("write_mode", th.StringType, allowed_values=list(WRITE_MODES)),
    th.Property("null_handling", th.StringType, allowed_values=list(NULL_HANDLING)),
    th.Property(
        "match_keys",
        th.ArrayType(th.StringType),
        description="External key fields to match by, in order (default per resource).",
    ),
    th.Property(
        "patient_field",
        th.StringType,
        description="Field holding the patient reference (CDT records, encounters).",
    ),
    th.Property(
        "patient_key",
        th.StringType,
        allowed_values=list(PATIENT_KEYS),
        description="What `patient_field` holds: a Welkin `id` or an external key of the patient.",
    ),
    additional_properties=False,
)


class ConfigurationError(Exception):
    """The settings cannot work (unknown CDT, bad mapping): the run stops at once."""


class RejectRatioExceeded(RuntimeError):
    """More records were rejected than ``max_reject_ratio`` allows."""


@dataclass(frozen=True)
class StreamRoute:
    """Where one stream goes in Welkin and how it is written."""

    kind: str | None
    cdt: str | None = None
    write_mode: str = "upsert"
    null_handling: str = "omit"
    keys: tuple[str, ...] | None = None
    patient_field: str = "patientId"
    patient_key: str = "id"
    match_by_id: bool = True
    source_id_as_key: bool = True

    def match_keys(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        """The configured match keys, else the resource's defaults."""
        return self.keys or defaults


CONFIG_SCHEMA = th.PropertiesList(
    *welkin_client.CONNECTION_PROPERTIES,
    th.Property(
        "streams",
        th.ObjectType(additional_properties=STREAM_SETTINGS),
        description=(
            "Per stream: the Welkin resource it writes (`ehr_patients` -> patients, "
            "`allergies_feed` -> CDT `allergies`), write mode, null handling, match keys "
            "and patient reference. Streams named `patients`, `users`, `calendar_events`, "
            "`encounters` or `cdt_<cdt name>` need no entry."
        ),
    ),
    th.Property(
        "write_mode",
        th.StringType,
        default="upsert",
        allowed_values=list(WRITE_MODES),
        description="Default write mode: upsert, insert (create only) or update (patch only).",
    ),
    th.Property(
        "null_handling",
        th.StringType,
        default="omit",
        allowed_values=list(NULL_HANDLING),
        description="`omit` leaves fields that are null in a record untouched; `send` clears.",
    ),
    th.Property(
        "match_by_id",
        th.BooleanType,
        default=True,
        description="Match a record by its Welkin `id` when that id exists in this instance.",
    ),
    th.Property(
        "source_id_as_key",
        th.BooleanType,
        default=True,
        description=(
            "Write a record's source `id` into its external GUID field when it has no key "
            "of its own, so reruns and retries find it."
        ),
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Lookups only: log the plan (would-be creates and updates), write nothing.",
    ),
    th.Property(
        "allow_deletes",
        th.BooleanType,
        default=False,
        description=(
            "Delete in Welkin the records marked deleted at the source (`_sdc_deleted_at`): "
            "CDT records, encounters and calendar events (patients and users cannot be "
            "deleted through the API). Off: they are counted as skipped deletes."
        ),
    ),
    th.Property(
        "state_dir",
        th.StringType,
        default=".target-welkin",
        description=(
            "Folder of the id map, a cache of what Welkin holds (one SQLite file per "
            "tenant and instance); processes may share it."
        ),
    ),
    th.Property(
        "rejects_path",
        th.StringType,
        description="JSON-lines rejects file (default: `<state_dir>/rejects.jsonl`).",
    ),
    th.Property(
        "max_reject_ratio",
        # A numeric string too: Meltano 4.4 passes settings from environment variables
        # as strings unless declared `decimal`, and cannot serialise `decimal` ones.
        th.CustomType(
            {
                "type": ["number", "string"],
                "minimum": 0,
                "maximum": 1,
                "pattern": RATIO,
            }
        ),
        default=0.5,
        description=("Fail the run (non-zero exit) past this share of rejected records (0 to 1)."),
    ),
    th.Property(
        "max_line_bytes",
        th.CustomType({"type": "integer", "minimum": 1024}),
        default=8 * 1024 * 1024,
        description="Longest input line, in bytes; a longer line is a reject (8 MiB).",
    ),
    *LIMIT_SETTINGS,
    th.Property(
        "max_workers",
        th.IntegerType(minimum=1),
        default=4,
        description="Concurrent writes (never two for one key).",
    ),
).to_dict()


def make_route(config: t.Mapping[str, t.Any], stream_name: str) -> StreamRoute:
    """Where ``stream_name`` goes, from its ``streams`` entry or its name.

    Raises:
        ConfigurationError: a CDT mapping without the CDT name.
    """
    settings = dict((config.get("streams") or {}).get(stream_name) or {})
    kind = settings.get("resource")
    if kind is None:
        if stream_name in RESOURCES and stream_name != "cdt":
            kind = stream_name
        elif stream_name.startswith("cdt_") or settings.get("cdt"):
            kind = "cdt"
    if kind == "cdt" and settings.get("cdt") is None and not stream_name.startswith("cdt_"):
        msg = f"streams.{stream_name}: resource cdt needs the `cdt` name"
        raise ConfigurationError(msg)
    keys = settings.get("match_keys")
    return StreamRoute(
        kind=kind,
        cdt=settings.get("cdt"),
        write_mode=settings.get("write_mode") or config.get("write_mode") or "upsert",
        null_handling=settings.get("null_handling") or config.get("null_handling") or "omit",
        keys=tuple(keys) if keys else None,
        patient_field=settings.get("patient_field") or "patientId",
        patient_key=settings.get("patient_key") or "id",
        match_by_id=bool(config.get("match_by_id", True)),
        source_id_as_key=bool(config.get("source_id_as_key", True)),
    )
