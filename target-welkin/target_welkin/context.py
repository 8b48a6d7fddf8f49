"""The services of one run, made once and handed to every sink: the sinks' only way to Welkin.

A service opens when first used, so a run that writes nothing never connects,
and :meth:`RunContext.close` closes only what was opened.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import re
import threading
import typing as t
import uuid
from functools import cached_property
from pathlib import Path

from welkin_client.naming import cdt_stream_name

from target_welkin.claims import Claims
from target_welkin.client import CalendarEventsApi, PatientsApi, UsersApi, WelkinWriter
from target_welkin.idmap import IdMap
from target_welkin.index import IndexSpec, MatchIndex
from target_welkin.rejects import RecordRejected, Reject, RejectsFile, rejects_file_path
from target_welkin.resolver import Deferred, ReferenceResolver
from target_welkin.scheduler import KeyedScheduler
from target_welkin.settings import (
    ConfigurationError,
    RejectRatioExceeded,
    StreamRoute,
    make_route,
)
from target_welkin.summary import RunSummary
from target_welkin.writers import DryRunWrites, LiveWrites, Writes

Json = dict[str, t.Any]


class RunContext:
    """Writer, id map, match index, scheduler, rejects, summary and resolver of one run."""

    def __init__(
        self, config: t.Mapping[str, t.Any], logger: logging.Logger, *, user_agent: str
    ) -> None:
        """Keep the settings; nothing connects or opens yet."""
        self.config = config
        self.logger = logger
        self.user_agent = user_agent
        self.summary = RunSummary()
        self.deferred = Deferred()
        self.dry_run = bool(config.get("dry_run"))
        self.allow_deletes = bool(config.get("allow_deletes"))
        self._lock = threading.Lock()
        self._started = False
        self._routes: dict[str, StreamRoute] = {}
        self.matching: dict[str, str] = {}
        # Rejects carry the run's id, so one run's lines can be told from the next one's.
        self.run_id = uuid.uuid4().hex[:12]
        self.reject_kinds: collections.Counter[str] = collections.Counter()
        self._kinds_lock = threading.Lock()
        self.rejects_path = rejects_file_path(
            config.get("rejects_path"), self.state_dir, dry_run=self.dry_run
        )

    # -- settings ------------------------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        """Folder of the id map."""
        return Path(self.config.get("state_dir") or ".target-welkin")

    @property
    def max_workers(self) -> int:
        """Writer threads."""
        return max(1, int(self.config.get("max_workers") or 4))

    def route(self, stream_name: str) -> StreamRoute:
        """Where ``stream_name`` goes, from ``streams`` or its name."""
        with self._lock:
            if stream_name not in self._routes:
                self._routes[stream_name] = make_route(self.config, stream_name)
            return self._routes[stream_name]

    # -- services ------------------------------------------------------------------------------

    @cached_property
    def connection(self) -> WelkinWriter:
        """The one Welkin client of the run."""
        return WelkinWriter(self.config, user_agent=self.user_agent, pool_size=self.max_workers + 2)

    @cached_property
    def writes(self) -> Writes:
        """Where writes go: Welkin, or (dry run) a record of what would be sent."""
        return DryRunWrites() if self.dry_run else LiveWrites(self.connection)

    @cached_property
    def idmap(self) -> IdMap:
        """The id map of this tenant and instance (read only in a dry run)."""
        name = f"idmap-{self.config['tenant']}-{self.config['instance']}.sqlite"
        path = self.state_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        return IdMap(path, secret=self.config["secret_key"], read_only=self.dry_run)

    @cached_property
    def claims(self) -> Claims:
        """Create claims shared with other processes using the same id map."""
        return Claims(self.idmap)

    @cached_property
    def index(self) -> MatchIndex:
        """What Welkin holds, per resource, read in bulk or looked up per record."""
        from target_welkin.sinks.patients import PATIENT_FIELDS, PatientsSink  # noqa: PLC0415

        index = MatchIndex(self.connection.client, self.idmap, self.logger)
        patients = PatientsApi(self.connection.client)
        # Records point at patients even when no patients stream is in the input.
        index.register(
            IndexSpec(
                "patients",
                PatientsSink.key_fields,
                scoped=False,
                values=patients.values,
                fields=PATIENT_FIELDS,
                exists=lambda welkin_id, _parent: patients.get(welkin_id, None) is not None,
            )
        )
        return index

    @cached_property
    def rejects(self) -> RejectsFile:
        """The rejects file."""
        return RejectsFile(self.rejects_path)

    @cached_property
    def scheduler(self) -> KeyedScheduler:
        """The writer threads."""
        return KeyedScheduler(self.max_workers)

    @cached_property
    def resolver(self) -> ReferenceResolver:
        """Finds the Welkin ids of the patients, users and events records point at."""
        client = self.connection.client
        apis = {
            "patients": PatientsApi(client),
            "users": UsersApi(client),
            "calendar_events": CalendarEventsApi(client),
        }
        return ReferenceResolver(self.idmap, apis, self.writes, self.index)

    def start(self) -> None:
        """Fetch a token once, before the first record: wrong credentials stop the run here."""
        with self._lock:
            if not self._started:
                self.connection.check_credentials()
                self._started = True

    def cdt_names(self) -> list[str]:
        """The CDTs of the instance."""
        self.start()
        return list(self.connection.cdt_formations())

    def cdt_formation(self, stream_name: str) -> tuple[str, Json]:
        """The CDT a stream writes and its formation.

        Raises:
            ConfigurationError: no such CDT in this instance.
        """
        formations = self.connection.cdt_formations()
        wanted = self.route(stream_name).cdt
        if wanted is None:
            wanted = next(
                (n for n in formations if cdt_stream_name(n, formations) == stream_name), None
            )
        if wanted is None or wanted not in formations:
            msg = f"stream '{stream_name}': this Welkin instance has no such CDT"
            raise ConfigurationError(msg)
        return wanted, formations[wanted]

    # -- outcomes ------------------------------------------------------------------------------

    def count(self, stream: str, outcome: str) -> None:
        """Tally one outcome."""
        self.summary.add(stream, outcome)

    def reject(self, stream: str | None, key: str | None, rejected: RecordRejected) -> None:
        """Write a reject and count it; the run goes on."""
        self.rejects.write(
            Reject(
                stream=stream,
                key=key,
                operation=rejected.operation,
                status=rejected.status,
                errorCode=rejected.error_code,
                reason=rejected.reason,
                run_id=self.run_id,
                time=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            )
        )
        with self._kinds_lock:
            self.reject_kinds[rejected.error_code or f"HTTP {rejected.status}"] += 1
        self.summary.add(stream or "(input)", "invalid" if rejected.invalid else "rejected")

    def opened(self, name: str) -> bool:
        """Whether the service ``name`` was used in this run."""
        return name in self.__dict__

    def finish(self) -> None:
        """Wait for every write, then retry the records that waited for a parent."""
        if not self.opened("scheduler"):
            return
        self.scheduler.wait()
        retried = self.deferred.take()
        if retried:
            self.logger.info("Retrying %d records whose parent came later.", len(retried))
        for submit in retried:
            submit()
        self.scheduler.wait()
        if self.opened("index"):
            self.index.refresh()

    def close(self) -> None:
        """Close what this run opened (the match index's description is kept)."""
        self.matching = self.index.describe() if self.opened("index") else {}
        for name in ("scheduler", "connection", "idmap", "rejects"):
            if self.opened(name):
                self.__dict__.pop(name).close()

    def report(self, max_reject_ratio: float) -> None:
        """Log the summary (counts only) and how Welkin was read; apply ``max_reject_ratio``.

        Raises:
            RejectRatioExceeded: more records were rejected than allowed.
        """
        summary = self.summary
        for line in summary.lines():
            self.logger.info("Summary %s", line)
        self.logger.info("Run summary: %s", summary.to_json())
        where = self.rejects_path
        for kind, count in sorted(self.reject_kinds.items()):
            self.logger.warning(
                "%d record(s) rejected: %s (see %s, run %s)", count, kind, where, self.run_id
            )
        if self.matching:
            self.logger.info("Match index (how Welkin was read per resource): %s", self.matching)
        if self.dry_run:
            plan = {
                stream: {k: c[k] for k in ("would_create", "would_update", "would_delete")}
                for stream, c in summary.as_dict().items()
            }
            self.logger.info("Dry run plan (nothing was written): %s", plan)
        bad, total = summary.total("rejected", "invalid"), summary.records()
        if total and bad / total > max_reject_ratio:
            msg = (
                f"{bad} of {total} records were rejected ({bad / total:.0%}), more than "
                f"max_reject_ratio {max_reject_ratio:g}; see the rejects file"
            )
            raise RejectRatioExceeded(msg)
