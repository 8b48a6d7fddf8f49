"""Helpers for tests and benchmarks: run a real emulator process and seed databases.

Example::

    from welkin_emulator.testing import EmulatorProcess, seed_database

    seed_database(tmp_path / "w.db", patients=50, seed=1)
    with EmulatorProcess(tmp_path / "w.db") as emu:
        token = emu.token()                       # DEMOCLIENT / demo-secret
        base = emu.api_url                        # http://127.0.0.1:PORT/demo/sandbox
        emu.script_faults([{"method": "POST", "route": "/{tenant}/{instance}/patients",
                            "action": "drop", "after": True}])
        ...
        assert emu.requests()["POST /{tenant}/{instance}/patients"] == 1

The API of this module is stable: colleagues' tests depend on it.
"""

from __future__ import annotations

import atexit
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from .config import (
    DEFAULT_CLIENT,
    DEFAULT_INSTANCE,
    DEFAULT_SECRET,
    DEFAULT_TENANT,
    NOEXPORT_CLIENT,
    NOEXPORT_SECRET,
)

_CONTROL_TOKEN_ENV = "WELKIN_EMULATOR_CONTROL_TOKEN"  # noqa: S105 - a variable name
_URL_RE = re.compile(r"welkin-emulator listening on (http://\S+)")
_LIVE: set[EmulatorProcess] = set()


class EmulatorProcess:
    """A ``welkin-emulator serve --port 0`` subprocess on 127.0.0.1.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``extra_args`` are added to
    the ``serve`` command line (e.g. ``("--latency-ms", "50")``); ``config`` is a dict (written to
    a temporary JSON file) or a path passed as ``--config``. ``control_token`` (default:
    ``$WELKIN_EMULATOR_CONTROL_TOKEN``) is handed to the server through its environment, never
    its command line, and sent on every control call.
    """

    tenant = DEFAULT_TENANT
    instance = DEFAULT_INSTANCE
    client_name = DEFAULT_CLIENT
    client_secret = DEFAULT_SECRET
    noexport_client_name = NOEXPORT_CLIENT
    noexport_client_secret = NOEXPORT_SECRET

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        extra_args: Sequence[str] = (),
        config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        control_token: str | None = None,
    ) -> None:
        self.db_path = str(db_path)
        self.control_token = control_token or os.environ.get(_CONTROL_TOKEN_ENV) or None
        self.extra_args = [str(a) for a in extra_args]
        self.config = config
        self.startup_timeout = startup_timeout
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=500)
        self._reader: threading.Thread | None = None
        self._config_file: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> EmulatorProcess:
        """Start the server and wait until ``/_emulator/health`` answers."""
        self.proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # The server stops itself if this process dies (see cli.die_with_parent).
            env=self._server_env(),
        )
        _LIVE.add(self)
        found = threading.Event()
        self._reader = threading.Thread(
            target=self._read_log, args=(found,), name="welkin-emulator-log", daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("welkin-emulator did not start:\n" + self.log_tail())
        while True:
            try:
                self._control("GET", "/_emulator/health")
                return self
            except (OSError, urllib.error.URLError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        "welkin-emulator is not healthy:\n" + self.log_tail()
                    ) from None
                time.sleep(0.05)

    def _command(self) -> list[str]:
        """The server's command line (a mapping config goes to a temporary file)."""
        cmd = [sys.executable, "-m", "welkin_emulator", "serve", "--host", "127.0.0.1",
               "--port", "0", "--db", self.db_path]  # fmt: skip
        if isinstance(self.config, Mapping):
            fd, name = tempfile.mkstemp(prefix="welkin-emulator-", suffix=".json")
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps(dict(self.config)))
            self._config_file = name
            cmd += ["--config", name]
        elif self.config is not None:
            cmd += ["--config", str(self.config)]
        return cmd + list(self.extra_args)

    def _read_log(self, found: threading.Event) -> None:
        """Keep the server's stderr (and the suite's copy); set ``found`` once it listens."""
        assert self.proc is not None
        assert self.proc.stderr is not None
        # Under the project's test suite, keep the server's whole log for the suite-wide
        # scan for secrets and patient values (see the repository's root conftest.py).
        log_dir = os.environ.get("WELKIN_TEST_LOG_DIR")
        log_file = (
            open(  # noqa: SIM115 - closed below when the server exits
                os.path.join(log_dir, f"welkin-emulator-{os.getpid()}-{id(self)}.log"), "a"
            )
            if log_dir
            else None
        )
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self._log.append(line)
            if log_file is not None:
                log_file.write(line + "\n")
                log_file.flush()
            m = _URL_RE.search(line)
            if m and not found.is_set():
                self.url = m.group(1)
                found.set()
        if log_file is not None:
            log_file.close()

    def _server_env(self) -> dict[str, str]:
        env = {**os.environ, "WELKIN_EMULATOR_PARENT_PID": str(os.getpid())}
        env.pop(_CONTROL_TOKEN_ENV, None)
        if self.control_token:
            env[_CONTROL_TOKEN_ENV] = self.control_token
        return env

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and clean up."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc is not None and proc.stderr is not None:
            if self._reader is not None:
                self._reader.join(2)
            proc.stderr.close()
        if self._config_file:
            Path(self._config_file).unlink(missing_ok=True)
            self._config_file = None
        _LIVE.discard(self)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 50) -> str:
        """The last lines the server wrote to stderr."""
        return "\n".join(list(self._log)[-lines:])

    # -- URLs and credentials ----------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """``{url}/{tenant}/{instance}`` for the default tenant and instance."""
        return f"{self.url}/{self.tenant}/{self.instance}"

    @property
    def admin_url(self) -> str:
        """``{url}/{tenant}/admin``."""
        return f"{self.url}/{self.tenant}/admin"

    def token(self, client: str = DEFAULT_CLIENT, secret: str = DEFAULT_SECRET,
              tenant: str = DEFAULT_TENANT) -> str:  # fmt: skip
        """Fetch a bearer token from the token endpoint (counted like any API request)."""
        data = self._request("POST", f"/{tenant}/admin/api_clients/{client}", {"secret": secret})
        token: str = data["token"]
        return token

    # -- control API -----------------------------------------------------------------------------
    def requests(self) -> dict[str, int]:
        """Request counts per ``METHOD /route/template`` plus ``total``."""
        result: dict[str, int] = self._control("GET", "/_emulator/requests")
        return result

    def counts(self) -> dict[str, int]:
        """Records per resource in this emulator's tenant/instance (export type names, plus
        ``USER``, ``GOAL``, ``DOCUMENT_SUMMARY``, ``ENCOUNTER_ASSESSMENT``, ``WORK_HOURS``).
        """
        result: dict[str, int] = self._control(
            "GET", f"/_emulator/counts?tenant={self.tenant}&instance={self.instance}"
        )
        return result

    def reset_requests(self) -> None:
        """Zero the request counter."""
        self._control("DELETE", "/_emulator/requests")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Partial update of the fault settings (``latency_ms``, ``error_rate``, …)."""
        result: dict[str, Any] = self._control("PUT", "/_emulator/faults", settings)
        return result

    def faults(self) -> dict[str, Any]:
        """Current fault settings."""
        result: dict[str, Any] = self._control("GET", "/_emulator/faults")
        return result

    def script_faults(self, entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Replace the scripted faults (see ``POST /_emulator/faults/script``)."""
        result: list[dict[str, Any]] = self._control(
            "POST", "/_emulator/faults/script", [dict(e) for e in entries]
        )
        return result

    def clear_faults(self) -> None:
        """Turn every random fault off, clear the script and the token-throttle history.

        Token lifetime and limit are kept.
        """
        self._control("POST", "/_emulator/faults/clear")

    def set_webhooks(self, hooks: Iterable[Mapping[str, Any]], **faults: Any) -> dict[str, Any]:
        """Replace the webhook definitions (config syntax); ``faults`` go to the webhook faults."""
        result: dict[str, Any] = self._control(
            "PUT", "/_emulator/webhooks", {"webhooks": [dict(h) for h in hooks]}
        )
        if faults:
            self._control("PUT", "/_emulator/webhooks/faults", faults)
        return result

    def webhooks(self) -> dict[str, Any]:
        """Webhook definitions (masked), delivery counts and the queue length."""
        result: dict[str, Any] = self._control("GET", "/_emulator/webhooks")
        return result

    def reset(self) -> None:
        """Back to start-up settings; counters, script and token throttle cleared."""
        self._control("POST", "/_emulator/reset")

    # -- plumbing ---------------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.control_token}"} if self.control_token else {}
        return self._request(method, path, body, headers=headers)

    def _request(
        self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        if not self.url:
            raise RuntimeError("the emulator is not running")
        data = orjson.dumps(body) if body is not None else None
        req = urllib.request.Request(  # noqa: S310 - http URL of our own subprocess
            self.url + path, data=data, method=method, headers=dict(headers or {})
        )
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local URL
            raw = resp.read()
        return orjson.loads(raw) if raw else None


def seed_database(
    db_path: str | os.PathLike[str],
    patients: int,
    *,
    seed: int = 0,
    tenant: str = DEFAULT_TENANT,
    instance: str = DEFAULT_INSTANCE,
) -> None:
    """Run ``welkin-emulator seed`` (as a subprocess, like a user would) and wait for it."""
    cmd = [sys.executable, "-m", "welkin_emulator", "seed", "--db", str(db_path),
           "--patients", str(patients), "--seed", str(seed), "--tenant", tenant,
           "--instance", instance]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"welkin-emulator seed failed ({done.returncode}):\n{done.stderr}")


@atexit.register
def _stop_all() -> None:
    for emu in list(_LIVE):
        emu.stop()
