"""The match index: what Welkin holds, per resource, known before any record of it is written.

Welkin is the source of truth. Before the first write of a resource in a run,
the index learns the instance's records of it by the cheapest route, decided
by counting:

* **export**: read the resource's export feed (``export/PATIENT``,
  ``export/CDT_RECORD``...; up to 1000 records a request) into the id map:
  keys -> Welkin id, and a keyed hash per field to tell an unchanged record.
  The read may take at most as many requests as the input has records queued
  for the resource; past that, lookups are cheaper and the read stops.
* **export delta**: a complete read in an earlier run left its cursor in the
  id map; only what changed in Welkin since is read.
* **lookup**: no feed (users), no export permission, or an instance larger
  than the input: one lookup per record, as before.

A cache that no longer matches Welkin is detected: the record this target
wrote last of each resource is read back once per run; when Welkin no longer
has it (instance reset, records deleted), the resource's map and the feed's
cursor are dropped and the feed is read in full again. After the run's writes,
the feeds read are read once more from their cursor, so the next run's delta
holds only what others changed.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from dataclasses import dataclass

from welkin_client import WelkinClient
from welkin_client.errors import WelkinForbidden
from welkin_client.pagination import ExportCursorPaginator, export_updated_at

from target_welkin.idmap import FeedItem, IdMap
from target_welkin.payload import FieldSpec, canonical

Json = dict[str, t.Any]
PAGE_SIZE = 1000
FEEDS = {"patients": "PATIENT", "calendar_events": "CALENDAR_EVENT", "encounters": "ENCOUNTER"}
CDT_FEED = "CDT_RECORD"
CDT_KEYS = ("external_id", "external_guid")
EPOCH = "1970-01-01T00:00:00.000Z"


def feed_of(resource: str) -> str | None:
    """The export feed of a resource namespace (None: users have none)."""
    return CDT_FEED if resource.startswith("cdt:") else FEEDS.get(resource)


@dataclass(frozen=True)
class IndexSpec:
    """How to index one resource namespace: its keys, values and field formats."""

    resource: str
    key_fields: tuple[str, ...]
    scoped: bool
    """Keys are unique within a patient (CDT records, encounters)."""
    values: t.Callable[[Json], Json]
    fields: t.Mapping[str, FieldSpec]
    exists: t.Callable[[str, str | None], bool]
    """Whether Welkin still has the resource of this id (under this patient)."""


def identities(
    key_values: t.Iterable[tuple[str, str]], parent_id: str | None, source_id: str | None = None
) -> list[str]:
    """Id-map keys of a record: external keys (scoped by the Welkin patient id), its source id."""
    scope = f"{parent_id}/" if parent_id else ""
    keys = [f"{name}={scope}{value}" for name, value in key_values]
    if source_id:
        keys.append(f"id={source_id}")
    return keys


def field_hashes(idmap: IdMap, spec: IndexSpec, values: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Keyed hashes of field values in their canonical form."""
    return {
        name: idmap.hash(canonical(spec.fields.get(name), value)) for name, value in values.items()
    }


class MatchIndex:
    """Per run: which resources are indexed, and how (see the module docstring)."""

    def __init__(
        self,
        client: WelkinClient,
        idmap: IdMap,
        logger: logging.Logger,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        """Read feeds with ``client`` into ``idmap``, ``page_size`` records a request."""
        self.client = client
        self.page_size = page_size
        self.idmap = idmap
        self.logger = logger
        self._lock = threading.RLock()
        self._specs: dict[str, IndexSpec] = {}
        self._ensured: set[str] = set()
        self._loaded: dict[str, str] = {}  # feed -> how it was read this run
        self._written: set[str] = set()  # feeds this run wrote to
        self._seen: dict[str, int] = {}  # resource -> input records queued so far
        self._spent: dict[str, int] = {}  # feed -> requests of reads that could not finish
        self.modes: dict[str, str] = {}
        self.reads = 0

    def register(self, spec: IndexSpec) -> None:
        """Know how to index ``spec.resource``."""
        with self._lock:
            self._specs[spec.resource] = spec

    def complete(self, resource: str) -> bool:
        """Whether the map holds every record of ``resource`` (absent means not in Welkin)."""
        feed = feed_of(resource)
        with self._lock:
            return resource in self._ensured and feed is not None and feed in self._loaded

    def ensure(self, resource: str, queued: int) -> None:
        """Before writing ``resource``: check the cache once, then read what is needed.

        ``queued``: records of the input now waiting for this resource. A full
        read may cost at most as many requests as the records seen so far;
        when it could not finish, it is tried again once the input has grown
        to twice the requests spent (the waste stays within the cost of lookups).
        """
        with self._lock:
            if resource not in self._specs:
                return
            feed = feed_of(resource)
            self._seen[resource] = self._seen.get(resource, 0) + queued
            if resource not in self._ensured:
                self._ensured.add(resource)
                self._check_latest(self._specs[resource], feed)
            elif (
                feed is None
                or feed in self._loaded
                or self._seen[resource] < 2 * self._spent.get(feed, 0)
            ):
                return
            if feed is None:
                self.modes[resource] = "lookup (no export feed)"
                return
            if feed not in self._loaded:
                self._load(feed, max(1, self._seen[resource]))
            self.modes[resource] = self._loaded.get(feed, "lookup")

    def _check_latest(self, spec: IndexSpec, feed: str | None) -> None:
        latest = self.idmap.latest(spec.resource)
        if latest is None or spec.exists(latest.welkin_id, latest.parent_id):
            return
        dropped = self.idmap.forget_resources([spec.resource], feed)
        if feed is not None:
            self._loaded.pop(feed, None)
        self.logger.warning(
            "Welkin no longer has the %s last written (instance reset or deleted): %d id-map "
            "entries dropped; Welkin is read again",
            spec.resource,
            dropped,
        )

    def _load(self, feed: str, budget: int) -> None:
        cursor = self.idmap.cursor(feed)
        try:
            if cursor is not None:
                pages, items = self._read(feed, cursor, None)
                self._loaded[feed] = f"export delta ({pages} requests, {items} changed)"
                return
            started, seen = time.time(), set[str]()
            pages, items = self._read(feed, None, budget, seen)
        except WelkinForbidden:
            self._spent[feed] = 10**9  # never again this run
            self.logger.info("No export permission for %s: records are looked up one by one", feed)
            return
        if pages >= 0:
            # What Welkin no longer has goes (mappings made since the read began stay).
            self.idmap.prune(self._namespaces(feed), seen, started)
            self._loaded[feed] = f"export ({pages} requests, {items} records)"
        else:
            self._spent[feed] = self._spent.get(feed, 0) + budget

    def _namespaces(self, feed: str) -> list[str]:
        if feed == CDT_FEED:
            return self.idmap.resources("cdt:")
        return [r for r, f in FEEDS.items() if f == feed]

    def _read(
        self, feed: str, start: str | None, budget: int | None, seen: set[str] | None = None
    ) -> tuple[int, int]:
        """Read ``feed`` from ``start`` into the map; (-1, n) if ``budget`` requests ran out.

        ``seen`` collects the Welkin ids read.
        """
        paginator = ExportCursorPaginator(start)
        pages = items = 0
        end = start
        while True:
            if budget is not None and pages >= budget:
                self.idmap.fold([], (feed, None))
                return -1, items
            params = {"pageSize": self.page_size, **({"start": end} if end else {})}
            response = self.client.request("GET", f"export/{feed}", params=params)
            pages += 1
            self.reads += 1
            body = response.json()
            batch = [self._item(feed, raw) for raw in paginator.records(body)]
            found = [b for b in batch if b is not None]
            items += len(found)
            if seen is not None:
                seen.update(item.welkin_id for _, item in found)
            more = paginator.has_more(response)
            if more:
                end = paginator.get_next(response)
            else:  # an empty feed is complete from the beginning
                end = (body.get("cursor") or {}).get("end") or end or EPOCH
            self.idmap.fold(found, None if more else (feed, end))
            if not more:
                return pages, items

    def _item(self, feed: str, raw: Json) -> tuple[str, FeedItem] | None:
        resource = f"cdt:{raw.get('cdtName')}" if feed == CDT_FEED else None
        if resource is None:
            resource = next(r for r, f in FEEDS.items() if f == feed)
        spec = self._specs.get(resource) or self._default_spec(resource)
        if spec is None or not isinstance(raw.get("id"), str):
            return None
        values = spec.values(raw)
        parent = raw.get("patientId") if spec.scoped else None
        keys = [
            (name, str(values[name]))
            for name in spec.key_fields
            if isinstance(values.get(name), str) and values[name]
        ]
        return resource, FeedItem(
            welkin_id=raw["id"],
            parent_id=parent if isinstance(parent, str) else None,
            source_keys=tuple(identities(keys, parent if isinstance(parent, str) else None)),
            field_hashes=field_hashes(self.idmap, spec, values),
            updated_at=export_updated_at(raw),
        )

    def _default_spec(self, resource: str) -> IndexSpec | None:
        """A CDT no stream of this run writes is indexed too: the feed's cursor covers it."""
        if not resource.startswith("cdt:"):
            return None
        return IndexSpec(
            resource,
            CDT_KEYS,
            scoped=True,
            values=lambda raw: raw.get("jsonBody") or {},
            fields={},
            exists=lambda _id, _parent: True,
        )

    def wrote(self, resource: str) -> None:
        """Note a write to ``resource`` (its feed is read again at the end of the run)."""
        feed = feed_of(resource)
        if feed is not None:
            with self._lock:
                self._written.add(feed)

    def refresh(self) -> None:
        """After the run's writes: read each feed written from its cursor (a small next delta)."""
        with self._lock:
            for feed in [f for f in self._loaded if f in self._written]:
                cursor = self.idmap.cursor(feed)
                if cursor is not None:
                    self._read(feed, cursor, None)

    def describe(self) -> dict[str, str]:
        """How each resource was matched, for the run summary."""
        with self._lock:
            return dict(sorted(self.modes.items()))
