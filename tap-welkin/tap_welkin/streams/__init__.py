"""Stream classes of tap-welkin, one module per Welkin domain."""

from welkin_client.naming import cdt_stream_name

from tap_welkin.streams import audit, care, designer, messages, schedules
from tap_welkin.streams.calendar import CalendarEventsStream
from tap_welkin.streams.cdts import CdtRecordsStream, CdtRouter, CdtStream
from tap_welkin.streams.encounters import EncountersStream
from tap_welkin.streams.patients import PatientsStream
from tap_welkin.streams.users import UsersStream

#: The streams of issue 13, in sync order: configuration first, then care data, then audit.
RESOURCE_STREAMS = (
    designer.CustomDataTypesStream,
    designer.DispositionDefinitionStream,
    designer.DocumentTypesStream,
    designer.AssessmentTemplatesStream,
    designer.EncounterTemplatesStream,
    designer.ProgramsStream,
    designer.GoalTemplatesStream,
    care.PatientProgramsStream,
    care.CarePlansStream,
    care.CarePlanGoalsStream,
    care.TasksStream,
    care.AssessmentRecordsStream,
    care.EncounterDispositionsStream,
    care.EncounterCommentsStream,
    care.EncounterAssessmentLinksStream,
    care.DocumentSummariesStream,
    messages.SmsStream,
    messages.EmailsStream,
    messages.VoiceCallsStream,
    messages.ChatMessagesStream,
    messages.PatientContactsStream,
    schedules.WorkHoursStream,
    audit.DataAuditStream,
    audit.WebhookAuditStream,
)

__all__ = [
    "RESOURCE_STREAMS",
    "CalendarEventsStream",
    "CdtRecordsStream",
    "CdtRouter",
    "CdtStream",
    "EncountersStream",
    "PatientsStream",
    "UsersStream",
    "cdt_stream_name",
]
