"""Measure requests per second for 1000-record pages against a running emulator.

Usage: python tools/measure_pages.py DB_PATH [REQUESTS]
Starts an emulator on DB_PATH, then times sequential GET export/PATIENT?pageSize=1000 (following
the cursor) and POST by-filter/patients?size=1000 (walking pages) over one keep-alive connection.
"""

from __future__ import annotations

import sys
import time

import requests

from welkin_emulator.testing import EmulatorProcess


def main(db: str, n: int = 50) -> None:
    """Print requests/s and MB/s for both list endpoints."""
    with EmulatorProcess(db) as emu:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {emu.token()}"
        s.get(
            f"{emu.api_url}/export/PATIENT", params={"pageSize": 1000}
        ).raise_for_status()  # warm up
        start, size = None, 0
        t0 = time.perf_counter()
        for _ in range(n):
            params = {"pageSize": 1000, **({"start": start} if start else {})}
            r = s.get(f"{emu.api_url}/export/PATIENT", params=params)
            body = r.json()
            assert len(body["data"]) == 1000
            size += len(r.content)
            start = body["cursor"]["end"]
        dt = time.perf_counter() - t0
        print(
            f"export/PATIENT?pageSize=1000: {n / dt:.1f} req/s, {size / dt / 1e6:.1f} MB/s, "
            f"{n * 1000 / dt:.0f} records/s"
        )
        size = 0
        t0 = time.perf_counter()
        for page in range(n):
            r = s.post(
                f"{emu.api_url}/by-filter/patients", params={"page": page, "size": 1000}, json={}
            )
            assert len(r.json()["content"]) == 1000
            size += len(r.content)
        dt = time.perf_counter() - t0
        print(
            f"by-filter/patients?size=1000: {n / dt:.1f} req/s, {size / dt / 1e6:.1f} MB/s, "
            f"{n * 1000 / dt:.0f} records/s"
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50)
