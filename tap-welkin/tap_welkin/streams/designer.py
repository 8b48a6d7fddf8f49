"""Designer configuration as data: the forms, programs, templates and types analysts label with.

Read from ``formations/current/…`` in full on every run (formations carry no
update time, spec 4.10): one request per stream.
"""

from __future__ import annotations

import typing as t

from tap_welkin import schemas_designer
from tap_welkin.pages import SingleObjectPaginator
from tap_welkin.streams.kinds import DesignerStream


class AssessmentTemplatesStream(DesignerStream):
    """Assessment forms: sections, questions and the CDT field each question fills."""

    name = "assessment_templates"
    path = "formations/current/assessments"
    schema = schemas_designer.ASSESSMENT_TEMPLATE


class ProgramsStream(DesignerStream):
    """Programs with their phases (``phases``) and the paths between them."""

    name = "programs"
    path = "formations/current/programs"
    schema = schemas_designer.PROGRAM
    primary_keys: t.ClassVar[tuple[str, ...]] = ("name",)  # type: ignore[misc]


class EncounterTemplatesStream(DesignerStream):
    """Encounter templates and the assessments each one attaches."""

    name = "encounter_templates"
    path = "formations/current/encounters"
    schema = schemas_designer.ENCOUNTER_TEMPLATE


class DocumentTypesStream(DesignerStream):
    """Document types (``document_summaries.jsonBody.type`` names one)."""

    name = "document_types"
    path = "formations/current/document-types"
    schema = schemas_designer.CDT_DEFINITION


class GoalTemplatesStream(DesignerStream):
    """Goal templates with their task templates."""

    name = "goal_templates"
    path = "formations/current/goal-templates"
    schema = schemas_designer.GOAL_TEMPLATE
    primary_keys: t.ClassVar[tuple[str, ...]] = ("name",)  # type: ignore[misc]


class CustomDataTypesStream(DesignerStream):
    """CDT definitions (Custom Data Types): each CDT's fields, types, options and labels.

    Not named `cdt_…`: that prefix belongs to the streams of CDT records.
    """

    name = "custom_data_types"
    path = "formations/current/cdts"
    schema = schemas_designer.CDT_DEFINITION


class DispositionDefinitionStream(DesignerStream):
    """The encounter disposition's fields (one definition per instance)."""

    name = "encounter_disposition_definition"
    path = "formations/current/encounter-disposition"
    schema = schemas_designer.CDT_DEFINITION
    paginator_class = SingleObjectPaginator  # type: ignore[assignment]
