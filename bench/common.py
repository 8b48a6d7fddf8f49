"""Shared helpers of the benchmark scripts: seeding, the emulator, measured subprocesses, tables.

Every benchmark measures side by side in one run and reports ratios; absolute timings are
printed for context only, never asserted. Scratch data lives under ``bench/.work/``.

Sizes scale with the ``BENCH_SCALE`` environment variable (default 1.0): ``BENCH_SCALE=0.05``
makes a quick run of every script.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import typing as t
from collections import Counter
from pathlib import Path

from welkin_emulator.testing import EmulatorProcess, seed_database

try:
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson comes with welkin-emulator
    from json import loads as _loads  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
BIN = Path(sys.executable).parent
PAGE_FLOOR = 1000  # the largest page Welkin serves: the floor is one request per 1000 records
WRAPPER_PAGE = 20  # Welkin's default page size, used by the `welkin` wrapper
SEED = 1
TOKEN_ROUTE = "POST /{tenant}/admin/api_clients/{clientName}"


# -- sizes ----------------------------------------------------------------------------------


def scale() -> float:
    """The ``BENCH_SCALE`` factor applied to every default size."""
    try:
        return max(0.0001, float(os.environ.get("BENCH_SCALE", "1")))
    except ValueError:
        return 1.0


def scaled(n: int, minimum: int = 50) -> int:
    """``n`` times :func:`scale`, at least ``minimum``."""
    return max(minimum, round(n * scale()))


def floor_requests(records: int) -> int:
    """The request floor for ``records``: one page of 1000, and at least one request."""
    return max(1, math.ceil(records / PAGE_FLOOR))


def ratio(a: float, b: float) -> str:
    """``a / b`` as text, or ``-`` when ``b`` is zero."""
    return f"{a / b:.2f}" if b else "-"


# -- measured subprocesses ------------------------------------------------------------------


@dataclasses.dataclass
class ProcResult:
    """Exit status, wall time and resource usage of one child process."""

    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_kb: int
    stderr_path: Path | None = None

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds of the child (and its waited-for children)."""
        return self.user_s + self.sys_s

    @property
    def maxrss_mb(self) -> float:
        """Peak resident set size in MiB."""
        return self.maxrss_kb / 1024

    def stderr_tail(self, lines: int = 30) -> str:
        """The last lines the child wrote to stderr."""
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        text = self.stderr_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check(self) -> ProcResult:
        """Raise with the stderr tail if the child failed."""
        if self.returncode != 0:
            name = Path(self.argv[0]).name
            msg = f"{name} exited {self.returncode}:\n{self.stderr_tail()}"
            raise RuntimeError(msg)
        return self


def run_measured(
    argv: t.Sequence[str],
    *,
    stdin: t.Any = subprocess.DEVNULL,
    stdout: t.Any = subprocess.DEVNULL,
    stderr_name: str | None = None,
    env: t.Mapping[str, str] | None = None,
) -> ProcResult:
    """Run ``argv`` to completion; return wall time, CPU time and peak RSS (``wait4`` rusage).

    ``stdin``/``stdout`` accept what :class:`subprocess.Popen` accepts (a path is opened).
    stderr goes to ``bench/.work/logs/<stderr_name>.log``.
    """
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    name = stderr_name or Path(argv[0]).name
    stderr_path = logs / f"{name}.log"
    opened: list[t.IO[bytes]] = []
    if isinstance(stdin, (str, Path)):
        stdin = open(stdin, "rb")  # noqa: SIM115 - closed below
        opened.append(stdin)
    if isinstance(stdout, (str, Path)):
        stdout = open(stdout, "wb")  # noqa: SIM115 - closed below
        opened.append(stdout)
    try:
        with stderr_path.open("wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                list(argv), stdin=stdin, stdout=stdout, stderr=err, env=dict(env or os.environ)
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for fh in opened:
            fh.close()
    return ProcResult(
        argv=list(argv),
        returncode=proc.returncode,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        maxrss_kb=usage.ru_maxrss,
        stderr_path=stderr_path,
    )


def tool(name: str) -> str:
    """Path of a console script of the venv that runs the benchmarks (``tap-welkin``, ...)."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is not installed in {BIN} (pip install -e the package)"
        raise FileNotFoundError(msg)
    return found


# -- seeded databases and the emulator ------------------------------------------------------


def seeded_db(patients: int, name: str, *, seed: int = SEED) -> Path:
    """A fresh copy of a database seeded with ``patients``; the seeded template is cached."""
    WORK.mkdir(parents=True, exist_ok=True)
    template = WORK / f"seed-{patients}-s{seed}.db"
    if not template.exists():
        started = time.perf_counter()
        partial = template.with_suffix(".partial")
        for leftover in WORK.glob(partial.name + "*"):
            leftover.unlink()
        seed_database(partial, patients, seed=seed)
        _checkpoint(partial)
        partial.rename(template)
        log(f"seeded {patients} patients in {time.perf_counter() - started:.1f} s")
    target = WORK / f"{name}.db"
    for leftover in WORK.glob(target.name + "*"):
        leftover.unlink()
    shutil.copyfile(template, target)
    return target


def _checkpoint(db: Path) -> None:
    """Fold a WAL file into the database so a plain file copy is complete."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def db_counts(db: Path) -> dict[str, int]:
    """Ground truth from the database: rows per stream-like kind (``cdt:<name>`` per CDT)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        counts = {
            "patients": conn.execute("SELECT count(*) FROM patients").fetchone()[0],
            "users": conn.execute("SELECT count(*) FROM users").fetchone()[0],
            "calendar_events": conn.execute("SELECT count(*) FROM calendar_events").fetchone()[0],
        }
        for kind, cdt, n in conn.execute(
            "SELECT kind, cdt_name, count(*) FROM records GROUP BY kind, cdt_name"
        ):
            if kind == "ENCOUNTER":
                counts["encounters"] = counts.get("encounters", 0) + n
            elif kind == "CDT":
                counts[f"cdt:{cdt}"] = n
            else:
                counts[f"{kind.lower()}:{cdt}"] = n
        return counts
    finally:
        conn.close()


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def expected_records(stream: str, counts: t.Mapping[str, int]) -> int | None:
    """The database's row count for a tap stream, matching CDT streams by machine name."""
    if stream in counts:
        return counts[stream]
    key = _norm(stream)
    best: tuple[int, int] | None = None
    for name, n in counts.items():
        if not name.startswith("cdt:"):
            continue
        cdt = _norm(name[4:])
        if key.endswith(cdt) and (best is None or len(cdt) > best[0]):
            best = (len(cdt), n)
    return best[1] if best else None


class Emulator(EmulatorProcess):
    """An :class:`EmulatorProcess` that also reports its own CPU time."""

    def cpu_seconds(self) -> float:
        """User plus system CPU seconds the emulator process has used so far."""
        if self.proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def connection(self) -> dict[str, t.Any]:
        """The connection keys of a tap or target config for this emulator."""
        return {
            "tenant": self.tenant,
            "instance": self.instance,
            "api_client": self.client_name,
            "secret_key": self.client_secret,
            "api_url": self.url,
        }

    def data_requests(self) -> dict[str, int]:
        """The request counter without the token endpoint, plus ``total`` and ``token``."""
        counts = dict(self.requests())
        counts.pop("total", None)
        token = counts.pop(TOKEN_ROUTE, 0)
        return {**counts, "total": sum(counts.values()) + token, "token": token}


# -- Singer plumbing ------------------------------------------------------------------------


def write_json(path: Path, data: t.Any) -> Path:
    """Write ``data`` as JSON to ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path


def tap_config(emu: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """A tap-welkin config for ``emu``: export path, 1000 a page, no client-side budget."""
    return {
        **emu.connection(),
        "page_size": 1000,
        "extraction_path": "auto",
        "max_requests_per_second": 0,
        **overrides,
    }


def discover(config_path: Path) -> dict[str, t.Any]:
    """Run ``tap-welkin --discover`` and return the catalog."""
    out = WORK / "catalog.discovered.json"
    run_measured(
        [tool("tap-welkin"), "--config", str(config_path), "--discover"],
        stdout=out,
        stderr_name="tap-discover",
    ).check()
    catalog: dict[str, t.Any] = json.loads(out.read_text())
    return catalog


def stream_names(catalog: t.Mapping[str, t.Any]) -> list[str]:
    """The ``tap_stream_id`` of every stream of a catalog, in catalog order."""
    return [s["tap_stream_id"] for s in catalog["streams"]]


def default_streams(catalog: t.Mapping[str, t.Any]) -> list[str]:
    """Streams tap-welkin selects by default: no untyped ``cdt_records``, audit or opt-in stream."""
    return [
        s["tap_stream_id"]
        for s in catalog["streams"]
        for entry in s.get("metadata", [])
        if entry.get("breadcrumb") == [] and entry["metadata"].get("selected-by-default")
    ]


def full_table_streams(catalog: t.Mapping[str, t.Any]) -> set[str]:
    """Streams read whole on every run (users, the Designer configuration)."""
    return {
        s["tap_stream_id"]
        for s in catalog["streams"]
        if s.get("replication_method") == "FULL_TABLE"
    }


def per_patient_streams() -> list[str]:
    """tap-welkin's streams Welkin serves only per patient (no export): a request a patient."""
    from tap_welkin.streams import RESOURCE_STREAMS  # noqa: PLC0415 - the tap's own declarations

    return sorted(
        kind.name
        for kind in RESOURCE_STREAMS
        if getattr(kind, "export_type", None) is None
        and "{patientId}" in str(getattr(kind, "list_path", "") or "")
    )


def check_minimal_client_types() -> None:
    """Fail when ``minimal_client.EXPORT_TYPES`` and the tap's export types differ."""
    import minimal_client  # noqa: PLC0415
    from tap_welkin import streams  # noqa: PLC0415

    kinds = [streams.PatientsStream, streams.CalendarEventsStream, streams.EncountersStream]
    kinds += [streams.CdtRecordsStream, *streams.RESOURCE_STREAMS]
    tap = {str(k.export_type) for k in kinds if getattr(k, "export_type", None)}
    if tap != set(minimal_client.EXPORT_TYPES):
        msg = f"minimal_client.EXPORT_TYPES differs from the tap's: {sorted(tap)}"
        raise RuntimeError(msg)


def export_streams_catalog(config: Path, name: str) -> Path:
    """The benchmarks' selection, written as ``catalog.{name}.json``: what a user's default run
    reads (:func:`default_streams`: no ``cdt_records``, audit feeds or per-patient-only streams).

    Per-patient streams cost a request a patient (20,000 at 20,000 patients) whatever a
    client does; benchmark 1 counts them on their own.
    """
    check_minimal_client_types()
    catalog = discover(config)
    selection = select_streams(catalog, default_streams(catalog))
    path: Path = write_json(WORK / f"catalog.{name}.json", selection)
    return path


def select_streams(catalog: t.Mapping[str, t.Any], selected: t.Collection[str]) -> dict[str, t.Any]:
    """A copy of ``catalog`` where only ``selected`` streams are selected."""
    copy: dict[str, t.Any] = json.loads(json.dumps(catalog))
    for stream in copy["streams"]:
        chosen = stream["tap_stream_id"] in selected
        found = False
        for entry in stream.get("metadata", []):
            if entry.get("breadcrumb") == []:
                entry.setdefault("metadata", {})["selected"] = chosen
                found = True
        if not found:
            stream.setdefault("metadata", []).append(
                {"breadcrumb": [], "metadata": {"selected": chosen}}
            )
    return copy


@dataclasses.dataclass
class SingerOutput:
    """What a tap wrote: records per stream and the last state."""

    records: Counter[str]
    state: dict[str, t.Any] | None


def read_singer(path: Path) -> SingerOutput:
    """Count RECORD messages per stream and keep the last STATE value of a Singer file."""
    records: Counter[str] = Counter()
    state: dict[str, t.Any] | None = None
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            message = _loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                records[message["stream"]] += 1
            elif kind == "STATE":
                state = message.get("value")
    return SingerOutput(records, state)


# -- output -----------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress to stderr (tables and summaries go to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def markdown_table(headers: t.Sequence[str], rows: t.Iterable[t.Sequence[t.Any]]) -> str:
    """A GitHub-flavoured Markdown table with right-aligned numbers."""
    body = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    numeric = [
        all(re.fullmatch(r"[-+]?[\d,.]+[%x]?|-", row[i] or "-") for row in body) if body else False
        for i in range(len(headers))
    ]

    def line(cells: t.Sequence[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=False)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if n else "-" * (w + 2)
            for w, n in zip(widths, numeric, strict=False)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in body)])


def _cell(value: t.Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclasses.dataclass
class BenchResult:
    """One benchmark's tables, one-line summary and notes."""

    title: str
    tables: list[str]
    summary: str
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    #: The benchmark's headline figures against issue goals: ``{figure: value}`` (see ``GOALS``).
    figures: dict[str, float] = dataclasses.field(default_factory=dict)

    def markdown(self) -> str:
        """The result as a Markdown section."""
        parts = [f"## {self.title}", ""]
        for table in self.tables:
            parts += [table, ""]
        parts += [f"**Summary:** {self.summary}", ""]
        parts += [f"- {n}" for n in self.notes]
        if self.notes:
            parts.append("")
        parts.append(f"_Took {self.seconds:.0f} s._")
        return "\n".join(parts) + "\n"

    def print(self) -> None:
        """Print the tables and the summary to stdout."""
        print(self.markdown(), flush=True)


#: Figure -> (goal as text, whether a value meets it), for the goals table of ``results.md``.
GOALS: dict[str, tuple[str, t.Callable[[float], bool]]] = {
    "tap records/s ÷ minimal sequential client's": (">= 1.2", lambda v: v >= 1.2),
    "tap CPU µs/record ÷ minimal client's": ("<= 1.3", lambda v: v <= 1.3),
    "latency paid at 100 ms a request ÷ sequential floor": ("<= 0.25", lambda v: v <= 0.25),
    "requests per full sync ÷ floor": ("<= 1.04", lambda v: v <= 1.04),
    "export pages per full sync ÷ floor per export feed": ("<= 1.05", lambda v: v <= 1.05),
    "tap peak RSS, 10x the patients ÷ 1x": ("<= 1.2", lambda v: v <= 1.2),
    "p95 s from a write to its DuckDB row (README loop)": ("< 10", lambda v: v < 10),
    "records lost or duplicated in 33 kill trials": ("0", lambda v: v == 0),
}


def goals_table(results: t.Iterable[BenchResult]) -> str:
    """The headline figures of ``results`` next to their goals."""
    rows = []
    for result in results:
        for figure, value in result.figures.items():
            goal, met = GOALS.get(figure, ("-", lambda _: True))
            # The goals are given to two decimals: a value is judged as it is shown.
            verdict = "yes" if met(round(value, 2)) else "**no**"
            rows.append([figure, f"{value:.2f}", goal, verdict, result.title])
    return markdown_table(["figure", "measured", "goal", "met", "benchmark"], rows)


def timed(func: t.Callable[[], BenchResult]) -> BenchResult:
    """Run a benchmark and record how long it took."""
    started = time.perf_counter()
    result = func()
    result.seconds = time.perf_counter() - started
    return result


def machine_facts() -> dict[str, str]:
    """CPU, cores, memory, OS, Python, commit and date of this run."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "load average at start": load,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "commit": commit or "?",
        "BENCH_SCALE": str(scale()),
    }


def temp_path(suffix: str) -> Path:
    """A fresh file name under ``bench/.work``."""
    WORK.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=WORK, suffix=suffix)
    os.close(fd)
    return Path(name)
