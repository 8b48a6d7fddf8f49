"""SIGKILL trials: a killed tap or target, run again, loses no record and duplicates none.

Three kinds of trial, taken in turn up to ``--trials`` (default 33, the figure of issue 9):

- ``target-random``: target-welkin loads N patients, each followed by its CDT record, and is
  killed (SIGKILL: no drain, no goodbye) after a random number of creates; then run again
  on the same input. Lost: a patient or CDT record missing in Welkin. Duplicated: a key
  Welkin holds twice.
- ``target-lost-answer``: Welkin commits a create (a patient or a CDT record, at a random
  position) and its answer never comes; the target is killed while it waits, so its id
  map never learns the new id. Run again; counted as above.
- ``tap-random``: tap-welkin syncs with small pages and is killed at a random STATE message;
  what it emitted up to that STATE is what a target would have committed; it resumes from
  that STATE. Lost: a record of Welkin's export seen in neither run. (Records emitted again
  after a resume are expected of Singer taps: a target writes them by key, so no duplicate.)

Prints one line per trial and the totals; exits 1 if any record was lost or duplicated.
Not a timed benchmark: nothing here depends on speed.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from collections import Counter
from pathlib import Path

from welkin_client import WelkinClient
from welkin_client.pagination import NamedPagePaginator, SpringPagePaginator
from welkin_emulator.testing import EmulatorProcess, seed_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BenchResult  # noqa: E402

BIN = Path(sys.executable).parent
POST_PATIENT = "/{tenant}/{instance}/patients"
POST_CDT = "/{tenant}/{instance}/patients/{patientId}/cdts/{cdtName}"
CDT = "cdt-insurance"
WORK = Path(tempfile.mkdtemp(prefix="kill-trials-"))


def _config(emu: EmulatorProcess, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "tenant": emu.tenant,
        "instance": emu.instance,
        "api_client": emu.client_name,
        "secret_key": emu.client_secret,
        "api_url": emu.url,
        "max_requests_per_second": 0,
        **extra,
    }


def _write(name: str, value: object) -> Path:
    path = WORK / name
    path.write_text(json.dumps(value))
    return path


def _messages(key: str, count: int) -> str:
    lines: list[dict[str, t.Any]] = [
        {
            "type": "SCHEMA",
            "stream": "patients",
            "schema": {"properties": {}},
            "key_properties": [],
        },
        {"type": "SCHEMA", "stream": "cdt_cdt_insurance", "schema": {"properties": {}}},
    ]
    for i in range(count):
        eid = f"{key}-{i}"
        patient = {"externalId": eid, "firstName": f"F{i}", "lastName": "Kexample"}
        record = {"patientId": eid, "external_id": f"{eid}-a", "cdtf-member-id": "M-1"}
        lines.append({"type": "RECORD", "stream": "patients", "record": patient})
        lines.append({"type": "RECORD", "stream": "cdt_cdt_insurance", "record": record})
    lines.append({"type": "STATE", "value": {"bookmarks": {"patients": key}}})
    return "".join(json.dumps(line) + "\n" for line in lines)


class TargetTrials:
    """Target trials against one emulator; each trial has its own keys and id map."""

    def __init__(self, emu: EmulatorProcess, count: int) -> None:
        self.emu = emu
        self.count = count
        self.reader = WelkinClient(_config(emu))

    def _target(self, number: int, workers: int) -> Path:
        config = _config(
            self.emu,
            request_timeout=5,
            max_workers=workers,
            state_dir=str(WORK / f"state-{number}"),
            streams={"cdt_cdt_insurance": {"patient_key": "externalId"}},
        )
        return _write(f"target-{number}.json", config)

    def _start(self, config_path: Path, log: t.IO[str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(BIN / "target-welkin"), "--config", str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        return proc

    def _wait_for(self, route: str, calls: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.emu.requests().get(f"POST {route}", 0) < calls:
            if time.monotonic() > deadline:
                msg = f"{calls} calls of POST {route} did not come"
                raise RuntimeError(msg)
            time.sleep(0.01)

    def trial(self, number: int, rng: random.Random, *, lost_answer: bool) -> tuple[int, int, str]:
        """One trial: (lost, duplicated, where the kill fell)."""
        key = f"k{number}-{rng.randrange(10**8):08d}"
        # One writer when an answer is lost: the others would finish the input meanwhile.
        config_path = self._target(number, 1 if lost_answer else 4)
        self.emu.clear_faults()
        self.emu.reset_requests()
        position = rng.randrange(1, self.count - 1)
        if lost_answer:
            route = rng.choice([POST_PATIENT, POST_CDT])
            # The first `position` creates on the route pass; the next one commits and hangs.
            self.emu.script_faults(
                [
                    {
                        "method": "POST",
                        "route": route,
                        "action": "latency",
                        "times": position,
                    },
                    {"method": "POST", "route": route, "action": "timeout", "after": True},
                ]
            )
            what = "patient" if route == POST_PATIENT else "CDT record"
            where = f"waiting for the lost answer of {what} create {position + 1}"
        else:
            route = POST_PATIENT
            self.emu.set_faults(latency_ms=10)
            where = f"after {position} patient creates"
        with (WORK / f"target-{number}.log").open("w") as log:
            proc = self._start(config_path, log)
            assert proc.stdin is not None
            proc.stdin.write(_messages(key, self.count))
            proc.stdin.close()
            self._wait_for(route, position + 1 if lost_answer else position)
            if lost_answer:
                time.sleep(0.5)  # the create commits, then its answer hangs
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        self.emu.clear_faults()
        missing, _ = self._count(key)
        if not 0 < missing < 2 * self.count:
            msg = f"trial {number}: the kill did not fall mid-way ({missing} records missing)"
            raise RuntimeError(msg)
        if lost_answer and route == POST_PATIENT and f"{key}-{position}" not in self._patients(key):
            msg = f"trial {number}: the create whose answer was lost did not land"
            raise RuntimeError(msg)
        where += f", {2 * self.count - missing} of {2 * self.count} records had landed"
        with (WORK / f"target-{number}-rerun.log").open("w") as log:
            rerun = self._start(config_path, log)
            rerun.communicate(_messages(key, self.count), timeout=300)
        if rerun.returncode != 0:
            msg = f"trial {number}: the rerun failed; see {WORK}"
            raise RuntimeError(msg)
        return (*self._count(key), where)

    def _patients(self, key: str) -> dict[str, dict[str, t.Any]]:
        pages = self.reader.paginate(
            "by-filter/patients",
            SpringPagePaginator(),
            method="POST",
            json={},
            params={"size": 1000},
        )
        return {
            p["externalId"]: p for p in pages if str(p.get("externalId", "")).startswith(f"{key}-")
        }

    def _count(self, key: str) -> tuple[int, int]:
        pages = self.reader.paginate(
            "by-filter/patients",
            SpringPagePaginator(),
            method="POST",
            json={},
            params={"size": 1000},
        )
        patients = [p for p in pages if str(p.get("externalId", "")).startswith(f"{key}-")]
        by_key = Counter(p["externalId"] for p in patients)
        records: Counter[str] = Counter()
        for patient in patients:
            for record in self.reader.paginate(
                f"patients/{patient['id']}/cdts/{CDT}", NamedPagePaginator(), params={"size": 1000}
            ):
                records[record["jsonBody"]["external_id"]] += 1
        wanted = {f"{key}-{i}" for i in range(self.count)}
        lost = len(wanted - set(by_key)) + len({f"{k}-a" for k in wanted} - set(records))
        duplicated = sum(n - 1 for n in by_key.values()) + sum(n - 1 for n in records.values())
        return lost, duplicated


def _export(emu: EmulatorProcess, kind: str) -> set[str]:
    client = WelkinClient(_config(emu))
    ids: set[str] = set()
    params: dict[str, t.Any] = {"pageSize": 1000}
    while True:
        body = client.request("GET", f"export/{kind}", params=params).json()
        ids.update(item["id"] for item in body["data"])
        if not body["cursor"]["hasNext"]:
            return ids
        params["start"] = body["cursor"]["end"]


def _saw(seen: dict[str, set[str]], message: dict[str, t.Any]) -> None:
    """Note a RECORD's id (streams keyed otherwise, such as chat messages, are not checked)."""
    record_id = message["record"].get("id")
    if record_id is not None:
        seen.setdefault(message["stream"], set()).add(str(record_id))


def tap_trial(emu: EmulatorProcess, number: int, rng: random.Random) -> tuple[int, int, str]:
    """Kill the tap at a random STATE, resume from it: (lost, 0, where)."""
    truth = {"patients": _export(emu, "PATIENT"), "encounters": _export(emu, "ENCOUNTER")}
    config = _write(f"tap-{number}.json", _config(emu, page_size=5, max_retries=8))
    seen: dict[str, set[str]] = {}
    states = 0
    stop_at = rng.randrange(1, 40)
    state: dict[str, t.Any] | None = None
    with (WORK / f"tap-{number}.log").open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "tap-welkin"), "--config", str(config)], stdout=subprocess.PIPE, stderr=log
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                _saw(seen, message)
            elif message["type"] == "STATE":
                states += 1
                state = message["value"]
                if states == stop_at:
                    proc.kill()
                    break
        else:
            msg = f"trial {number}: the tap ended before STATE {stop_at}"
            raise RuntimeError(msg)
        proc.wait()
        proc.stdout.close()
    cmd = [str(BIN / "tap-welkin"), "--config", str(config)]
    if state is not None:
        cmd += ["--state", str(_write(f"tap-state-{number}.json", state))]
    resumed = subprocess.run(cmd, capture_output=True, check=True)
    for text in resumed.stdout.decode().splitlines():
        message = json.loads(text)
        if message["type"] == "RECORD":
            _saw(seen, message)
    lost = sum(len(ids - seen.get(stream, set())) for stream, ids in truth.items())
    return lost, 0, f"at STATE {states} of the first run"


def run_trials(
    trials: int = 33, records: int = 30, seed: int = 9
) -> tuple[Counter[str], list[str]]:
    """Run the trials: totals (``trials``, ``lost``, ``duplicated``, per kind), a line each."""
    rng = random.Random(seed)
    seeded = WORK / "seeded.db"
    seed_database(seeded, patients=20, seed=5)
    totals = Counter[str]()
    lines: list[str] = []
    with EmulatorProcess(WORK / "empty.db") as empty, EmulatorProcess(seeded) as source:
        source.set_faults(token_limit=0)
        empty.set_faults(token_limit=0)
        target = TargetTrials(empty, records)
        kinds = ("target-random", "target-lost-answer", "tap-random")
        for number in range(trials):
            kind = kinds[number % len(kinds)]
            if kind == "tap-random":
                lost, duplicated, where = tap_trial(source, number, rng)
            else:
                lost, duplicated, where = target.trial(
                    number, rng, lost_answer=kind == "target-lost-answer"
                )
            totals.update({"trials": 1, "lost": lost, "duplicated": duplicated, kind: 1})
            lines.append(
                f"trial {number + 1:2d} {kind}, killed {where}: lost {lost}, dup {duplicated}"
            )
            print(lines[-1], file=sys.stderr)
    return totals, lines


def summary(totals: Counter[str]) -> str:
    """The figures in one line."""
    return (
        f"{totals['trials']} trials ({totals['target-random']} target at random moments, "
        f"{totals['target-lost-answer']} target after a lost create answer, "
        f"{totals['tap-random']} tap): {totals['lost']} records lost, "
        f"{totals['duplicated']} duplicated"
    )


def run() -> BenchResult:
    """The trials as a section of ``make bench``."""
    totals, lines = run_trials()
    return BenchResult(
        title="9. Kill trials",
        tables=["```\n" + "\n".join(lines) + "\n```"],
        summary=summary(totals),
        notes=["SIGKILL (no drain, no goodbye); not timed: nothing here depends on speed."],
        figures={
            "records lost or duplicated in 33 kill trials": totals["lost"] + totals["duplicated"]
        },
    )


def main() -> int:
    """Run the trials and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=33)
    parser.add_argument("--records", type=int, default=30, help="patients per target trial")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    totals, lines = run_trials(args.trials, args.records, args.seed)
    print("\n".join(lines))
    print(summary(totals))
    return 1 if totals["lost"] or totals["duplicated"] else 0


if __name__ == "__main__":
    sys.exit(main())
