"""A setting that would send the secret elsewhere stops the tap before any request."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import tap_welkin_testkit as kit
from welkin_emulator.testing import EmulatorProcess


class Listener:
    """A TCP listener on 127.0.0.1 that records whether anything connects."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.mark.parametrize("mode", [("--discover",), ()])
def test_environment_that_is_not_a_host_label_stops_the_tap_before_any_request(
    emulator: EmulatorProcess, listener: Listener, mode: tuple[str, ...]
) -> None:
    bad = f"x@127.0.0.1:{listener.port}/#"
    config = kit.tap_config(emulator, api_url=None, environment=bad)
    run = kit.run_tap(config, name="bad-environment", args=mode, check=False)
    assert run.returncode != 0
    assert listener.connections == 0
    assert run.messages == []
    named = [line for line in run.stderr.splitlines() if "'environment' is invalid" in line]
    assert len(named) == 1, run.stderr[-2000:]
    assert "host-name label" in named[0]
    assert "Traceback" not in run.stderr
    assert bad not in run.stderr
    assert "127.0.0.1" not in run.stderr
