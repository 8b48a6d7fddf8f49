"""Suite-wide test plumbing shared by every package's tests.

Every log line the suite produces is kept under ``build/test-logs/``: in-process
logging through a root handler, subprocesses through ``test_log_dir``. The
hygiene tests (``tests/hygiene/``) scan all of it for secrets, tokens and seeded
patient values; they are moved to the end of the run so they see every other
test's logs.

``make test`` runs the suite on two xdist workers, then the hygiene tests in a pytest of
their own (a worker cannot know when the others are done). Each worker logs to a folder of
its own under ``build/test-logs/`` (file names derived from ``tmp_path`` repeat across
workers); the hygiene scan reads them all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_SUITE_LOGS = Path(os.environ.get("WELKIN_TEST_LOG_DIR", REPO_ROOT / "build" / "test-logs"))
LOG_DIR = _SUITE_LOGS / WORKER if WORKER and _SUITE_LOGS.name != WORKER else _SUITE_LOGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the log hygiene tests last (on xdist workers they refuse to run: see there)."""
    items.sort(key=lambda item: "hygiene" in item.path.parts)


@pytest.fixture(scope="session", autouse=True)
def _capture_in_process_logs() -> Iterator[None]:
    """Copy every in-process log record (DEBUG and up) into the suite's log folder."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["WELKIN_TEST_LOG_DIR"] = str(LOG_DIR)
    handler = logging.FileHandler(LOG_DIR / f"in-process-{WORKER or 'main'}-{os.getpid()}.log")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield
    root.removeHandler(handler)
    handler.close()


@pytest.fixture(scope="session")
def test_log_dir() -> Path:
    """Folder where tests write the stderr of the processes they start (one file each)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return LOG_DIR
