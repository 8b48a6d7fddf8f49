"""Every kind of bad input is rejected with a clear reason, and the good records around it land.

One run through the CLI carries good records interleaved with more than twenty
kinds of bad ones. Each bad one must appear in the rejects file with its key,
operation and error code, and a reason that names the field; no rejected value
may appear in the rejects file or the log.
"""

from __future__ import annotations

import json

from .conftest import read_rejects
from .helpers import PATIENT_SCHEMA, run_cli, run_target

STRICT_PATIENT = {**PATIENT_SCHEMA, "required": ["lastName"]}
LOOSE = {"type": "object", "properties": {}, "additionalProperties": True}


def bad_input(singer, key):
    """(messages, expected {reject key: (errorCode, words in the reason)}, secret values)."""
    k = key
    good_patients = [
        {"externalId": f"{k}-good{i}", "firstName": "Good", "lastName": f"Pexample{i}"}
        for i in range(3)
    ]
    msgs: list = [
        '{"type": "RECORD", "stream": "patients", "record": {"externalId": "x"',  # 1 malformed JSON
        "[1, 2, 3]",  # 2 not an object
        '{"type": "BOGUS", "stream": "patients"}',  # 3 unknown message type
        singer.record(
            "users", {"username": f"{k}-early", "email": "early@example.org"}
        ),  # 4 record before schema
        singer.schema("patients", STRICT_PATIENT, keys=["externalId"]),
        singer.record("patients", good_patients[0]),
        {"type": "RECORD", "stream": "patients"},  # 5 RECORD without a record
        singer.record(
            "patients", {"externalId": f"{k}-b6", "firstName": 123, "lastName": "Xexample"}
        ),  # 6 schema type
        singer.record(
            "patients", {"externalId": f"{k}-b7", "firstName": "NoLast"}
        ),  # 7 schema required
        singer.record(
            "patients", {"mrn": f"{k}-b8", "firstName": "A", "lastName": "Bexample"}
        ),  # 8 missing key property
        singer.schema("ehr_patients", LOOSE),
        singer.record(
            "ehr_patients", {"firstName": "Nokey", "lastName": "Atallexample"}
        ),  # 9 no match key
        singer.record(
            "ehr_patients",
            {
                "externalId": f"{k}-b10",
                "firstName": "A",
                "lastName": "Bexample",
                "favouriteColour": "teal-9931",
            },
        ),  # 10 unknown field
        singer.record(
            "ehr_patients",
            {
                "externalId": f"{k}-b11",
                "firstName": "A",
                "lastName": "Bexample",
                "birthDate": "yesterday-ish",
            },
        ),  # 11 bad date
        singer.record(
            "ehr_patients",
            {
                "externalId": f"{k}-b12",
                "firstName": "A",
                "lastName": "Bexample",
                "email": "no-at-sign-4471",
            },
        ),  # 12 bad email
        singer.record(
            "ehr_patients", {"externalId": f"{k}-b13", "firstName": "Onlyfirst"}
        ),  # 13 Welkin 400 (lastName)
        singer.record(
            "ehr_patients",
            {
                "externalId": f"{k}-amb-a",
                "mrn": f"{k}-amb-b",
                "firstName": "A",
                "lastName": "Bexample",
            },
        ),  # 14 ambiguous
        singer.record(
            "ehr_patients",
            {
                "externalId": f"{k}-b15",
                "firstName": "A",
                "lastName": "Bexample",
                "createdAt": "2020-01-01T00:00:00Z",
                "patientPrograms": [],
            },
        ),  # good: read-only fields dropped
        singer.record("patients", good_patients[1]),
        singer.schema("cdt_allergies", LOOSE),
        singer.record(
            "cdt_allergies",
            {
                "patientId": f"{k}-src-good0",
                "external_id": f"{k}-a-good",
                "allergy": "Oat",
                "severity": "Mild",
            },
        ),
        singer.record(
            "cdt_allergies",
            {
                "patientId": f"{k}-src-good0",
                "external_id": f"{k}-c16",
                "allergy": "Oat",
                "colour": "red-8812",
            },
        ),  # 16 unknown CDT field
        singer.record(
            "cdt_allergies",
            {"patientId": f"{k}-src-good0", "external_id": f"{k}-c17", "severity": "Deadly-5521"},
        ),  # 17 not an option
        singer.record(
            "cdt_allergies", {"external_id": f"{k}-c18", "allergy": "Oat"}
        ),  # 18 no patient reference
        singer.record(
            "cdt_allergies",
            {"patientId": f"{k}-nobody", "external_id": f"{k}-c19", "allergy": "Oat"},
        ),  # 19 unknown parent
        singer.record(
            "cdt_allergies",
            {"patientId": f"{k}-src-dup", "external_id": f"{k}-dup", "allergy": "Oat"},
        ),  # 20 ambiguous CDT
        singer.schema("cdt_cdt_vitals", LOOSE),
        singer.record(
            "cdt_cdt_vitals",
            {
                "patientId": f"{k}-src-good0",
                "external_id": f"{k}-c21",
                "cdtf-height-cm": "tall-7734",
            },
        ),  # 21 integer
        singer.record(
            "cdt_cdt_vitals",
            {"patientId": f"{k}-src-good0", "external_id": f"{k}-c22", "cdtf-weight-kg": 900},
        ),  # 22 out of range
        singer.record(
            "cdt_cdt_vitals",
            {"patientId": f"{k}-src-good0", "external_id": f"{k}-c23", "cdtf-smoker": "yes-3319"},
        ),  # 23 checkbox
        singer.schema("cdt_cdt_insurance", LOOSE),
        singer.record(
            "cdt_cdt_insurance",
            {
                "patientId": f"{k}-src-good0",
                "external_id": f"{k}-c24",
                "cdtf-member-id": "M1",
                "cdtf-start-date": "31/12/2020",
            },
        ),  # 24 date format
        singer.record(
            "cdt_cdt_insurance",
            {"patientId": f"{k}-src-good0", "external_id": f"{k}-c25", "cdtf-payer": "Aetna"},
        ),  # 25 Welkin 400: required field
        singer.schema("invoices", LOOSE),
        singer.record("invoices", {"id": f"{k}-inv", "amount": 12}),  # 26 unknown stream
        singer.schema("cdt_no_such_cdt", LOOSE),
        singer.record("cdt_no_such_cdt", {"id": f"{k}-nocdt", "patientId": "p"}),  # 32 no such CDT
        {
            "type": "SCHEMA",
            "stream": "users",
            "schema": {"type": "object"},
            "key_properties": [],
        },  # invalid schema
        singer.record(
            "users", {"username": f"{k}-u27", "email": "u27@example.org"}
        ),  # 27 invalid schema
        singer.schema("calendar_events", LOOSE),
        singer.record(
            "calendar_events",
            {
                "externalId": f"{k}-e28",
                "startDateTime": "2030-01-01T10:00:00Z",
                "endDateTime": "2030-01-01T11:00:00Z",
                "participants": [{"participantId": f"{k}-src-good0", "participantRole": "visitor"}],
            },
        ),  # 28 participant role
        singer.record(
            "calendar_events",
            {
                "externalId": f"{k}-e29",
                "startDateTime": "2030-13-45",
                "endDateTime": "2030-01-01T11:00:00Z",
            },
        ),  # 29 bad datetime
        singer.schema("encounters", LOOSE),
        singer.record(
            "encounters",
            {
                "patientId": f"{k}-src-good0",
                "external_id": f"{k}-n30",
                "title": "T",
                "templateName": "etmp-does-not-exist",
            },
        ),  # 30 Welkin 400 template
        singer.schema("patients_update_only", LOOSE),
        singer.record(
            "patients_update_only",
            {"externalId": f"{k}-b31", "firstName": "A", "lastName": "Bexample"},
        ),  # 31 update mode, no match
        singer.schema("patients", STRICT_PATIENT, keys=["externalId"]),
        singer.record("patients", good_patients[2]),
        singer.state({"bookmarks": {"patients": "end"}}),
    ]
    # Give good patient 0 a source id so CDT records can point at it like tap-welkin's do.
    msgs[5] = singer.record("patients", {**good_patients[0], "id": f"{k}-src-good0"})
    expected = {
        "line 1": ("MALFORMED_LINE", "not valid JSON"),
        "line 2": ("MALFORMED_LINE", "not a JSON object"),
        "line 3": ("MALFORMED_LINE", "message type"),
        f"username={k}-early": ("RECORD_BEFORE_SCHEMA", "before its stream's SCHEMA"),
        "line 8": ("MALFORMED_LINE", "RECORD message: `record` is not an object"),
        "line 39": ("MALFORMED_LINE", "SCHEMA message: `schema.properties` is not an object"),
        f"externalId={k}-b6": ("SCHEMA_MISMATCH", "'firstName'"),
        f"externalId={k}-b7": ("SCHEMA_MISMATCH", "'lastName'"),
        f"mrn={k}-b8": ("MISSING_KEY", "key property"),
        "nokey": ("MISSING_KEY", "none of the match keys"),
        f"externalId={k}-b10": ("UNKNOWN_FIELD", "'favouriteColour'"),
        f"externalId={k}-b11": ("WRONG_TYPE", "'birthDate'"),
        f"externalId={k}-b12": ("WRONG_TYPE", "'email'"),
        f"externalId={k}-b13": ("VALIDATION_ERROR", "lastName"),
        f"externalId={k}-amb-a": ("AMBIGUOUS_MATCH", "match the record's keys"),
        f"external_id={k}-c16": ("UNKNOWN_FIELD", "'colour'"),
        f"external_id={k}-c17": ("WRONG_TYPE", "'severity'"),
        f"external_id={k}-c18": ("MISSING_FIELD", "'patientId'"),
        f"external_id={k}-c19": ("UNKNOWN_PARENT", "'patientId'"),
        f"external_id={k}-dup": ("AMBIGUOUS_MATCH", "match the record's keys"),
        f"external_id={k}-c21": ("WRONG_TYPE", "'cdtf-height-cm'"),
        f"external_id={k}-c22": ("WRONG_TYPE", "'cdtf-weight-kg'"),
        f"external_id={k}-c23": ("WRONG_TYPE", "'cdtf-smoker'"),
        f"external_id={k}-c24": ("WRONG_TYPE", "'cdtf-start-date'"),
        f"external_id={k}-c25": ("VALIDATION_ERROR", "cdtf-member-id"),
        f"id={k}-inv": ("UNKNOWN_STREAM", "maps to no Welkin resource"),
        f"id={k}-nocdt": ("UNKNOWN_STREAM", "maps to no Welkin resource"),
        f"username={k}-u27": ("INVALID_SCHEMA", "SCHEMA message is invalid"),
        f"externalId={k}-e28": ("WRONG_TYPE", "participantRole"),
        f"externalId={k}-e29": ("WRONG_TYPE", "'startDateTime'"),
        f"external_id={k}-n30": ("VALIDATION_ERROR", "templateName"),
        f"externalId={k}-b31": ("NO_MATCH", "write mode update"),
    }
    secrets = [
        "teal-9931",
        "yesterday-ish",
        "no-at-sign-4471",
        "red-8812",
        "Deadly-5521",
        "tall-7734",
        "yes-3319",
        "31/12/2020",
        "2030-13-45",
    ]
    return msgs, expected, good_patients, secrets


def test_bad_records_rejected_good_records_land(emu, config, key, singer, welkin, test_log_dir):
    # What Welkin already holds: two patients the ambiguous record's keys point at,
    # and a patient with two allergy records sharing one external_id.
    welkin.create_patient(
        {"externalId": f"{key}-amb-a", "firstName": "A", "lastName": "Oneexample"}
    )
    welkin.create_patient({"mrn": f"{key}-amb-b", "firstName": "B", "lastName": "Twoexample"})
    dup = welkin.create_patient(
        {"externalId": f"{key}-dup-p", "firstName": "D", "lastName": "Upexample"}
    )
    for _ in range(2):
        welkin.create_cdt(dup["id"], "allergies", {"external_id": f"{key}-dup", "allergy": "Oat"})
    msgs, expected, good_patients, secrets = bad_input(singer, key)
    # The duplicate-holding patient is known to the feed by a source id.
    msgs.insert(
        5,
        singer.record(
            "patients",
            {
                "id": f"{key}-src-dup",
                "externalId": f"{key}-dup-p",
                "firstName": "D",
                "lastName": "Upexample",
            },
        ),
    )
    config.update(
        max_reject_ratio=1.0,
        streams={
            "ehr_patients": {"resource": "patients"},
            "patients_update_only": {"resource": "patients", "write_mode": "update"},
        },
    )

    run = run_cli(config, msgs, test_log_dir, "bad-records")
    assert run.returncode == 0, run.stderr[-2000:]

    rejects = read_rejects(config)
    by_key = {}
    for reject in rejects:
        key_of = (
            reject["key"]
            if reject["key"] is not None or reject["errorCode"] != "MISSING_KEY"
            else "nokey"
        )
        assert key_of not in by_key, f"two rejects for {key_of}"
        by_key[key_of] = reject
        assert set(reject) == {
            "stream",
            "key",
            "operation",
            "status",
            "errorCode",
            "reason",
            "run_id",
            "time",
        }
    assert set(by_key) == set(expected), sorted(map(str, set(by_key) ^ set(expected)))
    assert len(expected) >= 20
    for reject_key, (code, words) in expected.items():
        reject = by_key[reject_key]
        assert reject["errorCode"] == code, (reject_key, reject)
        assert words in reject["reason"], (reject_key, reject)
    # Welkin's own refusals carry its status; the target's own checks none.
    assert by_key[f"externalId={key}-b13"]["status"] == 400
    assert by_key[f"externalId={key}-b13"]["operation"] == "create"
    assert by_key[f"externalId={key}-b10"]["status"] is None

    # The good records around the bad ones all landed, exactly once.
    for patient in good_patients:
        assert len(welkin.patients_with("externalId", patient["externalId"])) == 1
    assert welkin.patient_by("EID", f"{key}-b15") is not None
    good0 = welkin.patient_by("EID", f"{key}-good0")
    assert [r["jsonBody"]["external_id"] for r in welkin.cdt_records(good0["id"], "allergies")] == [
        f"{key}-a-good"
    ]
    assert welkin.patient_by("EID", f"{key}-b31") is None
    assert welkin.patient_by("EID", f"{key}-b13") is None

    # No rejected value reaches the rejects file or the log.
    text = json.dumps(rejects) + run.stderr
    for secret in secrets:
        assert secret not in text
    assert run.states == [{"bookmarks": {"patients": "end"}}]  # STATE still flows


def test_reject_ratio_fails_the_run(emu, config, key, singer, test_log_dir):
    config["max_reject_ratio"] = 0.25
    records = [
        {"externalId": f"{key}-{i}", "firstName": "A", "lastName": "Bexample", "nope": 1}
        for i in range(3)
    ]
    records.append({"externalId": f"{key}-ok", "firstName": "A", "lastName": "Bexample"})
    config["streams"] = {"ehr_patients": {"resource": "patients"}}
    run = run_cli(config, singer.stream("ehr_patients", records), test_log_dir, "reject-ratio")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    # One clear line says why, and it is the last.
    [line] = [line for line in run.stderr.splitlines() if "max_reject_ratio" in line]
    assert "3 of 4 records were rejected (75%), more than max_reject_ratio 0.25" in line
    assert run.stderr.rstrip().endswith(line)
    assert len(read_rejects(config)) == 3


def test_validate_records_off_skips_only_the_schema_check(emu, config, key, singer, welkin):
    # The SCHEMA is wrong about firstName, the value fits Welkin: with validate_records
    # off it lands; Welkin's own field checks still apply.
    schema = {
        "type": "object",
        "properties": {"externalId": {"type": "string"}, "firstName": {"type": "integer"}},
    }
    config["validate_records"] = False
    records = [
        {"externalId": f"{key}-1", "firstName": "Text", "lastName": "Okexample"},
        {
            "externalId": f"{key}-2",
            "firstName": "Text",
            "lastName": "Okexample",
            "birthDate": "soon",
        },
    ]
    run = run_target(config, singer.stream("patients", records, schema))
    assert run.summary["patients"]["created"] == 1 and run.summary["patients"]["invalid"] == 1
    assert welkin.patient_by("EID", f"{key}-1")["firstName"] == "Text"
    assert [r["errorCode"] for r in read_rejects(config)] == ["WRONG_TYPE"]
