"""Webhooks: the emulator pings a subscriber after every write, as Welkin does ("ping and pull").

A webhook is defined (``--config`` JSON ``"webhooks"``, ``--webhook-url``, or ``PUT
/_emulator/webhooks``) with a ``name``, ``title``, target ``url``, custom ``headers`` and
``queryParameters`` (how the receiver authenticates Welkin) and the ``events`` it wants (event
subtypes or entities; none = every event). Each write through the API (hooked where the data audit
records it) becomes one POST per matching webhook, sent by a background thread *after the write
commits*, so a receiver that pulls at once reads the new data and API latency is unaffected.

The payload carries Welkin's predefined fields, ids only (``DJW:configuration.py``'s test payload):
``{"sourceId","eventSubtype","tenantName","instanceName","patientId","eventEntity","sourceName",
"url"}``. A delivery answered with a non-2xx status, or not answered, is recorded ``FAILED`` and
retried with exponential backoff (``max_attempts`` in all); every attempt is recorded for
``GET /{tenant}/admin/audit-webhook`` in the recorded item shape. Fault switches: ``fail_rate``
(an attempt fails without reaching the receiver, like a network error) and ``duplicate_rate``
(a delivered ping is sent a second time, as Welkin's retries do).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import orjson

from .formations import ENCOUNTER_CDT_NAME
from .timeutil import format_ms, now_ms

if TYPE_CHECKING:
    from .http import Ctx

log = logging.getLogger("welkin_emulator.webhooks")

#: Welkin's predefined payload fields and the payload key each becomes.
PREDEFINED_FIELDS = {
    "INSTANCE_NAME": "instanceName",
    "TENANT_NAME": "tenantName",
    "SOURCE_NAME": "sourceName",
    "SOURCE_ID": "sourceId",
    "PATIENT_ID": "patientId",
    "EVENT_ENTITY": "eventEntity",
    "EVENT_SUBTYPE": "eventSubtype",
    "URL": "url",
}
RESPONSE_LIMIT = 2000  # characters of the receiver's answer kept in the audit


def _pairs(raw: Any) -> dict[str, str]:  # noqa: ANN401 - config JSON
    """``{"k": "v"}`` or ``[{"name"|"key": k, "value": v}, …]`` as a dict."""
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    out: dict[str, str] = {}
    for item in raw or []:
        if not isinstance(item, Mapping) or "value" not in item:
            raise ValueError("config: webhook headers/queryParameters need name and value")
        out[str(item.get("name", item.get("key")))] = str(item["value"])
    return out


@dataclass(frozen=True)
class WebhookDef:
    """One webhook definition of a tenant."""

    name: str
    url: str
    title: str = ""
    tenant: str | None = None  # None: every tenant
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    events: frozenset[str] = frozenset()
    fields: tuple[str, ...] = tuple(PREDEFINED_FIELDS)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebhookDef:
        """Parse one ``webhooks`` entry of the config JSON."""
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("config: every webhook needs an http(s) 'url'")
        payload = data.get("payload") or {}
        fields = tuple(payload.get("predefinedFields") or PREDEFINED_FIELDS)
        if unknown := set(fields) - set(PREDEFINED_FIELDS):
            raise ValueError(f"config: unknown webhook payload fields {sorted(unknown)}")
        name = str(data.get("name") or "wh-emulator")
        return cls(
            name=name,
            url=url,
            title=str(data.get("title") or name),
            tenant=data.get("tenant"),
            headers=_pairs(data.get("headers")),
            query=_pairs(data.get("queryParameters")),
            events=frozenset(str(e) for e in data.get("events") or ()),
            fields=fields,
        )

    def wants(self, tenant: str, entity: str, subtype: str) -> bool:
        """Whether this webhook subscribes to the event."""
        if self.tenant is not None and self.tenant != tenant:
            return False
        return not self.events or entity in self.events or subtype in self.events

    def record(self) -> dict[str, Any]:
        """The definition as the audit shows it (``record``); header values masked."""
        return {
            "name": self.name,
            "title": self.title,
            "url": self.url,
            "headers": [{"name": k, "value": "********"} for k in self.headers],
            "queryParameters": [{"name": k, "value": "********"} for k in self.query],
            "payload": {"customFields": [], "predefinedFields": list(self.fields)},
            "active": True,
            "enabled": True,
        }

    def target(self) -> str:
        """The URL to POST to, with the query parameters."""
        if not self.query:
            return self.url
        sep = "&" if "?" in self.url else "?"
        return self.url + sep + urllib.parse.urlencode(dict(self.query))


@dataclass(frozen=True)
class Change:
    """One committed write, as a webhook sees it (ids only)."""

    tenant: str
    instance: str | None
    entity: str
    subtype: str
    source_id: str
    source_name: str | None
    patient_id: str | None
    url: str

    def payload(self, hook: WebhookDef) -> dict[str, Any]:
        """The POST body for ``hook``: its predefined fields only."""
        values = {
            "sourceId": self.source_id,
            "eventSubtype": self.subtype,
            "tenantName": self.tenant,
            "instanceName": self.instance,
            "patientId": self.patient_id,
            "eventEntity": self.entity,
            "sourceName": self.source_name,
            "url": self.url,
        }
        keys = {PREDEFINED_FIELDS[f] for f in hook.fields}
        return {k: v for k, v in values.items() if k in keys}


@dataclass
class WebhookFaults:
    """Fault switches of the deliveries (probabilities per attempt)."""

    fail_rate: float = 0.0
    duplicate_rate: float = 0.0
    max_attempts: int = 5
    base_delay: float = 0.5
    seed: int | None = None

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply a partial update (400-worthy ValueError on unknown keys or bad values)."""
        for key, value in data.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown webhook fault setting {key!r}")
            if key == "seed":
                self.seed = None if value is None else int(value)
                continue
            number = float(value)
            if key.endswith("_rate") and not 0 <= number <= 1:
                raise ValueError(f"{key} must be between 0 and 1")
            setattr(self, key, int(number) if key == "max_attempts" else number)
        self.max_attempts = max(1, self.max_attempts)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(order=True)
class _Attempt:
    due: float
    seq: int
    hook: WebhookDef = field(compare=False)
    change: Change = field(compare=False)
    attempt: int = field(compare=False, default=1)


#: Stores one audit item (tenant, sentAt, item); see ``routes/webhook_audit.store_delivery``.
Recorder = Callable[[str, str, dict[str, Any]], None]


class WebhookDispatcher:
    """Delivers pings from one background thread; retries are scheduled, never slept inline."""

    def __init__(self, recorder: Recorder, hooks: Iterable[WebhookDef] = ()) -> None:
        """Deliver with ``recorder`` storing every attempt; ``hooks`` are the definitions."""
        self.hooks: list[WebhookDef] = list(hooks)
        self.faults = WebhookFaults()
        self.recorder = recorder
        self.stats = {"delivered": 0, "failed": 0, "duplicated": 0, "queued": 0}
        self._queue: list[_Attempt] = []
        self._delivering = 0  # popped from the queue, delivery (and any retry push) not done
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._rng = random.Random()  # noqa: S311 - fault injection, not security
        self._thread: threading.Thread | None = None
        self._stopping = False

    def notify(self, change: Change) -> None:
        """Queue one ping per webhook that wants ``change`` (call after the write commits)."""
        with self._cond:
            for hook in self.hooks:
                if hook.wants(change.tenant, change.entity, change.subtype):
                    heapq.heappush(self._queue, _Attempt(time.monotonic(), next(self._seq),
                                                         hook, change))  # fmt: skip
                    self.stats["queued"] += 1
            self._cond.notify()
        self._ensure_thread()

    def pending(self) -> int:
        """Attempts waiting (due now or scheduled for a retry) or being delivered."""
        with self._cond:
            return len(self._queue) + self._delivering

    def set_faults(self, data: Mapping[str, Any]) -> None:
        """Update the fault switches (``seed`` reseeds the dice)."""
        with self._cond:
            self.faults.update(data)
            if "seed" in data:
                self._rng.seed(self.faults.seed)

    def reset(self, hooks: Iterable[WebhookDef]) -> None:
        """Start-up definitions, no faults, empty queue, counts zeroed."""
        with self._cond:
            self.hooks = list(hooks)
            self.faults = WebhookFaults()
            self._queue.clear()
            self.stats = dict.fromkeys(self.stats, 0)

    def stop(self) -> None:
        """Stop the worker (queued pings are dropped, as when a server goes down)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()

    def _next(self) -> _Attempt | None:
        with self._cond:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0].due - time.monotonic()
                    if wait <= 0:
                        self._delivering += 1
                        return heapq.heappop(self._queue)
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._deliver(item)
            except Exception as exc:  # never let one bad delivery stop the worker
                log.error("webhook delivery failed: %s", type(exc).__name__)
            finally:
                with self._cond:
                    self._delivering -= 1

    def _deliver(self, item: _Attempt) -> None:
        with self._cond:
            fail = self._rng.random() < self.faults.fail_rate
            twice = self._rng.random() < self.faults.duplicate_rate
            faults = WebhookFaults(**self.faults.to_dict())
        status, text = (None, "") if fail else post(item.hook, item.change)
        ok = status is not None and 200 <= status < 300
        self._record(item, status, text)
        if ok and twice:
            self.stats["duplicated"] += 1
            self._record(item, *post(item.hook, item.change))
        if ok:
            self.stats["delivered"] += 1
        elif item.attempt < faults.max_attempts:
            retry = _Attempt(time.monotonic() + faults.base_delay * 2 ** (item.attempt - 1),
                             next(self._seq), item.hook, item.change, item.attempt + 1)  # fmt: skip
            with self._cond:
                heapq.heappush(self._queue, retry)
        else:
            self.stats["failed"] += 1
            log.warning("webhook %s: %s not delivered after %d attempts",
                        item.hook.name, item.change.subtype, item.attempt)  # fmt: skip

    def _record(self, item: _Attempt, status: int | None, text: str) -> None:
        sent = format_ms(now_ms())
        ch = item.change
        audit: dict[str, Any] = {"id": str(uuid.uuid4()), "sentAt": sent, "eventEntity": ch.entity}
        if ch.patient_id:
            audit["patientId"] = ch.patient_id
        audit["instance"] = ch.instance
        audit["status"] = "DELIVERED" if status is not None and 200 <= status < 300 else "FAILED"
        if status is not None:
            audit["statusCode"] = _status_name(status)
        audit.update(response=text, eventSubtype=ch.subtype, record=item.hook.record())
        self.recorder(ch.tenant, sent, audit)


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return str(status)


def post(hook: WebhookDef, change: Change, timeout: float = 10.0) -> tuple[int | None, str]:
    """POST the ping; ``(status, response text)``, or ``(None, "")`` when nothing answered."""
    body = orjson.dumps(change.payload(hook))
    headers = {"Content-Type": "application/json", "User-Agent": "welkin-emulator-webhooks"}
    headers.update(hook.headers)
    request = urllib.request.Request(hook.target(), data=body, headers=headers, method="POST")  # noqa: S310 - configured http(s) URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read(RESPONSE_LIMIT).decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return int(err.code), err.read(RESPONSE_LIMIT).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None, ""


def hooks_from_config(data: Iterable[Mapping[str, Any]]) -> list[WebhookDef]:
    """The ``webhooks`` list of the config JSON as definitions."""
    return [WebhookDef.from_dict(item) for item in data]


# CDT-backed resources that are not user CDT records: their pings name their own entity (the
# emulator's choice; no source shows them), so a client never looks for them among CDT records.
SYSTEM_CDT_ENTITIES = {"__encounter_assessment__": "ENCOUNTER_ASSESSMENT",
                       "_document_summary": "DOCUMENT"}  # fmt: skip


def change_for(  # noqa: PLR0917
    ctx: Ctx, subtype: str, patient_id: str | None, record: Mapping[str, Any], cdt_name: str | None,
    audit_entity: str | None = None,
) -> Change | None:  # fmt: skip
    """The webhook view of an audited write; None for deletes (Welkin documents no such ping).

    Encounters (CDT ``__encounter__``) ping as entity ``ENCOUNTER`` (Welkin documents encounter
    events); other CDT records as ``CDT`` with the CDT's name as ``sourceName``; assessment
    answers (``_asm-…``) as ``ASSESSMENT`` and the other resources as their audit entity
    (``PROGRAM``, ``ASSESSMENT``, ``CARE_PLAN``, ``CHAT``, ``CONTACT``...).
    """
    if subtype.endswith("_DELETED"):
        return None
    entity, _, action = subtype.partition("_")
    if cdt_name and cdt_name.startswith("_asm-"):
        audit_entity, cdt_name = "ASSESSMENT", None
    if cdt_name in SYSTEM_CDT_ENTITIES:
        audit_entity, cdt_name = SYSTEM_CDT_ENTITIES[cdt_name], None
    if audit_entity:
        entity = audit_entity
    source_id = str(record.get("id") or "")
    base = f"http://{ctx.headers.get('host', 'localhost')}/{ctx.tenant}/{ctx.instance}"
    source_name: str | None = cdt_name
    if cdt_name == ENCOUNTER_CDT_NAME:
        entity, subtype, source_name = "ENCOUNTER", f"ENCOUNTER_{action}", None
        url = f"{base}/patients/{patient_id}/encounters/{source_id}"
    elif entity == "CDT":
        url = f"{base}/patients/{patient_id}/cdts/{cdt_name}/{source_id}"
    elif entity == "PATIENT":
        url = f"{base}/patients/{source_id}"
    elif entity == "CALENDAR":
        url = f"{base}/calendar/events/{source_id}"
    elif entity == "USER":  # tenant-level: no instance
        host = ctx.headers.get("host", "localhost")
        url = f"http://{host}/{ctx.tenant}/admin/users/{source_id}?type=ID"
    else:
        url = base
    return Change(ctx.tenant, ctx.instance or None, entity, subtype, source_id, source_name,
                  patient_id, url)  # fmt: skip


def notify_write(  # noqa: PLR0917
    ctx: Ctx, subtype: str, patient_id: str | None, record: Mapping[str, Any], cdt_name: str | None,
    audit_entity: str | None = None,
) -> None:  # fmt: skip
    """Ping the webhooks about an audited write once its transaction commits."""
    dispatcher = ctx.state.webhooks
    if not dispatcher.hooks:
        return
    change = change_for(ctx, subtype, patient_id, record, cdt_name, audit_entity)
    if change is not None:
        ctx.state.db.after_commit(lambda: dispatcher.notify(change))
