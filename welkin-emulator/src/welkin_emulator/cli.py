"""Command line: ``welkin-emulator serve …`` and ``welkin-emulator seed …``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from .config import DEFAULT_INSTANCE, DEFAULT_TENANT, load_config
from .faults import FaultSettings

CONTROL_TOKEN_ENV = "WELKIN_EMULATOR_CONTROL_TOKEN"  # noqa: S105 - a variable name
#: ``Name: value`` of the --webhook-url webhook's header (a secret: never on the command line).
WEBHOOK_HEADER_ENV = "WELKIN_EMULATOR_WEBHOOK_HEADER"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="welkin-emulator",
        description="A local emulator of the Welkin Health V8 REST API, with fault injection.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve the emulated API until SIGTERM/SIGINT")
    s.add_argument("--host", default="127.0.0.1", help="loopback unless --allow-remote")
    s.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host beyond loopback (logs a warning; set a control token too)",
    )
    s.add_argument(
        "--control-token",
        default=os.environ.get(CONTROL_TOKEN_ENV) or None,
        help=f"bearer token required on /_emulator/* but health (better: ${CONTROL_TOKEN_ENV})",
    )
    s.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    s.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    s.add_argument("--config", help="JSON file with tenants, instances and API clients")
    s.add_argument("--verbose", action="store_true", help="log method, route template, status")
    d = FaultSettings()
    s.add_argument("--latency-ms", type=float, default=d.latency_ms)
    s.add_argument("--error-rate", type=float, default=d.error_rate, help="P(500/502/503)")
    s.add_argument("--throttle-rate", type=float, default=d.throttle_rate, help="P(429)")
    s.add_argument("--retry-after", type=int, default=d.retry_after, help="seconds, for 429s")
    s.add_argument("--rate-limit", type=float, default=d.rate_limit, help="global req/s, 0=off")
    s.add_argument("--token-lifetime", type=float, default=d.token_lifetime, help="seconds")
    s.add_argument(
        "--token-limit", type=int, default=d.token_limit, help="token requests per 5 min, 0=off"
    )
    s.add_argument("--drop-rate", type=float, default=d.drop_rate, help="P(connection dropped)")
    s.add_argument("--malformed-rate", type=float, default=d.malformed_rate, help="P(bad JSON)")
    s.add_argument("--timeout-seconds", type=float, default=d.timeout_seconds)
    s.add_argument("--fault-seed", type=int, default=d.seed)
    s.add_argument(
        "--export-exclusive-start",
        action="store_true",
        help="export returns updatedAt > start (default: >=)",
    )

    s.add_argument(
        "--webhook-url",
        help=f"POST a webhook ping here after every write (header from ${WEBHOOK_HEADER_ENV})",
    )

    e = sub.add_parser("seed", help="fill the database with deterministic synthetic data")
    e.add_argument("--db", required=True)
    e.add_argument("--patients", type=int, required=True)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--tenant", default=DEFAULT_TENANT)
    e.add_argument("--instance", default=DEFAULT_INSTANCE)
    return p


def die_with_parent() -> None:
    """SIGTERM this process when the process named by ``WELKIN_EMULATOR_PARENT_PID`` is gone.

    ``welkin_emulator.testing`` sets the variable so that a crashed test run leaves no orphan
    servers. A watchdog thread polls the parent pid: unlike Linux's ``PR_SET_PDEATHSIG`` it does
    not fire when merely the thread that started the server exits, and it works on macOS too.
    """
    parent = os.environ.get("WELKIN_EMULATOR_PARENT_PID")
    if not parent or not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def cli_webhook(url: str) -> dict[str, Any]:
    """The ``--webhook-url`` webhook, its header from ``$WELKIN_EMULATOR_WEBHOOK_HEADER``."""
    header = os.environ.get(WEBHOOK_HEADER_ENV, "")
    name, sep, value = header.partition(":")
    if header and not sep:
        raise ValueError(f"${WEBHOOK_HEADER_ENV} must look like 'Name: value'")
    headers = {name.strip(): value.strip()} if header else {}
    return {"name": "wh-emulator", "title": "Emulator webhook", "url": url, "headers": headers}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``welkin-emulator`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from .server import is_loopback, serve

        if not is_loopback(args.host) and not args.allow_remote:
            print(
                "welkin-emulator: --host is beyond loopback (127.0.0.1, ::1, localhost); "
                "pass --allow-remote to serve other machines anyway.",
                file=sys.stderr,
            )
            return 2
        die_with_parent()
        faults = FaultSettings()
        try:
            faults.update(
                {
                    "latency_ms": args.latency_ms,
                    "error_rate": args.error_rate,
                    "throttle_rate": args.throttle_rate,
                    "retry_after": args.retry_after,
                    "rate_limit": args.rate_limit,
                    "token_lifetime": args.token_lifetime,
                    "token_limit": args.token_limit,
                    "drop_rate": args.drop_rate,
                    "malformed_rate": args.malformed_rate,
                    "timeout_seconds": args.timeout_seconds,
                    "seed": args.fault_seed,
                    "export_exclusive_start": int(args.export_exclusive_start),
                }
            )
            config = load_config(args.config)
            if args.webhook_url:
                config.webhooks.append(cli_webhook(args.webhook_url))
        except ValueError as exc:
            print(f"welkin-emulator: {exc}", file=sys.stderr)
            return 2
        serve(
            args.host,
            args.port,
            args.db,
            config,
            faults,
            verbose=args.verbose,
            control_token=args.control_token,
        )
        return 0
    from .seed import seed_database

    started = time.perf_counter()
    counts = seed_database(args.db, args.patients, seed=args.seed, tenant=args.tenant,
                           instance=args.instance)  # fmt: skip
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    print(f"welkin-emulator: seeded {summary} in {elapsed:.1f}s", file=sys.stderr)
    return 0
