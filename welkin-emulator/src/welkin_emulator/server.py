"""Run the emulator under uvicorn (one worker: the request counter lives in memory)."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys

import uvicorn

from .app import EmulatorApp
from .config import EmulatorConfig
from .faults import FaultSettings


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) stays on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _warn_remote(has_token: bool) -> None:
    control = (
        "its control routes need the control token"
        if has_token
        else "its control routes (/_emulator/faults, /_emulator/reset) need NO token"
    )
    log = logging.getLogger("welkin_emulator")
    log.warning("!" * 78)
    log.warning("welkin-emulator is reachable from other machines (--allow-remote):")
    log.warning("plain http, public default secrets, and %s.", control)
    log.warning("Never load real patient data into it.")
    log.warning("!" * 78)


def serve(
    host: str,
    port: int,
    db_path: str,
    config: EmulatorConfig,
    faults: FaultSettings,
    *,
    verbose: bool = False,
    control_token: str | None = None,
) -> None:
    """Bind, print the defaults and the URL to stderr, and serve until SIGTERM/SIGINT.

    The caller decides whether ``host`` may be beyond loopback (see ``cli``); this
    warns loudly whenever it is.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    app = EmulatorApp(db_path, config, faults, control_token=control_token)
    # Bind the socket ourselves so that --port 0 works and the real port is known up front.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections on Linux: without it, headers and body go out in two
    # small segments and Nagle + delayed ACK add ~40 ms to every response.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    bound = sock.getsockname()[1]
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    print("welkin-emulator: configuration", file=sys.stderr)
    print(config.describe(), file=sys.stderr)
    print(f"  database {db_path}", file=sys.stderr)
    print(f"  faults {faults.to_dict()}", file=sys.stderr)
    if not is_loopback(host):
        _warn_remote(control_token is not None)
    print(f"welkin-emulator listening on http://{shown_host}:{bound}", file=sys.stderr, flush=True)
    uv_config = uvicorn.Config(
        app,
        log_level="debug" if verbose else "warning",
        access_log=False,  # uvicorn's access log prints full URLs (patient ids): never
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(uv_config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
