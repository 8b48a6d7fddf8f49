"""Care plans (recorded, August 2022), their goals, a patient's tasks and contacts.

``GET patients/{pid}/care-plan`` → ``{id, createdByName, createdAt, updatedByName, updatedAt,
patientId, patientOverview}``; ``POST`` and ``PUT …/care-plan/overview {"overview"}`` → 200 with
the ``patientOverview`` object (POST creates the plan when the patient has none). Not recorded
(the emulator's own answers): a patient without a care plan → 404 ``CARE_PLAN_NOT_FOUND``;
``…/care-plan/goals``, ``…/tasks`` and ``…/contacts`` lists (metaInfo pages) and single GETs.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..care import (
    CARE_PLAN,
    CONTACT,
    GOAL,
    PLAIN_KEYS,
    TASK,
    care_plan,
    overview,
    patient_contact,
    touch,
)
from ..errors import not_found, validation_errors
from ..http import Ctx, Reply, Router, json_reply, raw_reply
from ..items import find_item, insert_item, save_item
from .audit import record_event
from .common import actor, get_patient_row, require_patient
from .patient_items import get_one, meta_list


def _plan_missing(pid: str) -> Any:
    return not_found("CARE_PLAN_NOT_FOUND", "CARE_PLAN", "Care plan not found", {"patientId": pid})


def get_care_plan(ctx: Ctx) -> Reply:
    """``GET patients/{pid}/care-plan``."""
    pid = ctx.params["patientId"]
    conn = ctx.state.db.conn
    require_patient(conn, ctx, pid)
    plan = find_item(conn, ctx, CARE_PLAN, "patient_id=?", [pid])
    if plan is None:
        raise _plan_missing(pid)
    return json_reply(plan)


def _overview_text(ctx: Ctx) -> str:
    data = ctx.json_object()
    text = data.get("overview")
    if not isinstance(text, str):
        raise validation_errors("CARE_PLAN", [("overview", "expected a string")])
    unknown = sorted(set(data) - {"overview"})
    if unknown:
        raise validation_errors("CARE_PLAN", [(unknown[0], "unknown field")])
    return text


def write_overview(ctx: Ctx) -> Reply:
    """``POST``/``PUT patients/{pid}/care-plan/overview {"overview"}`` → 200, the overview."""
    text = _overview_text(ctx)
    pid = ctx.params["patientId"]
    actor_id, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        patient = get_patient_row(conn, ctx, pid)
        plan = find_item(conn, ctx, CARE_PLAN, "patient_id=?", [pid])
        ts = clock.tick()
        if plan is None:
            if ctx.method == "PUT":
                raise _plan_missing(pid)
            plan = care_plan(str(uuid.uuid4()), pid, ts, actor_name, text)
            insert_item(conn, ctx, CARE_PLAN, plan, PLAIN_KEYS)
            subtype = "CARE_PLAN_CREATED"
        else:
            current = plan.get("patientOverview")
            if current is None:
                plan["patientOverview"] = overview(text, ts, actor_name)
            else:
                current.update(overview=text, updatedAt=ts, updatedByName=actor_name)
            touch(plan, ts, actor_id, actor_name)
            save_item(conn, ctx, CARE_PLAN, plan, PLAIN_KEYS)
            subtype = "CARE_PLAN_UPDATED"
        record_event(conn, ctx, subtype=subtype, sent_at=ts, patient=patient, record=plan,
                     entity="CARE_PLAN")  # fmt: skip
    return json_reply(plan["patientOverview"])


_CONTACT_FIELDS = frozenset({"firstName", "lastName", "relation", "phone", "email", "primary"})


def create_contact(ctx: Ctx) -> Reply:
    """``POST patients/{pid}/contacts`` → 200 with the contact (an unreleased wrapper branch shows
    200 and an ``updatedAt``; the body's fields are the emulator's own).
    """
    data = ctx.json_object()
    problems = [(k, "unknown field") for k in sorted(set(data) - _CONTACT_FIELDS)]
    problems += [(k, "expected a string") for k in ("firstName", "lastName", "relation", "phone",
                 "email") if data.get(k) is not None and not isinstance(data[k], str)]  # fmt: skip
    if not data.get("firstName"):
        problems.append(("firstName", "required field is missing"))
    if problems:
        raise validation_errors("PATIENT", problems)
    pid = ctx.params["patientId"]
    _, actor_name = actor(ctx)
    with ctx.state.db.write() as (conn, clock):
        patient = get_patient_row(conn, ctx, pid)
        names = (data["firstName"], data.get("lastName") or "")
        rec = patient_contact(str(uuid.uuid4()), pid, names, data.get("relation") or "OTHER",
                              data.get("phone"), clock.tick(), actor_name)  # fmt: skip
        rec.update(email=data.get("email"), primary=bool(data.get("primary", False)))
        text = insert_item(conn, ctx, CONTACT, rec, PLAIN_KEYS)
        record_event(conn, ctx, subtype="PATIENT_CONTACT_CREATED", sent_at=rec["updatedAt"],
                     patient=patient, record=rec, entity="CONTACT")  # fmt: skip
    return raw_reply(text)


def _missing(code: str, what: str) -> Any:
    return lambda ctx, i: not_found(code, what.upper(), f"{what.title()} not found",
                                    {"patientId": ctx.params["patientId"], "id": i})  # fmt: skip


def register(r: Router) -> None:
    """Add the care plan, goal, task and contact routes."""
    base = "/{tenant}/{instance}/patients/{patientId}"
    r.add("GET", f"{base}/care-plan", get_care_plan)
    r.add("POST", f"{base}/care-plan/overview", write_overview)
    r.add("PUT", f"{base}/care-plan/overview", write_overview)
    r.add("GET", f"{base}/care-plan/goals", meta_list(GOAL, "care plan goals"))
    r.add("GET", f"{base}/care-plan/goals/{{id}}",
          get_one(GOAL, "care plan goals", _missing("GOAL_NOT_FOUND", "goal")))  # fmt: skip
    r.add("GET", f"{base}/tasks", meta_list(TASK, "tasks"))
    r.add("GET", f"{base}/tasks/{{id}}", get_one(TASK, "tasks", _missing("TASK_NOT_FOUND", "task")))
    r.add("GET", f"{base}/contacts", meta_list(CONTACT, "contacts"))
    r.add("POST", f"{base}/contacts", create_contact)
    r.add("GET", f"{base}/contacts/{{id}}",
          get_one(CONTACT, "contacts", _missing("CONTACT_NOT_FOUND", "contact")))  # fmt: skip
