"""Synthetic care data for the seeder: programs, assessments, care plans, goals, tasks, documents,
messages, calls, contacts, encounter links and comments, work hours and webhook deliveries.

Drawn from an RNG of its own (seeded from the seeder's), so adding a resource here never changes
the patients, CDT records and encounters seeded before it; timestamps come from the seeder's
pool of unique instants (every ``updatedAt`` in the database stays unique).
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from .care import (
    ASSESSMENT,
    CARE_PLAN,
    COMMENT,
    CONTACT,
    GOAL,
    PATIENT_PROGRAM,
    TASK,
    assessment_record,
    care_plan,
    encounter_comment,
    goal,
    overview,
    patient_contact,
    patient_program,
    phase_entry,
    task,
)
from .comms import (
    CHAT,
    EMAIL,
    SMS,
    VOICE_CALL,
    chat_message,
    chat_party,
    email_record,
    sms_record,
    voice_call_record,
)
from .designer import (
    ASSESSMENTS,
    DOCUMENT_SUMMARY_CDT,
    DOCUMENT_TYPES,
    GOAL_TEMPLATES,
    PROGRAMS,
    question_labels,
)
from .events import assessment_link
from .formations import TEMPLATES_BY_NAME
from .items import ItemKeys, item_row
from .records import cdt_envelope, cdt_json_body
from .synthetic import WORDS, Gen
from .timeutil import format_local, format_ms, parse_instant

Row = tuple[Any, ...]


def person(user: dict[str, Any]) -> str:
    """How a seeded user is named in audit fields."""
    return " ".join(user[k] for k in ("firstName", "lastName") if k in user) or user["username"]


class CareSeeder:
    """Generates the rows of one tenant/instance (``items`` rows and CDT-envelope records)."""

    def __init__(self, g: Gen, seed: int, tenant: str, instance: str) -> None:
        self.g = Gen(seed * 7919 + 13)
        self.g.used = g.used  # one pool of instants: every updatedAt stays unique
        self.rng: random.Random = self.g.rng
        self.tenant, self.instance = tenant, instance
        self.items: list[Row] = []
        self.records: list[Row] = []

    def _item(self, kind: str, rec: dict[str, Any], **cols: Any) -> None:
        keys = ItemKeys(parent=cols.get("parent"), name=cols.get("name"))
        self.items.append(item_row(self.tenant, self.instance, kind, rec, keys, rec["id"]))

    def _record(self, kind: str, env: dict[str, Any]) -> None:
        body = env["jsonBody"]
        self.records.append(
            (
                self.tenant,
                self.instance,
                kind,
                env["id"],
                env["patientId"],
                env["cdtName"],
                None,
                None,
                None,
                body["created_at"],
                body["updated_at"],
                orjson.dumps(env).decode(),
            )
        )

    def _ts(self, lo: int = 0) -> tuple[int, str]:
        ms = self.g.unique_ms(lo)
        return ms, format_ms(ms)

    def patient(self, rec: dict[str, Any], users: list[dict[str, Any]], n: int) -> None:
        """All care rows of one patient; sets the patient's ``patientPrograms``."""
        rng = self.rng
        author = users[n % len(users)]
        rec["patientPrograms"] = self._programs(rec["id"], author) if rng.random() < 0.4 else []
        if rng.random() < 0.5:
            self._assessments(rec["id"], author)
        if rng.random() < 0.35:
            self._care_plan(rec["id"], author, users)
        if rng.random() < 0.3:
            self._documents(rec["id"], author)
        self._messages(rec, author)
        if rng.random() < 0.15:
            _, ts = self._ts()
            names = (rng.choice(("Alex", "Sam", "Robin")), rec["lastName"])
            self._item(
                CONTACT,
                patient_contact(
                    self.g.uid(),
                    rec["id"],
                    names,
                    rng.choice(("SPOUSE", "PARENT", "FRIEND")),
                    f"+1555030{n % 10000:04d}",
                    ts,
                    person(author),
                ),
            )

    def _programs(self, pid: str, author: dict[str, Any]) -> list[dict[str, Any]]:
        program = PROGRAMS[self.rng.randrange(len(PROGRAMS))]
        ms, ts = self._ts()
        pp = patient_program(
            self.g.uid(), pid, program, program["phases"][0], ts, author["id"], person(author)
        )
        for phase in program["phases"][1 : 1 + self.rng.randrange(len(program["phases"]))]:
            ms, ts = self._ts(ms)
            entry = phase_entry(phase, ts, author["id"], person(author))
            pp["pathHistory"].append(entry)
            pp.update(currentPhase=entry, updatedAt=ts)
            if phase["type"] == "FINISH" and self.rng.random() < 0.5:
                pp["status"] = "FINISHED"
        self._item(PATIENT_PROGRAM, pp, name="programName")
        return [pp]

    def _assessments(self, pid: str, author: dict[str, Any]) -> None:
        for _ in range(self.rng.randrange(1, 3)):
            asm = ASSESSMENTS[self.rng.randrange(len(ASSESSMENTS))]
            ms, _ = self._ts()
            rec = assessment_record(
                self.g.uid(), pid, asm, ms, self.g.uid(), author["id"], person(author)
            )
            done_ms, done = self._ts(ms)
            for key in rec["answers"]:
                if "__" in key:
                    rec["answers"][key] = self.g.words(3)
            rec["answers"]["updated_at"] = done
            status = self.rng.choice(("IN_PROGRESS", "COMPLETED", "COMPLETED"))
            rec.update(status=status, updatedAt=done, localUpdatedDate=format_local(done_ms, None))
            if status == "COMPLETED":
                rec.update(
                    finalizedDate=done,
                    localFinalizedDate=format_local(done_ms, None),
                    questions=question_labels(asm),
                )
            self._item(ASSESSMENT, rec)

    def _care_plan(self, pid: str, author: dict[str, Any], users: list[dict[str, Any]]) -> None:
        ms, ts = self._ts()
        plan = care_plan(self.g.uid(), pid, ts, person(author), None)
        plan["patientOverview"] = overview(self.g.words(6), ts, person(author))
        self._item(CARE_PLAN, plan)
        for template in self.rng.sample(GOAL_TEMPLATES, self.rng.randrange(1, 3)):
            _, gts = self._ts(ms)
            gl = goal(
                self.g.uid(),
                pid,
                plan["id"],
                template,
                gts,
                person(author),
                self.rng.choice(("IN_PROGRESS", "COMPLETED")),
            )
            self._item(GOAL, gl, parent="carePlanId")
            _, tts = self._ts(ms)
            assignee = users[self.rng.randrange(len(users))]["id"]
            self._item(
                TASK,
                task(
                    self.g.uid(),
                    pid,
                    f"Check in: {template['goalName']}",
                    assignee,
                    tts[:10],
                    tts,
                    person(author),
                    self.rng.choice(("OPEN", "IN_PROGRESS", "COMPLETED")),
                    gl["id"],
                ),
            )

    def _documents(self, pid: str, author: dict[str, Any]) -> None:
        cdt = DOCUMENT_SUMMARY_CDT
        _, ts = self._ts()
        did = self.g.uid()
        body = cdt_json_body({"fields": []}, did, ts, author["id"], person(author), {})
        files = [
            {
                "id": self.g.uid(),
                "size": self.rng.randrange(2_000, 900_000),
                "storageKey": f"{self.tenant}/{self.instance}/patients/{pid}/documents/"
                f"{self.g.uid()}",
                "contentType": self.rng.choice(("application/pdf", "image/jpeg")),
                "originalName": f"scan-{self.rng.randrange(1000)}.pdf",
            }
        ]
        body.update(
            type=DOCUMENT_TYPES[self.rng.randrange(len(DOCUMENT_TYPES))]["name"], files=files
        )
        self._record(
            "DOCUMENT_SUMMARY", cdt_envelope(did, pid, cdt["id"], cdt["version"], cdt["name"], body)
        )

    def _messages(self, rec: dict[str, Any], author: dict[str, Any]) -> None:
        rng, pid = self.rng, rec["id"]
        who = person(author)
        if rng.random() < 0.3:
            ms, _ = self._ts()
            for i in range(rng.randrange(2, 6)):
                ms, ts = self._ts(ms)
                from_user = i % 2 == 1
                patient_party = chat_party("PATIENT", pid, None, None)
                sender = chat_party("USER", author["id"], who, None) if from_user else patient_party
                msg = chat_message(
                    "IM" + self.g.uid().replace("-", ""),
                    pid,
                    ts,
                    f"{rng.choice(WORDS)} {self.g.words(4)}",
                    sender,
                    patient_party if from_user else None,
                )
                self._item(CHAT, msg, name="externalId")
        if rng.random() < 0.25:
            _, ts = self._ts()
            phones = (f"+1555040{rng.randrange(10000):04d}", rec.get("phone") or "+15550000000")
            self._item(
                SMS,
                sms_record(
                    self.g.uid(),
                    pid,
                    ts,
                    rng.choice(("OUT", "IN")),
                    phones,
                    self.g.words(5),
                    (who, None),
                ),
            )
        if rng.random() < 0.2:
            _, ts = self._ts()
            to = rec.get("email") or "patient@example.org"
            self._item(
                EMAIL,
                email_record(
                    self.g.uid(),
                    pid,
                    ts,
                    "OUT",
                    ("care@example.com", to),
                    "Your care plan",
                    self.g.words(12),
                    (who, None),
                ),
            )
        if rng.random() < 0.15:
            ms, start = self._ts()
            secs = rng.choice((0, 120, 600, 1500))
            end = format_ms(ms + secs * 1000)
            self._item(
                VOICE_CALL,
                voice_call_record(
                    self.g.uid(), pid, author["id"], start, end, secs, rng.choice(("OUT", "IN"))
                ),
            )

    def encounter(self, env: dict[str, Any], host: dict[str, Any]) -> None:
        """The template assessment links and a comment or two of a seeded encounter."""
        created_ms = parse_instant(env["jsonBody"]["created_at"]) or 0
        template = TEMPLATES_BY_NAME.get(env["jsonBody"]["templateName"]) or {}
        by_name = {a["name"]: a for a in ASSESSMENTS}
        for name in template.get("assessmentNames", []):
            _, created = self._ts(created_ms)
            link = assessment_link(
                self.g.uid(),
                env["patientId"],
                env["id"],
                by_name[name],
                created,
                host["id"],
                person(host),
                from_template=True,
            )
            self._record("ENCOUNTER_ASSESSMENT", link)
        if self.rng.random() < 0.3:
            _, ts = self._ts()
            self._item(
                COMMENT,
                encounter_comment(
                    self.g.uid(),
                    env["patientId"],
                    env["id"],
                    self.g.words(7),
                    ts,
                    host["id"],
                    person(host),
                ),
                parent="encounterId",
            )
