"""Designer configuration beyond CDTs: assessments, programs, goal templates, document types.

Shapes follow the recorded formations (September/October 2023): assessments with sections of
question and read-only fields, scoring and condition settings; programs with phases and a
react-flow graph of nodes and edges (no id, no timestamps); goal templates with task templates;
document types as CDT definitions with ``relation DOCUMENT_TYPE``. Names and labels are the
emulator's own (synthetic), except the test names the recordings use (``asm-hello-form2``,
``prog-target-patient``, ``doc-type-others``, ``eat-fruit``), so that recorded requests replay.

Like :mod:`formations`, everything here is static: identical for every tenant and instance.
"""

from __future__ import annotations

from typing import Any

import orjson

from .formations import _cdt, _field, stable_id

FORMATION_VERSION = 75  # every recorded 2023 assessment and document type has this version


def _question(  # noqa: PLR0917
    cdt: str,
    field: str,
    label: str,
    order: int,
    ftype: str = "textarea",
    prepopulated: dict[str, Any] | None = None,
    required: bool = False,
) -> dict[str, Any]:
    """An assessment field that asks a question stored in ``cdt``/``field``."""
    return {
        "label": label,
        "name": "",
        "refCdtName": cdt,
        "refCdtFieldName": field,
        "order": order,
        "viewType": "question",
        "meta": {"type": ftype, "required": required},
        "prePopulatedValue": prepopulated,
        "attachments": [],
    }


def _read_only(name: str, label: str, order: int) -> dict[str, Any]:
    """A read-only text block of an assessment (no answer)."""
    return {
        "label": label,
        "name": name,
        "refCdtName": "",
        "refCdtFieldName": "",
        "order": order,
        "viewType": "readOnly",
        "meta": {"type": "", "required": False},
        "prePopulatedValue": None,
        "attachments": [],
    }


def _assessment(
    name: str,
    title: str,
    fields: list[dict[str, Any]],
    elements: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": stable_id("assessment", name),
        "title": title,
        "name": name,
        "version": FORMATION_VERSION,
        "sections": [{"title": title, "name": "section-1", "order": 0, "fields": fields}],
        "scoring": {"formula": "SUM", "groups": []},
        "programs": [],
        "template": None,
        "conditionSettings": {"elements": elements or [], "events": []},
        "displayType": "SECTIONS",
        "autoCompleted": False,
        "_containsPHI": True,
    }


_PREVIOUS = {"type": "PREVIOUS_ASSESSMENT"}

ASSESSMENTS: list[dict[str, Any]] = [
    _assessment(
        "asm-coaching-notes",
        "Coaching Notes",
        [
            _question(
                "cdt-coaching-notes",
                "cdtf-patient-overview",
                "Member overview",
                0,
                prepopulated=_PREVIOUS,
            ),
            _question("cdt-coaching-notes", "cdtf-focus-today", "Session notes", 1),
            _question("cdt-soap-notes", "cdtf-visit-summary", "Notes for the patient", 2),
        ],
    ),
    _assessment(
        "asm-treatment-recommendations",
        "Treatment Recommendations",
        [
            _question(
                "cdt-treatments",
                "cdtf-lifestyle-list",
                "Pick a lifestyle option",
                0,
                ftype="select",
            ),
            _read_only("section-0-field-0", "<p># Walking</p><p>Step counts help.</p>", 1),
            _question(
                "cdt-soap-notes",
                "cdtf-lifestyle-rec",
                "Lifestyle recommendations",
                2,
                prepopulated=_PREVIOUS,
            ),
            _question(
                "cdt-encounter-status",
                "cdtf-status",
                "Status?",
                3,
                ftype="select",
                prepopulated={"type": "DEFAULT_VALUE", "defaultValue": "Completed"},
            ),
        ],
        [
            {
                "type": "READ_ONLY",
                "action": "SHOW",
                "operation": "AND",
                "name": "section-0-field-0",
                "conditions": [
                    {
                        "type": "EQUAL",
                        "refCdtName": "cdt-treatments",
                        "refCdtFieldName": "cdtf-lifestyle-list",
                        "value": "Walking",
                    }
                ],
            }
        ],
    ),
    _assessment(
        "asm-hello-form",
        "hello-form",
        [
            _question("cdt-hello", "cdtf-hi", "hi", 0, ftype="text"),
        ],
    ),
    _assessment(
        "asm-hello-form2",
        "hello-form2",
        [
            _question("cdt-hello", "cdtf-hi", "hi there", 0, ftype="text"),
        ],
    ),
]
ASSESSMENTS_BY_NAME: dict[str, dict[str, Any]] = {a["name"]: a for a in ASSESSMENTS}


def answer_keys(assessment: dict[str, Any]) -> list[str]:
    """The ``<cdt>__<field>`` keys of an assessment record's ``answers`` (questions only)."""
    return [
        f"{f['refCdtName']}__{f['refCdtFieldName']}"
        for s in assessment["sections"]
        for f in s["fields"]
        if f["viewType"] == "question"
    ]


def question_labels(assessment: dict[str, Any]) -> dict[str, str]:
    """``answer key → label`` (what a completed record's ``questions`` holds)."""
    return {
        f"{f['refCdtName']}__{f['refCdtFieldName']}": f["label"]
        for s in assessment["sections"]
        for f in s["fields"]
        if f["viewType"] == "question"
    }


def _phase(name: str, title: str, ptype: str, navigate: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "type": ptype,
        "description": "",
        "autoFinishProgram": False,
        "navigateTo": [{"name": n} for n in navigate],
    }


def _node(name: str, label: str, x: int, ptype: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": ptype, "label": label} if ptype else {"label": label}
    return {"id": name, "data": data, "type": "graphNode", "position": {"x": x, "y": 20}}


def _edge(source: str, target: str) -> dict[str, Any]:
    return {
        "id": f"reactflow__edge-{source}HandleSrcRight-{target}HandleTargetLeft",
        "type": "smoothstep",
        "source": source,
        "target": target,
        "animated": True,
        "sourceHandle": f"HandleSrcRight_{source}",
        "targetHandle": f"HandleTargetLeft_{target}",
        "arrowHeadType": "arrowclosed",
    }


def _program(
    name: str,
    title: str,
    description: str,
    phases: list[tuple[str, str, str, list[str]]],
    typed_nodes: bool,
) -> dict[str, Any]:
    nodes = [
        _node(p[0], p[1], 20 + 300 * i, p[2] if typed_nodes else None) for i, p in enumerate(phases)
    ]
    edges = [_edge(p[0], target) for p in phases for target in p[3]]
    return {
        "name": name,
        "title": title,
        "description": description,
        "phases": [_phase(*p) for p in phases],
        "nodes": nodes + edges,
    }


PROGRAMS: list[dict[str, Any]] = [
    _program(
        "prog-target-patient",
        "Target Patient",
        "Patients on an active treatment plan.",
        [
            ("start", "Start", "START", ["finish", "in-treatment"]),
            ("in-treatment", "In Treatment", "DEFAULT", ["maintenance", "finish"]),
            ("maintenance", "Maintenance", "DEFAULT", ["finish"]),
            ("finish", "Finish", "FINISH", []),
        ],
        typed_nodes=True,
    ),
    _program(
        "prog-target-2-patient",
        "Target 2 Patient",
        "Patients waiting to start.",
        [
            ("start", "Start", "START", ["finish"]),
            ("finish", "Finish", "FINISH", []),
        ],
        typed_nodes=False,
    ),
    _program(
        "prog-non-target-patient",
        "Non-Target Patient",
        "Every other patient.",
        [
            ("start", "Start", "START", ["finish"]),
            ("finish", "Finish", "FINISH", []),
        ],
        typed_nodes=False,
    ),
]
PROGRAMS_BY_NAME: dict[str, dict[str, Any]] = {p["name"]: p for p in PROGRAMS}
PROGRAM_VERSION = "92"  # ``currentPhase.currentVersion`` as recorded (a string)

GOAL_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "eat-fruit",
        "goalName": "Eat Fruit",
        "type": "dietary",
        "priority": "LOW",
        "taskTemplates": [
            {
                "name": "check-in-on-goal-progress",
                "subjectConfig": {"type": "ROLE", "roleName": "health-coach"},
            }
        ],
    },
    {
        "name": "pushups",
        "goalName": "Pushups",
        "type": "exercise",
        "priority": "LOW",
        "taskTemplates": [
            {"name": "check-in-on-goal-progress", "subjectConfig": {"type": "POINT_OF_CONTACT"}}
        ],
    },
]
GOALS_BY_NAME: dict[str, dict[str, Any]] = {g["name"]: g for g in GOAL_TEMPLATES}


def _document_type(name: str, title: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    for f in fields:
        f["phi"] = True
    return {
        **_cdt(name, FORMATION_VERSION, fields, phi=True),
        "title": title,
        "label": title,
        "internal": True,
        "relation": "DOCUMENT_TYPE",
    }


DOCUMENT_TYPES: list[dict[str, Any]] = [
    _document_type("doc-type-others", "Others", [_field("notes", "text")]),
    _document_type("dt-insurance-card", "Insurance Card", [_field("dtf-notes", "textarea")]),
    _document_type(
        "medical-records",
        "Medical Records",
        [
            _field("date", "date"),
            _field(
                "visit-type",
                "select",
                options=["ER", "Urgent Care", "PCP", "Other"],
                multiple=False,
            ),
        ],
    ),
]
DOCUMENT_TYPES_BY_NAME: dict[str, dict[str, Any]] = {d["name"]: d for d in DOCUMENT_TYPES}

# The CDTs behind CDT-backed resources that are not user-defined (recorded names and versions).
DOCUMENT_SUMMARY_CDT: dict[str, Any] = {
    "name": "_document_summary",
    "id": stable_id("cdt", "_document_summary"),
    "version": 10,
}
ENCOUNTER_ASSESSMENT_CDT: dict[str, Any] = {
    "name": "__encounter_assessment__",
    "id": stable_id("cdt", "__encounter_assessment__"),
    "version": 6,
}

# Pre-serialised bodies (``kind → (list JSON, {name: JSON})``) for the formation routes.
FORMATION_JSON: dict[str, tuple[bytes, dict[str, bytes]]] = {
    kind: (orjson.dumps(items), {i["name"]: orjson.dumps(i) for i in items})
    for kind, items in (
        ("assessments", ASSESSMENTS),
        ("programs", PROGRAMS),
        ("goal-templates", GOAL_TEMPLATES),
        ("document-types", DOCUMENT_TYPES),
    )
}
