"""The rejects file: one JSON line per record that was not written, and why.

A line names the stream, the record's key, the operation that failed, Welkin's
HTTP status and ``errorCode`` (when Welkin refused it) and a reason. It never
holds a field value: reasons name fields, and the key is the only identifier
(the operator needs it to find and fix the source record). Nothing here is
logged; logs only see counts.
"""

from __future__ import annotations

import json
import os
import threading
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path


class Operation:
    """What the target was doing when a record failed (the ``operation`` column)."""

    READ = "read"  # parsing the Singer line or its envelope
    VALIDATE = "validate"  # checks made before any call to Welkin
    RESOLVE = "resolve"  # finding a parent (patient, user) in Welkin
    MATCH = "match"  # finding the record's own Welkin resource
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Code:
    """``errorCode`` values of rejects decided by the target itself (Welkin's own pass through)."""

    MALFORMED_LINE = "MALFORMED_LINE"
    NO_SCHEMA = "RECORD_BEFORE_SCHEMA"
    INVALID_SCHEMA = "INVALID_SCHEMA"
    UNKNOWN_STREAM = "UNKNOWN_STREAM"
    SCHEMA_MISMATCH = "SCHEMA_MISMATCH"
    WRONG_TYPE = "WRONG_TYPE"
    VALUE_LIMIT = "VALUE_LIMIT"  # a length, control-character or date limit (limits.py)
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    READ_ONLY_FIELD = "READ_ONLY_FIELD"
    MISSING_FIELD = "MISSING_FIELD"
    MISSING_KEY = "MISSING_KEY"
    UNKNOWN_PARENT = "UNKNOWN_PARENT"
    AMBIGUOUS_MATCH = "AMBIGUOUS_MATCH"
    EXISTS = "ALREADY_EXISTS"
    NOT_FOUND = "NO_MATCH"


@dataclass(frozen=True)
class Reject:
    """One rejected record, as written to the rejects file."""

    stream: str | None
    key: str | None
    operation: str
    status: int | None
    errorCode: str | None  # noqa: N815 - the column name the issue asks for
    reason: str
    run_id: str  # the target run that rejected it (one per process)
    time: str  # when, ISO 8601 UTC


class RecordRejected(Exception):  # noqa: N818 - it is a verdict, not a failure of the target
    """Raised while handling one record: the record is rejected, the run goes on.

    ``invalid`` marks rejects decided before any call to Welkin (counted apart
    from Welkin's own refusals in the run summary).
    """

    def __init__(
        self,
        reason: str,
        *,
        operation: str,
        error_code: str | None,
        status: int | None = None,
        invalid: bool = False,
    ) -> None:
        """Keep the reject's columns; ``reason`` must name fields, never values."""
        super().__init__(reason)
        self.reason = reason
        self.operation = operation
        self.error_code = error_code
        self.status = status
        self.invalid = invalid


def rejects_file_path(configured: str | None, state_dir: Path, *, dry_run: bool) -> Path:
    """Where rejects go: ``rejects_path`` or ``<state_dir>/rejects.jsonl``; a dry run's own file.

    A dry run's rejects are a preview, not records that failed: they go to
    ``<name>.dry-run.jsonl`` beside the real file, so the real one holds only real rejects.
    """
    path = Path(configured) if configured else state_dir / "rejects.jsonl"
    return path.with_name(f"{path.stem}.dry-run{path.suffix or '.jsonl'}") if dry_run else path


class RejectsFile:
    """Appends rejects as JSON lines, flushed at once so a crash keeps them. Thread-safe."""

    def __init__(self, path: Path) -> None:
        """Open ``path`` for appending (its folder is created)."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # 0600 whatever the umask: rejects name record keys.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.chmod(path, 0o600)
        self._file: t.TextIO = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, reject: Reject) -> None:
        """Append one reject."""
        line = json.dumps(asdict(reject), ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()
