"""Singer message builders, ways to run the target, and read-back of Welkin through the API."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from target_welkin.target import TargetWelkin
from welkin_client import WelkinClient, WelkinNotFound
from welkin_client.pagination import MetaInfoPaginator, NamedPagePaginator, SpringPagePaginator

TARGET_BIN = str(Path(sys.executable).with_name("target-welkin"))
_runs = itertools.count()

PATIENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string", "null"]},
        "externalId": {"type": ["string", "null"]},
        "externalGuid": {"type": ["string", "null"]},
        "mrn": {"type": ["string", "null"]},
        "firstName": {"type": ["string", "null"]},
        "lastName": {"type": ["string", "null"]},
        "birthDate": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "city": {"type": ["string", "null"]},
        "gender": {"type": ["string", "null"]},
    },
}


class Singer:
    """Builds Singer message lines."""

    @staticmethod
    def schema(
        stream: str,
        schema: dict[str, t.Any] | None = None,
        keys: list[str] | None = None,
    ) -> dict[str, t.Any]:
        props = schema or {"type": "object", "properties": {}, "additionalProperties": True}
        return {"type": "SCHEMA", "stream": stream, "schema": props, "key_properties": keys or []}

    @staticmethod
    def record(stream: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
        return {"type": "RECORD", "stream": stream, "record": record}

    @staticmethod
    def state(value: dict[str, t.Any]) -> dict[str, t.Any]:
        return {"type": "STATE", "value": value}

    def stream(
        self,
        stream: str,
        records: t.Iterable[dict[str, t.Any]],
        schema: dict[str, t.Any] | None = None,
    ) -> list[dict[str, t.Any]]:
        """SCHEMA then one RECORD per record."""
        return [self.schema(stream, schema), *(self.record(stream, r) for r in records)]


def lines_of(messages: t.Iterable[dict[str, t.Any] | str]) -> str:
    """Singer input text; strings are passed through as raw lines."""
    return "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)


def bytes_of(messages: t.Iterable[dict[str, t.Any] | str | bytes]) -> bytes:
    """Singer input bytes; strings and bytes are passed through as raw lines (any bytes)."""
    return b"".join(
        (m if isinstance(m, bytes) else (m if isinstance(m, str) else json.dumps(m)).encode())
        + b"\n"
        for m in messages
    )


@dataclass
class Run:
    """What one run of the target produced."""

    returncode: int
    states: list[dict[str, t.Any]]
    stderr: str = ""
    summary: dict[str, dict[str, int]] = field(default_factory=dict)


def _summary_of(stderr: str) -> dict[str, dict[str, int]]:
    for line in reversed(stderr.splitlines()):
        if "Run summary: " in line:
            return t.cast(
                "dict[str, dict[str, int]]", json.loads(line.split("Run summary: ", 1)[1])
            )
    return {}


def run_cli(
    config: dict[str, t.Any],
    messages: t.Iterable[dict[str, t.Any] | str | bytes],
    log_dir: Path,
    name: str,
    *,
    timeout: float = 120,
) -> Run:
    """Run ``target-welkin --config`` as a subprocess; stderr is kept under ``log_dir``."""
    number = next(_runs)
    config_path = Path(str(config["state_dir"])).parent / f"config-{number}.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(config))
    stderr_path = log_dir / f"target-welkin-{name}-{number}.stderr.log"
    log_dir.mkdir(parents=True, exist_ok=True)
    # Read back through the open handle: the shared log folder may be cleaned meanwhile.
    with stderr_path.open("w+", errors="backslashreplace") as err:
        done = subprocess.run(
            [TARGET_BIN, "--config", str(config_path)],
            input=bytes_of(messages),
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=timeout,
            check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        err.seek(0)
        stderr = err.read()
    states = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    return Run(done.returncode, states, stderr, _summary_of(stderr))


def run_target(config: dict[str, t.Any], messages: t.Iterable[dict[str, t.Any] | str]) -> Run:
    """Run the target in this process (faster); exceptions propagate."""
    target = TargetWelkin(config=config)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(io.StringIO(lines_of(messages)))
    states = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return Run(0, states, "", target.summary.as_dict())


def writes(counts: dict[str, int]) -> int:
    """Write calls (POST, PATCH, PUT, DELETE) in a request count, token requests aside."""
    return sum(
        n
        for route, n in counts.items()
        if route.split(" ")[0] in ("POST", "PATCH", "PUT", "DELETE") and "api_clients" not in route
    )


class WelkinReader:
    """Reads the emulator's data through the API with welkin-client."""

    def __init__(self, emu: t.Any) -> None:  # noqa: ANN401
        self.client = WelkinClient(
            {
                "tenant": emu.tenant,
                "instance": emu.instance,
                "api_client": emu.client_name,
                "secret_key": emu.client_secret,
                "api_url": emu.url,
                "max_requests_per_second": 0,
            }
        )

    def patients(self) -> list[dict[str, t.Any]]:
        return list(
            self.client.paginate(
                "by-filter/patients",
                SpringPagePaginator(),
                method="POST",
                json={},
                params={"size": 1000},
            )
        )

    def patient_by(self, kind: str, value: str) -> dict[str, t.Any] | None:
        try:
            return t.cast(
                "dict[str, t.Any]",
                self.client.request("GET", f"patients/{value}", params={"type": kind}).json(),
            )
        except WelkinNotFound:
            return None

    def patients_with(self, field_name: str, value: str) -> list[dict[str, t.Any]]:
        return [p for p in self.patients() if p.get(field_name) == value]

    def cdt_records(self, patient_id: str, cdt: str) -> list[dict[str, t.Any]]:
        return list(
            self.client.paginate(
                f"patients/{patient_id}/cdts/{cdt}", NamedPagePaginator(), params={"size": 1000}
            )
        )

    def encounters(self, patient_id: str) -> list[dict[str, t.Any]]:
        return list(
            self.client.paginate(
                f"patients/{patient_id}/encounters", MetaInfoPaginator(), params={"size": 1000}
            )
        )

    def events(self) -> list[dict[str, t.Any]]:
        params = {
            "from": "2000-01-01T00:00:00.000Z",
            "to": "2100-01-01T00:00:00.000Z",
            "includeCancelled": "true",
            "size": 1000,
        }
        return list(self.client.paginate("calendar/events", SpringPagePaginator(), params=params))

    def user(self, username: str) -> dict[str, t.Any] | None:
        try:
            return t.cast(
                "dict[str, t.Any]",
                self.client.request("GET", f"users/{username}", admin=True).json(),
            )
        except WelkinNotFound:
            return None

    def create_patient(self, body: dict[str, t.Any]) -> dict[str, t.Any]:
        return t.cast("dict[str, t.Any]", self.client.request("POST", "patients", json=body).json())

    def patch_patient(self, patient_id: str, body: dict[str, t.Any]) -> dict[str, t.Any]:
        return t.cast(
            "dict[str, t.Any]",
            self.client.request("PATCH", f"patients/{patient_id}", json=body).json(),
        )

    def create_cdt(self, patient_id: str, cdt: str, body: dict[str, t.Any]) -> dict[str, t.Any]:
        return t.cast(
            "dict[str, t.Any]",
            self.client.request("POST", f"patients/{patient_id}/cdts/{cdt}", json=body).json(),
        )
