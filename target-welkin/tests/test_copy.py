"""Instance-to-instance copy: ``tap-welkin | target-welkin`` from a seeded emulator into an empty one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tap_welkin.streams import RESOURCE_STREAMS
from welkin_client.pagination import MetaInfoPaginator
from welkin_emulator.testing import EmulatorProcess

from .conftest import make_config, read_rejects
from .helpers import TARGET_BIN, WelkinReader, writes

TAP_BIN = str(Path(sys.executable).with_name("tap-welkin"))
PATIENT_FIELDS = (
    "firstName",
    "lastName",
    "middleName",
    "birthDate",
    "gender",
    "email",
    "phone",
    "mrn",
    "externalId",
    "city",
    "state",
    "zip",
    "timezone",
    "primaryLanguage",
)
SYSTEM = {
    "id",
    "created_at",
    "created_by",
    "created_by_name",
    "updated_at",
    "updated_by",
    "updated_by_name",
    "source_type",
    "source_name",
    "source_id",
    "external_guid",
}
CDTS = ("allergies", "cdt-self-care", "cdt-vitals", "cdt-insurance")


def pipe(source: EmulatorProcess, config: dict, log_dir: Path, name: str) -> tuple[int, int]:
    """Run ``tap-welkin | target-welkin``; return both exit codes."""
    tap_config = Path(str(config["state_dir"])).parent / "tap-config.json"
    tap_config.write_text(
        json.dumps(
            {
                "tenant": source.tenant,
                "instance": source.instance,
                "api_client": source.client_name,
                "secret_key": source.client_secret,
                "api_url": source.url,
                # Care data, messages and Designer configuration: target-welkin writes none
                # of them, so the copy is of the resources it writes.
                "stream_maps": {kind.name: None for kind in RESOURCE_STREAMS},
            }
        )
    )
    target_config = Path(str(config["state_dir"])).parent / "target-config.json"
    target_config.write_text(json.dumps(config))
    log_dir.mkdir(parents=True, exist_ok=True)
    with (
        (log_dir / f"tap-welkin-{name}.stderr.log").open("w") as tap_err,
        (log_dir / f"target-welkin-{name}.stderr.log").open("w") as target_err,
    ):
        tap = subprocess.Popen(
            [TAP_BIN, "--config", str(tap_config)], stdout=subprocess.PIPE, stderr=tap_err
        )
        target = subprocess.Popen(
            [TARGET_BIN, "--config", str(target_config)],
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=target_err,
        )
        assert tap.stdout is not None
        tap.stdout.close()
        return tap.wait(120), target.wait(120)


def patient_key(p: dict) -> tuple:
    return tuple(p.get(f) for f in PATIENT_FIELDS)


def snapshot(reader: WelkinReader) -> dict:
    """What the copy must preserve, in terms that do not depend on either instance's ids."""
    patients = reader.patients()
    by_id = {p["id"]: patient_key(p) for p in patients}
    users = {
        u["id"]: u["username"]
        for u in reader.client.paginate(
            "users", MetaInfoPaginator(), params={"size": 1000}, admin=True
        )
    }
    records = Counter()
    for p in patients:
        for cdt in CDTS:
            for r in reader.cdt_records(p["id"], cdt):
                body = {k: v for k, v in r["jsonBody"].items() if k not in SYSTEM}
                records[(by_id[p["id"]], cdt, json.dumps(body, sort_keys=True))] += 1
    events = Counter()
    for e in reader.events():
        people = sorted(
            (x["participantRole"], users.get(x["participantId"]) or by_id.get(x["participantId"]))
            for x in e["participants"]
        )
        events[
            json.dumps(
                [
                    e["eventTitle"],
                    e["startDateTime"],
                    e["endDateTime"],
                    e["eventType"],
                    e["eventStatus"],
                    e["eventMode"],
                    users.get(e["hostId"]),
                    people,
                ],
                sort_keys=True,
                default=str,
            )
        ] += 1
    encounters = Counter(
        (
            by_id[p["id"]],
            enc["jsonBody"]["templateName"],
            enc["jsonBody"]["title"],
            enc["jsonBody"]["notes"],
        )
        for p in patients
        for enc in reader.encounters(p["id"])
    )
    return {
        "patients": Counter(by_id.values()),
        "cdt_records": records,
        "events": events,
        "encounters": encounters,
    }


def test_tap_to_target_copy_yields_the_same_data(seeded_emulator, tmp_path, test_log_dir):
    source = snapshot(WelkinReader(seeded_emulator))
    assert sum(source["patients"].values()) == 12 and source["cdt_records"] and source["events"]
    with EmulatorProcess(tmp_path / "copy.db") as empty:
        config = make_config(empty, tmp_path / "state", max_reject_ratio=0.0)
        assert pipe(seeded_emulator, config, test_log_dir, "copy-first") == (0, 0)
        assert read_rejects(config) == []
        copied = snapshot(WelkinReader(empty))
        assert copied["patients"] == source["patients"]
        assert copied["cdt_records"] == source["cdt_records"]
        assert copied["events"] == source["events"]  # no event twice (encounters link to theirs)
        assert copied["encounters"] == source["encounters"]

        empty.reset_requests()
        assert pipe(seeded_emulator, config, test_log_dir, "copy-second") == (0, 0)
        assert writes(empty.requests()) == 0, json.dumps(empty.requests())
        assert snapshot(WelkinReader(empty)) == copied
