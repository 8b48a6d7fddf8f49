"""Stream classes of tap-welkin, one module per Welkin domain."""

from welkin_client.naming import cdt_stream_name

from tap_welkin.streams.calendar import CalendarEventsStream
from tap_welkin.streams.cdts import CdtRecordsStream, CdtRouter, CdtStream
from tap_welkin.streams.encounters import EncountersStream
from tap_welkin.streams.patients import PatientsStream
from tap_welkin.streams.users import UsersStream

__all__ = [
    "CalendarEventsStream",
    "CdtRecordsStream",
    "CdtRouter",
    "CdtStream",
    "EncountersStream",
    "PatientsStream",
    "UsersStream",
    "cdt_stream_name",
]
