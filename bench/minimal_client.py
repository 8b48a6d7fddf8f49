"""The baseline: the least a Welkin reader can do, in plain ``requests`` + ``json``.

It fetches a token, reads ``admin/users`` (1000 a page) and every export type tap-welkin reads
(``EXPORT_TYPES``; 1000 a page), and writes every record as a
JSON line to stdout. Boundary items repeated by an inclusive ``start`` are dropped by id, like the
tap does. A stats line (JSON) goes to stderr.

Modes:

* ``sequential`` (default): one request after another, decode, encode, write. This is the
  throughput floor a connector is compared with.
* ``parallel``: one thread per export type (and users), each type cut into ``--slices`` time
  slices read concurrently (a slice ``[lo, hi)`` starts its cursor at ``lo`` and stops at the
  first item at or past ``hi``), with decoding in the fetching thread and encoding/writing in
  one writer thread. This is what prefetching and concurrency can buy when requests are slow.

Usage::

    python bench/minimal_client.py --api-url http://127.0.0.1:8080 [--mode parallel --slices 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import queue
import sys
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

import requests

#: Every export type tap-welkin reads (bench/common.py checks the two agree).
EXPORT_TYPES = (
    "PATIENT",
    "CDT_RECORD",
    "ENCOUNTER",
    "CALENDAR_EVENT",
    "ASSESSMENT",
    "ENCOUNTER_DISPOSITION",
    "ENCOUNTER_COMMENT",
    "PATIENT_PROGRAM",
    "CARE_PLAN",
    "TASK",
    "SMS",
    "EMAIL",
    "VOICE_CALL",
    "CHAT_MESSAGE",
    "PATIENT_CONTACT",
)
PAGE_SIZE = 1000


class Reader:
    """Token, counters and one pooled session."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.base = f"{args.api_url.rstrip('/')}/{args.tenant}"
        self.instance = args.instance
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.requests = 0
        self._lock = threading.Lock()
        token = self.session.post(
            f"{self.base}/admin/api_clients/{args.client}",
            json={"secret": args.secret},
            timeout=60,
        )
        token.raise_for_status()
        self.requests += 1
        self.session.headers["Authorization"] = f"Bearer {token.json()['token']}"

    def get(self, path: str, params: dict[str, t.Any]) -> t.Any:
        """GET and decode one page."""
        response = self.session.get(f"{self.base}/{path}", params=params, timeout=120)
        with self._lock:
            self.requests += 1
        response.raise_for_status()
        return json.loads(response.content)

    def users(self) -> t.Iterator[list[dict[str, t.Any]]]:
        """Pages of ``admin/users`` (metaInfo paging)."""
        page = 0
        while True:
            body = self.get("admin/users", {"page": page, "size": PAGE_SIZE})
            yield body.get("data") or []
            if (body.get("metaInfo") or {}).get("lastPage", True):
                return
            page += 1

    def export(
        self, kind: str, start: str | None = None, stop: str | None = None
    ) -> t.Iterator[list[dict[str, t.Any]]]:
        """Pages of ``export/{kind}`` from ``start`` (inclusive) to ``stop`` (exclusive)."""
        seen_at: str | None = None
        seen_ids: set[str] = set()
        while True:
            params: dict[str, t.Any] = {"pageSize": PAGE_SIZE}
            if start:
                params["start"] = start
            body = self.get(f"{self.instance}/export/{kind}", params)
            items = []
            done = False
            for item in body.get("data") or []:
                updated = item.get("updatedAt")
                if stop is not None and updated is not None and updated >= stop:
                    done = True
                    break
                if updated == seen_at and item.get("id") in seen_ids:
                    continue
                items.append(item)
            yield items
            cursor = body.get("cursor") or {}
            end = cursor.get("end")
            if done or not cursor.get("hasNext") or end is None:
                return
            if end == start:
                raise RuntimeError(f"export/{kind} cursor did not advance")
            if end != seen_at:
                seen_at, seen_ids = end, set()
            seen_ids.update(i.get("id") for i in items if i.get("updatedAt") == end)
            start = end


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_sequential(reader: Reader, out: t.TextIO, counts: dict[str, int]) -> None:
    """One request at a time; each page decoded, encoded and written before the next."""
    sources: list[tuple[str, t.Iterator[list[dict[str, t.Any]]]]] = [("USER", reader.users())]
    sources += [(kind, reader.export(kind)) for kind in EXPORT_TYPES]
    for name, pages in sources:
        for page in pages:
            for record in page:
                out.write(json.dumps(record))
                out.write("\n")
            counts[name] = counts.get(name, 0) + len(page)


def run_parallel(reader: Reader, out: t.TextIO, counts: dict[str, int], slices: int) -> None:
    """Types and time slices fetched concurrently; one writer thread encodes and writes."""
    pages: queue.Queue[tuple[str, list[dict[str, t.Any]]] | None] = queue.Queue(maxsize=64)

    def writer() -> None:
        while (item := pages.get()) is not None:
            name, records = item
            out.write("".join(json.dumps(r) + "\n" for r in records))
            counts[name] = counts.get(name, 0) + len(records)

    def pump(name: str, source: t.Iterator[list[dict[str, t.Any]]]) -> None:
        for page in source:
            pages.put((name, page))

    def export_type(kind: str) -> None:
        # The first page tells where the data starts; the rest of time is cut into slices.
        first = reader.get(f"{reader.instance}/export/{kind}", {"pageSize": PAGE_SIZE})
        data = first.get("data") or []
        cursor = first.get("cursor") or {}
        if not cursor.get("hasNext") or not data or slices <= 1:
            pages.put((kind, data))
            if cursor.get("hasNext"):
                pump(kind, _rest(reader, kind, data, cursor))
            return
        lo = _parse(data[0]["updatedAt"])
        hi = dt.datetime.now(dt.timezone.utc)
        step = (hi - lo) / slices
        bounds = [_iso(lo + step * i) for i in range(slices)] + [None]
        with ThreadPoolExecutor(slices) as pool:
            futures = [
                pool.submit(pump, kind, reader.export(kind, bounds[i], bounds[i + 1]))
                for i in range(slices)
            ]
            for future in futures:
                future.result()

    thread = threading.Thread(target=writer, name="writer")
    thread.start()
    try:
        with ThreadPoolExecutor(len(EXPORT_TYPES) + 1) as pool:
            futures = [pool.submit(pump, "USER", reader.users())]
            futures += [pool.submit(export_type, kind) for kind in EXPORT_TYPES]
            for future in futures:
                future.result()
    finally:
        pages.put(None)
        thread.join()


def _rest(
    reader: Reader, kind: str, data: list[dict[str, t.Any]], cursor: dict[str, t.Any]
) -> t.Iterator[list[dict[str, t.Any]]]:
    """The pages after a first page already read (boundary ids carried over)."""
    end = cursor["end"]
    boundary = {i.get("id") for i in data if i.get("updatedAt") == end}
    for page in reader.export(kind, end):
        kept = [i for i in page if not (i.get("updatedAt") == end and i.get("id") in boundary)]
        yield kept


def main(argv: t.Sequence[str] | None = None) -> int:
    """Read everything, write JSON lines to stdout, print stats to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--instance", default="sandbox")
    parser.add_argument("--client", default="DEMOCLIENT")
    parser.add_argument("--secret", default="demo-secret")
    parser.add_argument("--mode", choices=("sequential", "parallel"), default="sequential")
    parser.add_argument("--slices", type=int, default=4, help="time slices per type (parallel)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reader = Reader(args)
    counts: dict[str, int] = {}
    out = open(sys.stdout.fileno(), "w", buffering=1 << 20, closefd=False)  # noqa: SIM115
    try:
        if args.mode == "sequential":
            run_sequential(reader, out, counts)
        else:
            run_parallel(reader, out, counts, args.slices)
    finally:
        out.flush()
    stats = {
        "records": counts,
        "total": sum(counts.values()),
        "requests": reader.requests,
        "seconds": round(time.perf_counter() - started, 3),
    }
    print(json.dumps(stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
