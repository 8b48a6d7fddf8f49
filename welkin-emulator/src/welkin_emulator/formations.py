"""The Designer configuration ("formations") every emulated instance has.

Two CDTs copy recorded definitions (``allergies`` from the formation recording, ``cdt-self-care``
from the CDT record recordings); ``cdt-vitals`` and ``cdt-insurance`` add the remaining field
types so that every type a connector must map occurs: text, textarea, select, multi-select
(select with ``meta.multiple: true``), integer, float, date, datetime, checkbox, phone, email.
As in a real tenant's formation (2026): a select's ``valueType`` (``STRING`` or ``INTEGER``) is
the type of its values, ``meta.multiple`` is absent on most single selects (the recorded
``allergies`` keeps its ``false``), and ``meta.minValue``/``maxValue`` are strings.
Encounter templates copy the recorded ``etmp-coaching-introduction`` shape.

Formations are static (identical for every tenant/instance and independent of the database) so
an unseeded database still accepts CDT writes.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

ENCOUNTER_CDT_NAME = "__encounter__"
DISPOSITION_CDT_NAME = "__encounter_disposition__"
ENCOUNTER_CDT_VERSION = 4
DISPOSITION_CDT_VERSION = 4

FIELD_TYPES = (
    "text", "textarea", "select", "integer", "float", "date", "datetime", "checkbox", "phone",
    "email",
)  # fmt: skip

SYSTEM_FIELDS = (
    ("id", "text"),
    ("created_at", "datetime"),
    ("created_by", "text"),
    ("created_by_name", "text"),
    ("updated_at", "datetime"),
    ("updated_by", "text"),
    ("updated_by_name", "text"),
    ("source_name", "text"),
    ("source_type", "text"),
    ("source_id", "text"),
    ("external_id", "text"),
    ("external_guid", "text"),
)
# Only these system fields may be written by clients (recorded: editable true).
EDITABLE_SYSTEM_FIELDS = frozenset({"external_id", "external_guid"})


def stable_id(*parts: str) -> str:
    """Deterministic UUID for formation objects (same on every run and every database)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "welkin-emulator:" + ":".join(parts)))


def _field(
    name: str,
    ftype: str,
    *,
    editable: bool = True,
    required: bool = False,
    options: list[str] | list[int] | None = None,
    multiple: bool | None = None,
    min_value: str | None = None,
    max_value: str | None = None,
) -> dict[str, Any]:
    """A field object with the full recorded key set, in recorded order.

    ``multiple=None`` leaves ``meta.multiple`` out (a single select, as most are); integer
    options make a select of ``valueType`` ``INTEGER``.
    """
    meta: dict[str, Any] = {"required": required}
    display, value_type = None, None
    if ftype == "select":
        display = "SELECT"
        value_type = "INTEGER" if options and isinstance(options[0], int) else "STRING"
        meta["options"] = [{"label": str(o), "value": o, "refCdtName": None} for o in options or []]
        if multiple is not None:
            meta["multiple"] = multiple
    elif ftype == "checkbox":
        display = "CHECKBOX"
    elif ftype in ("integer", "float") and (min_value is not None or max_value is not None):
        meta["minValue"] = min_value
        meta["maxValue"] = max_value
    return {
        "name": name,
        "type": ftype,
        "formula": None,
        "dictionary": None,
        "profileDataType": None,
        "editable": editable,
        "searchable": False,
        "bulkEdit": False,
        "phi": False,
        "disable": False,
        "injectedSource": False,
        "displayType": display,
        "valueType": value_type,
        "meta": meta,
    }


def _cdt(
    name: str, version: int, fields: list[dict[str, Any]], *, phi: bool = False
) -> dict[str, Any]:
    """A CDT definition: user fields first, then the system fields (recorded order)."""
    system = [_field(n, t, editable=n in EDITABLE_SYSTEM_FIELDS) for n, t in SYSTEM_FIELDS]
    return {
        "id": stable_id("cdt", name),
        "name": name,
        "title": None,
        "label": None,
        "version": version,
        "internal": False,
        "readable": True,
        "updatable": True,
        "type": "MULTI_RECORD",
        "relation": "COMMON",
        "fields": fields + system,
        "_containsPHI": phi,
    }


CDTS: list[dict[str, Any]] = [
    _cdt(
        "allergies",
        75,
        [
            _field("allergy", "text"),
            _field("reaction_symptom", "text"),
            _field(
                "severity",
                "select",
                options=["Mild", "Moderate", "Some", "Small", "Severe"],
                multiple=False,
            ),
        ],
    ),
    _cdt(
        "cdt-self-care",
        9,
        [
            _field("cdtf-alone-time", "select", options=["Yes", "No"]),
            _field("cdtf-unwind", "textarea"),
        ],
    ),
    _cdt(
        "cdt-vitals",
        12,
        [
            _field("cdtf-measured-at", "datetime"),
            _field("cdtf-weight-kg", "float", min_value="0", max_value="500"),
            _field("cdtf-height-cm", "integer", min_value="0", max_value="300"),
            _field("cdtf-pain-score", "select", options=list(range(11))),
            _field("cdtf-smoker", "checkbox"),
            _field("cdtf-notes", "textarea"),
        ],
        phi=True,
    ),
    _cdt(
        "cdt-insurance",
        31,
        [
            _field("cdtf-member-id", "text", required=True),
            _field(
                "cdtf-payer", "select", options=["Aetna", "Cigna", "Humana", "Medicare", "Other"]
            ),
            _field(
                "cdtf-plan-types",
                "select",
                options=["Dental", "Medical", "Pharmacy", "Vision"],
                multiple=True,
            ),
            _field("cdtf-start-date", "date"),
            _field("cdtf-payer-phone", "phone"),
            _field("cdtf-payer-email", "email"),
        ],
        phi=True,
    ),
]
CDTS_BY_NAME: dict[str, dict[str, Any]] = {c["name"]: c for c in CDTS}


def _template(  # noqa: PLR0917
    name: str,
    title: str,
    color: str,
    ttype: str,
    method: str,
    duration: int,
    assessments: list[str],
) -> dict[str, Any]:
    return {
        "id": stable_id("encounter-template", name),
        "name": name,
        "title": title,
        "encounterDescription": "",
        "encounterInstruction": f"<ol>\n<li>{title}: review the patient's summary.</li>\n</ol>\n",
        "encounterColor": color,
        "type": ttype,
        "deliveryMethod": method,
        "defaultDuration": duration,
        "assessmentNames": assessments,
    }


ENCOUNTER_TEMPLATES: list[dict[str, Any]] = [
    _template(
        "etmp-coaching-introduction",
        "Coaching Introduction",
        "#e67b2d",
        "Async",
        "VIDEO",
        15,
        ["asm-coaching-notes", "asm-treatment-recommendations"],
    ),
    _template(
        "etmp-initial-consultation",
        "Initial Consultation",
        "#3d85c6",
        "Sync",
        "VIDEO",
        60,
        ["asm-hello-form"],
    ),
    _template(
        "etmp-follow-up", "Follow-up Call", "#6aa84f", "Sync", "CALL", 30, ["asm-coaching-notes"]
    ),
]
TEMPLATES_BY_NAME: dict[str, dict[str, Any]] = {t["name"]: t for t in ENCOUNTER_TEMPLATES}

# The fields of the recorded dispositions (2022); their formation's selects have no ``multiple``.
DISPOSITION_FIELDS = [
    _field("notes", "textarea"),
    _field("uicedf-next-steps", "textarea"),
    _field("uicedf-review", "textarea"),
    _field("uicedf-treatment", "select", options=["None", "Medication", "Therapy", "Referral"]),
]
DISPOSITION_FORMATION: dict[str, Any] = {
    **_cdt(DISPOSITION_CDT_NAME, DISPOSITION_CDT_VERSION, DISPOSITION_FIELDS),
    "internal": True,
    "relation": "ENCOUNTER_DISPOSITION",
}

ENCOUNTER_CDT_ID = stable_id("cdt", ENCOUNTER_CDT_NAME)
DISPOSITION_CDT_ID = DISPOSITION_FORMATION["id"]

# Pre-serialised bodies: formations never change while the server runs.
CDTS_JSON = orjson.dumps(CDTS)
CDT_JSON_BY_NAME = {name: orjson.dumps(c) for name, c in CDTS_BY_NAME.items()}
TEMPLATES_JSON = orjson.dumps(ENCOUNTER_TEMPLATES)
TEMPLATE_JSON_BY_NAME = {name: orjson.dumps(t) for name, t in TEMPLATES_BY_NAME.items()}
DISPOSITION_JSON = orjson.dumps(DISPOSITION_FORMATION)


def user_fields(cdt: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-system fields of a CDT definition."""
    system = {n for n, _ in SYSTEM_FIELDS}
    return [f for f in cdt["fields"] if f["name"] not in system]
