"""Patients: ``POST``/``PATCH patients[/{id}]``, matched by externalId, externalGuid or mrn."""

from __future__ import annotations

from target_welkin.client import PatientsApi
from target_welkin.payload import FieldSpec
from target_welkin.sinks.base import WelkinSink

TEXT = FieldSpec("text")

PATIENT_FIELDS = {
    **dict.fromkeys(
        (
            "externalId",
            "externalGuid",
            "mrn",
            "nric",
            "firstName",
            "middleName",
            "lastName",
            "gender",
            "maritalStatus",
            "primaryLanguage",
            "secondaryLanguage",
            "phone",
            "secondaryPhone",
            "country",
            "state",
            "city",
            "zip",
            "addressLine1",
            "addressLine2",
            "timezone",
        ),
        TEXT,
    ),
    "email": FieldSpec("email"),
    "secondaryEmail": FieldSpec("email"),
    # Welkin stores a birth date as midnight UTC (recorded create with birthDate).
    "birthDate": FieldSpec("birthdate"),
    "primaryPhoneCapabilities": FieldSpec("text_list"),
    "secondaryPhoneCapabilities": FieldSpec("text_list"),
}

# Set by Welkin or managed through other routes (programs, care team, territories).
PATIENT_READ_ONLY = frozenset(
    {
        "createdAt",
        "updatedAt",
        "createdBy",
        "updatedBy",
        "createdByName",
        "updatedByName",
        "patientTerritories",
        "careTeamMembers",
        "patientPrograms",
        "careTeam",
        "cadence",
        "patientRegion",
        "patientRegionTitle",
        "patientTerritory",
        "pointOfContact",
        "accessCode",
        "preferableInstancePhoneId",
    }
)


class PatientsSink(WelkinSink):
    """Welkin patients; a record with no key of its own is keyed by its source id (externalGuid)."""

    resource = "patients"
    api_class = PatientsApi
    fields = PATIENT_FIELDS
    read_only = PATIENT_READ_ONLY
    key_fields = ("externalId", "externalGuid", "mrn")
    source_id_field = "externalGuid"
