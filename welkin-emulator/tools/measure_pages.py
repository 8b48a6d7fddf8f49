"""Measure requests per second for 1000-record pages against a running emulator.

Usage: python tools/measure_pages.py DB_PATH [REQUESTS]
Starts an emulator on DB_PATH, then times sequential GET export/PATIENT?pageSize=1000 (following
the cursor) and POST by-filter/patients?size=1000 (walking pages) over one keep-alive connection.
Besides wall-clock rates (which depend on what else the machine runs) it reports the server's own
CPU time per request (Linux /proc), a load-independent measure: 1000 / cpu_ms is what one core
could serve.
"""

from __future__ import annotations

import os
import sys
import time

import requests
import urllib3

from welkin_emulator.testing import EmulatorProcess


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (Linux)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(label: str, n: int, size: int, wall: float, cpu: float) -> None:
    """Print wall-clock rates and the server's CPU cost per request."""
    print(
        f"{label}: {n / wall:.1f} req/s, {size / wall / 1e6:.1f} MB/s, {n * 1000 / wall:.0f} "
        f"records/s; server CPU {cpu / n * 1000:.1f} ms/request ({n / cpu:.0f} req/s per core)"
    )


def main(db: str, n: int = 50) -> None:
    """Print rates for both list endpoints."""
    with EmulatorProcess(db) as emu:
        assert emu.proc is not None
        pid = emu.proc.pid
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {emu.token()}"
        s.get(f"{emu.api_url}/export/PATIENT", params={"pageSize": 1000}).raise_for_status()
        start, size = None, 0
        c0, t0 = cpu_seconds(pid), time.perf_counter()
        for _ in range(n):
            params = {"pageSize": 1000, **({"start": start} if start else {})}
            r = s.get(f"{emu.api_url}/export/PATIENT", params=params)
            body = r.json()
            assert len(body["data"]) == 1000
            size += len(r.content)
            start = body["cursor"]["end"]
        report("export/PATIENT?pageSize=1000", n, size, time.perf_counter() - t0,
               cpu_seconds(pid) - c0)  # fmt: skip
        size = 0
        c0, t0 = cpu_seconds(pid), time.perf_counter()
        for page in range(n):
            r = s.post(f"{emu.api_url}/by-filter/patients", params={"page": page, "size": 1000},
                       json={})  # fmt: skip
            assert len(r.json()["content"]) == 1000
            size += len(r.content)
        report("by-filter/patients?size=1000", n, size, time.perf_counter() - t0,
               cpu_seconds(pid) - c0)  # fmt: skip
        # The same pages through bare urllib3, without JSON decoding: what the server can
        # deliver when the client is not the bottleneck (requests + json.loads cost ~50 ms/page).
        http = urllib3.PoolManager()
        headers = {"Authorization": s.headers["Authorization"], "Content-Type": "application/json"}
        size = 0
        c0, t0 = cpu_seconds(pid), time.perf_counter()
        for page in range(n):
            raw = http.request("POST", f"{emu.api_url}/by-filter/patients?page={page}&size=1000",
                               body=b"{}", headers=headers)  # fmt: skip
            size += len(raw.data)
        report("by-filter/patients?size=1000, raw urllib3", n, size, time.perf_counter() - t0,
               cpu_seconds(pid) - c0)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50)
