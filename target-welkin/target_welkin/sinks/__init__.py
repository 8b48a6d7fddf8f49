"""One sink per kind of Welkin resource; the write flow lives in ``base.py``."""

from target_welkin.sinks.base import WelkinSink
from target_welkin.sinks.calendar import CalendarEventsSink
from target_welkin.sinks.cdts import CdtRecordsSink
from target_welkin.sinks.encounters import EncountersSink
from target_welkin.sinks.patients import PatientsSink
from target_welkin.sinks.unknown import UnknownStreamSink
from target_welkin.sinks.users import UsersSink

__all__ = [
    "CalendarEventsSink",
    "CdtRecordsSink",
    "EncountersSink",
    "PatientsSink",
    "UnknownStreamSink",
    "UsersSink",
    "WelkinSink",
]
