"""``welkin-webhooks serve``: run the receiver under uvicorn; ``welkin-webhooks follow -- CMD``:
run the event job whenever pings arrive (see ``follow``).

The secret comes from ``$WELKIN_WEBHOOKS_SECRET`` only (a command line is visible to every user
of the machine); the event log from ``--event-log`` or ``$WELKIN_WEBHOOKS_EVENT_LOG``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence

import uvicorn
from welkin_client.eventlog import EventLog, open_event_log

from .app import build_app
from .follow import follow

SECRET_ENV = "WELKIN_WEBHOOKS_SECRET"  # noqa: S105 - a variable name
DEFAULT_LOG = "sqlite:///.state/welkin-events.db"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="welkin-webhooks",
        description="Receive Welkin webhook pings into an event log for tap-welkin's event mode.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve POST /welkin/webhook until SIGTERM/SIGINT")
    s.add_argument("--host", default=os.environ.get("WELKIN_WEBHOOKS_HOST", "127.0.0.1"))
    s.add_argument(
        "--port", type=int, default=int(os.environ.get("WELKIN_WEBHOOKS_PORT", "8787")),
        help="0 picks a free port (printed)",
    )  # fmt: skip
    s.add_argument(
        "--event-log",
        default=os.environ.get("WELKIN_WEBHOOKS_EVENT_LOG", DEFAULT_LOG),
        help="sqlite:///path (default) or postgresql://… (pip install 'welkin-webhooks[postgres]')",
    )
    s.add_argument(
        "--header",
        default=os.environ.get("WELKIN_WEBHOOKS_HEADER", "X-Welkin-Webhook-Secret"),
        help="name of the header Welkin sends the secret in (the webhook's custom header)",
    )
    s.add_argument("--verbose", action="store_true", help="log every stored event's seq and type")
    f = sub.add_parser(
        "follow", help="run a command (the event job) whenever new pings are in the event log"
    )
    f.add_argument("--event-log", default=os.environ.get("WELKIN_WEBHOOKS_EVENT_LOG", DEFAULT_LOG))
    f.add_argument("--poll", type=float, default=0.5, help="seconds between looks at the log")
    f.add_argument(
        "--every", type=float, default=300.0,
        help="seconds after which the command runs even without new pings (audit recovery)",
    )  # fmt: skip
    f.add_argument("argv", metavar="command", nargs=argparse.REMAINDER, help="-- then the command")
    return p


def die_with_parent() -> None:
    """SIGTERM this process once the process named by ``$WELKIN_WEBHOOKS_PARENT_PID`` is gone
    (set by ``welkin_webhooks.testing``: a crashed test run leaves no orphan receiver).
    """
    parent = os.environ.get("WELKIN_WEBHOOKS_PARENT_PID", "")
    if not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _open_log(args: argparse.Namespace) -> EventLog | None:
    """The event log of ``--event-log``, or None after one line on stderr (no URL in it)."""
    try:
        return open_event_log(args.event_log)
    except Exception as exc:  # noqa: BLE001 - any failure to open is the one line
        print(f"welkin-webhooks: cannot open the event log: {type(exc).__name__}", file=sys.stderr)
        return None


def _follow(args: argparse.Namespace) -> int:
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        print("welkin-webhooks follow: give the command after --.", file=sys.stderr)
        return 2
    event_log = _open_log(args)
    if event_log is None:
        return 2
    die_with_parent()
    try:
        return follow(command, event_log.head, poll=args.poll, every=args.every)
    finally:
        event_log.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``welkin-webhooks`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "follow":
        return _follow(args)
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        print(f"welkin-webhooks: set ${SECRET_ENV} (the webhook's header value).", file=sys.stderr)
        return 2
    event_log = _open_log(args)
    if event_log is None:
        return 2
    app = build_app(event_log, args.header, secret)
    die_with_parent()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    print(f"welkin-webhooks listening on http://{args.host}:{port}/welkin/webhook",
          file=sys.stderr, flush=True)  # fmt: skip
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # an access log line is harmless here, but keep logs value-free
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
