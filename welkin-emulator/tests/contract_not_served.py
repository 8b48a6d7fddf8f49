"""Recordings of resources the emulator does not serve yet, each with the reason.

The one place such reasons live (test_contract_recordings checks that every recording has a
scenario or a reason here, never both): a scenario added for one of these recordings replaces
its entry.
"""

from __future__ import annotations

# NOT SERVED YET: issue 13 adds scenarios for these (and deletes their entries).
_ISSUE_13 = "not served yet: issue 13"
NOT_SERVED: dict[str, str] = {
    **dict.fromkeys(
        ("test_assessment_get", "test_encounter_assessment_create",
         "test_encounter_assessment_delete", "test_encounter_assessment_get",
         "test_encounter_assessment_update", "test_encounter_assessments_get",
         "test_encounter_get_assessment_get", "test_encounter_related_data_assessment_get"),
        f"assessments and encounter assessments {_ISSUE_13}",
    ),
    **dict.fromkeys(
        (),
        f"programs and patient programs {_ISSUE_13}",
    ),
    **dict.fromkeys(
        (),
        f"care plans and goal templates {_ISSUE_13}",
    ),
    **dict.fromkeys(
        ("test_document_summaries_get_patient_id", "test_document_summaries_subresource",
         "test_document_summary_create", "test_document_summary_delete",
         "test_document_summary_file_get", "test_document_summary_get"),
        f"documents {_ISSUE_13}",
    ),
    **dict.fromkeys(
        (),
        f"chat, SMS and email {_ISSUE_13}",
    ),
    "test_schedule_read_all": f"schedules {_ISSUE_13}",
    "test_work_hours_read_all": f"work hours {_ISSUE_13}",
    "test_webhook_audit_read_all": f"the webhook audit {_ISSUE_13}",
}  # fmt: skip
