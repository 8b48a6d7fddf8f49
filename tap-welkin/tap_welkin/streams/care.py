"""Patient care: assessments, encounter parts, programs, care plans, tasks, documents.

Export type names are Welkin's where a source names them (spec 6: ``ASSESSMENT``,
``ENCOUNTER_DISPOSITION``, ``ENCOUNTER_COMMENT``, ``TASK``); Welkin's export
documentation lists care plans and programs without their names, so those are
this project's (``CARE_PLAN``, ``PATIENT_PROGRAM``). An export
that answers 404 falls back to the list endpoint like a refused one.
"""

from __future__ import annotations

from welkin_client.pagination import MetaInfoPaginator, NamedPagePaginator

from tap_welkin import schemas_care
from tap_welkin.pages import BareListPaginator, SingleObjectPaginator
from tap_welkin.streams.kinds import ResourceStream


class AssessmentRecordsStream(ResourceStream):
    """Assessment records with their answers (``answers``: one key per question)."""

    name = "assessment_records"
    schema = schemas_care.ASSESSMENT_RECORD
    export_type = "ASSESSMENT"
    list_path = "patients/{patientId}/assessment-records"


class EncounterDispositionsStream(ResourceStream):
    """Each encounter's disposition (CDT envelope, ``jsonBody`` as the tenant defines it)."""

    name = "encounter_dispositions"
    schema = schemas_care.ENCOUNTER_DISPOSITION
    export_type = "ENCOUNTER_DISPOSITION"
    list_path = "patients/{patientId}/encounters/{encounterId}/disposition"
    list_paginator = SingleObjectPaginator
    deleted_cdts = ("__encounter_disposition__",)


class EncounterCommentsStream(ResourceStream):
    """Comments on encounters."""

    name = "encounter_comments"
    schema = schemas_care.ENCOUNTER_COMMENT
    export_type = "ENCOUNTER_COMMENT"
    list_path = "patients/{patientId}/encounters/{encounterId}/comments"
    list_paginator = MetaInfoPaginator


class EncounterAssessmentLinksStream(ResourceStream):
    """The assessments attached to each encounter (CDT envelope; no export exists)."""

    name = "encounter_assessment_links"
    schema = schemas_care.ENCOUNTER_ASSESSMENT_LINK
    # No export feed: one request per encounter on every run, so opt in (README, "Streams").
    selected_by_default = False
    list_path = "patients/{patientId}/encounters/{encounterId}/assessments"
    list_paginator = BareListPaginator
    deleted_cdts = ("__encounter_assessment__",)


class PatientProgramsStream(ResourceStream):
    """Program enrolments with their current phase and phase history (``pathHistory``)."""

    name = "patient_programs"
    schema = schemas_care.PATIENT_PROGRAMS
    export_type = "PATIENT_PROGRAM"
    list_path = "patients/{patientId}/programs"
    list_paginator = MetaInfoPaginator
    # Only enrolments: the list also shows every program the patient is not in (id null).
    list_params = {"assignedPrograms": "true"}  # noqa: RUF012 - read-only


class CarePlansStream(ResourceStream):
    """Each patient's care plan (one per patient) and its overview."""

    name = "care_plans"
    schema = schemas_care.CARE_PLAN
    export_type = "CARE_PLAN"
    list_path = "patients/{patientId}/care-plan"
    list_paginator = SingleObjectPaginator


class CarePlanGoalsStream(ResourceStream):
    """The goals of each patient's care plan."""

    name = "care_plan_goals"
    schema = schemas_care.CARE_PLAN_GOAL
    # No export feed: one request per patient on every run, so opt in (README, "Streams").
    selected_by_default = False
    list_path = "patients/{patientId}/care-plan/goals"
    list_paginator = MetaInfoPaginator


class TasksStream(ResourceStream):
    """Tasks about patients."""

    name = "tasks"
    schema = schemas_care.TASK
    export_type = "TASK"
    list_path = "patients/{patientId}/tasks"
    list_paginator = MetaInfoPaginator


class DocumentSummariesStream(ResourceStream):
    """Document metadata (type, file names, sizes): never the files' contents."""

    name = "document_summaries"
    schema = schemas_care.DOCUMENT_SUMMARY
    # No export feed: one request per patient on every run, so opt in (README, "Streams").
    selected_by_default = False
    list_path = "patients/{patientId}/document-summary"
    list_paginator = NamedPagePaginator
    deleted_cdts = ("_document_summary",)
