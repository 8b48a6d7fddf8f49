"""Run a real ``welkin-webhooks serve --port 0`` process (tests and benchmarks).

Example::

    with ReceiverProcess(tmp_path / "events.db", secret="s") as receiver:
        requests.post(receiver.url, json=ping, headers={receiver.header: "s"})
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from .cli import SECRET_ENV

_URL_RE = re.compile(r"listening on (http://\S+)")
DEFAULT_HEADER = "X-Welkin-Webhook-Secret"


class ReceiverProcess:
    """The receiver as a subprocess on 127.0.0.1; ``event_log`` is a path or a database URL."""

    def __init__(
        self,
        event_log: str | os.PathLike[str],
        *,
        secret: str = "test-webhook-secret",  # noqa: S107 - a test default
        header: str = DEFAULT_HEADER,
        port: int = 0,
    ) -> None:
        """Configure (nothing runs before :meth:`start`)."""
        self.event_log = str(event_log)
        self.secret, self.header, self.port = secret, header, port
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: collections.deque[str] = collections.deque(maxlen=500)

    def start(self, timeout: float = 20.0) -> ReceiverProcess:
        """Start and wait for the listening line."""
        env = {**os.environ, SECRET_ENV: self.secret,
               "WELKIN_WEBHOOKS_PARENT_PID": str(os.getpid())}  # fmt: skip
        cmd = [sys.executable, "-m", "welkin_webhooks", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--event-log", self.event_log,
               "--header", self.header]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)  # fmt: skip
        found = threading.Event()
        log_dir = os.environ.get("WELKIN_TEST_LOG_DIR")
        log_path = (
            Path(log_dir, f"welkin-webhooks-{os.getpid()}-{id(self)}.log") if log_dir else None
        )

        def read() -> None:
            assert self.proc is not None
            assert self.proc.stderr is not None
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                self.log.append(line)
                if log_path is not None:
                    with log_path.open("a") as fh:
                        fh.write(line + "\n")
                m = _URL_RE.search(line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()

        threading.Thread(target=read, name="welkin-webhooks-log", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("welkin-webhooks did not start:\n" + "\n".join(self.log))
        self.port = int(self.url.split(":")[2].split("/")[0])
        return self

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.url.rsplit("/welkin/webhook", 1)[0]

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed by the process itself."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def __enter__(self) -> ReceiverProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
