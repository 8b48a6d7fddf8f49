"""JSON schemas of the Designer configuration (formations, spec 4.10) and the audit feeds (4.11).

Typed from the recorded formation responses; deeper structures whose keys vary
with the form's design (condition settings, question ``meta``, scoring groups) are
open objects or lists.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from tap_welkin.schemas import ANY, DT, B, I, S, obj, open_list, open_object

_OPTION = obj(th.Property("label", S), th.Property("value", ANY), th.Property("refCdtName", S))

#: A CDT field (spec 4.10), as in CDT, document type and disposition definitions.
FIELD = obj(
    th.Property("name", S),
    th.Property("type", S),
    th.Property("formula", ANY),
    th.Property("dictionary", ANY),
    th.Property("profileDataType", ANY),
    th.Property("editable", B),
    th.Property("searchable", B),
    th.Property("bulkEdit", B),
    th.Property("phi", B),
    th.Property("disable", B),
    th.Property("injectedSource", B),
    th.Property("displayType", S),
    th.Property("valueType", S),
    # minValue/maxValue come as numbers or strings; options' values as strings or integers.
    th.Property(
        "meta",
        obj(
            th.Property("required", B),
            th.Property("multiple", B),
            th.Property("options", th.ArrayType(_OPTION)),
            th.Property("minValue", ANY),
            th.Property("maxValue", ANY),
        ),
    ),
)

#: CDT, document type and encounter disposition definitions share one shape.
CDT_DEFINITION = obj(
    th.Property("id", S, required=True),
    th.Property("name", S),
    th.Property("title", S),
    th.Property("label", S),
    th.Property("version", I),
    th.Property("internal", B),
    th.Property("readable", B),
    th.Property("updatable", B),
    th.Property("type", S),
    th.Property("relation", S),
    th.Property("fields", th.ArrayType(FIELD)),
    th.Property("_containsPHI", B),
).to_dict()

ASSESSMENT_TEMPLATE = obj(
    th.Property("id", S, required=True),
    th.Property("title", S),
    th.Property("name", S),
    th.Property("version", I),
    th.Property(
        "sections",
        th.ArrayType(
            obj(
                th.Property("title", S),
                th.Property("name", S),
                th.Property("order", I),
                th.Property(
                    "fields",
                    th.ArrayType(
                        obj(
                            th.Property("label", S),
                            th.Property("name", S),
                            th.Property("refCdtName", S),
                            th.Property("refCdtFieldName", S),
                            th.Property("order", I),
                            th.Property("viewType", S),
                            th.Property("meta", open_object()),
                            th.Property("prePopulatedValue", open_object()),
                            th.Property("attachments", open_list()),
                        )
                    ),
                ),
            )
        ),
    ),
    th.Property("scoring", obj(th.Property("formula", S), th.Property("groups", open_list()))),
    th.Property("programs", open_list()),
    th.Property("template", ANY),
    th.Property("conditionSettings", open_object()),
    th.Property("displayType", S),
    th.Property("autoCompleted", B),
    th.Property("_containsPHI", B),
).to_dict()

PHASE = obj(
    th.Property("name", S),
    th.Property("title", S),
    th.Property("type", S),
    th.Property("description", S),
    th.Property("autoFinishProgram", B),
    th.Property("navigateTo", th.ArrayType(obj(th.Property("name", S)))),
)

# Programs have no id: ``name`` is the key. ``nodes`` is the Designer's drawing of the phases.
PROGRAM = obj(
    th.Property("name", S, required=True),
    th.Property("title", S),
    th.Property("description", S),
    th.Property("phases", th.ArrayType(PHASE)),
    th.Property("nodes", th.ArrayType(open_object())),
).to_dict()

ENCOUNTER_TEMPLATE = obj(
    th.Property("id", S, required=True),
    th.Property("name", S),
    th.Property("title", S),
    th.Property("encounterDescription", S),
    th.Property("encounterInstruction", S),
    th.Property("encounterColor", S),
    th.Property("type", S),
    th.Property("deliveryMethod", S),
    th.Property("defaultDuration", I),
    th.Property("assessmentNames", th.ArrayType(S)),
).to_dict()

GOAL_TEMPLATE = obj(
    th.Property("name", S, required=True),
    th.Property("goalName", S),
    th.Property("type", S),
    th.Property("priority", S),
    th.Property(
        "taskTemplates",
        th.ArrayType(
            obj(
                th.Property("name", S),
                th.Property(
                    "subjectConfig", obj(th.Property("type", S), th.Property("roleName", S))
                ),
            )
        ),
    ),
).to_dict()

_AUDIT_EVENT: tuple[th.Property[t.Any], ...] = (
    th.Property("eventEntity", S),
    th.Property("eventSubtype", S),
    th.Property("instance", S),
    th.Property("patientId", S),
    th.Property("sentAt", DT),
    # The record after the change (before it, for a delete): any resource's shape.
    th.Property("record", open_object()),
)

# Data audit events (recorded by a real tenant, 2026): ``eventId`` is mostly null, so
# the stream has no key; a target appends the events.
DATA_AUDIT_EVENT = obj(
    th.Property("eventId", S),
    *_AUDIT_EVENT,
    th.Property("subjectUsername", S),
    th.Property("subjectUserId", S),
    th.Property("subjectActor", S),
    th.Property("subjectFullName", S),
    th.Property("patientFullName", S),
    th.Property("cdtName", S),
    th.Property("cdtRelation", S),
).to_dict()

WEBHOOK_AUDIT_EVENT = obj(
    th.Property("id", S, required=True),
    *_AUDIT_EVENT,
    th.Property("status", S),
    th.Property("statusCode", S),
    th.Property("response", ANY),
).to_dict()
