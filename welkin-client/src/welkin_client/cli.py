"""The plugins' commands: an expected error ends the run in one line and exit code 1.

singer-sdk logs any exception that leaves its command with a 60-160 line traceback.
For the errors a user causes and can fix (settings, credentials, an unreachable
host, refused writes past a limit) the traceback only hides the one line that
says what to check; it is logged at DEBUG, for whoever asks for it.
"""

from __future__ import annotations

import logging
import sys
import typing as t

import click
from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError

from welkin_client.errors import WelkinAPIError, WelkinConnectionError

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase

EXPECTED: tuple[type[Exception], ...] = (
    ConfigValidationError,
    WelkinAPIError,
    WelkinConnectionError,
    RetriableAPIError,  # still failing after max_retries attempts; names the route only
)


def run_cli(
    plugin: type[PluginBase],
    expected: tuple[type[Exception], ...] = (),
    *,
    extend: t.Callable[[click.Command], None] | None = None,
) -> None:
    """Run ``plugin``'s singer-sdk command; end expected errors with one line, exit 1.

    ``extend`` may add options to the command first (target-welkin's ``--test``).
    """
    command: click.Command = plugin.cli
    if extend is not None:
        extend(command)
    try:
        command()
    except (*EXPECTED, *expected) as exc:
        logger = logging.getLogger(plugin.name)
        lines = exc.errors if isinstance(exc, ConfigValidationError) and exc.errors else [exc]
        for line in lines:
            logger.error("%s", line)
        logger.debug("Where the error above was raised:", exc_info=exc)
        sys.exit(1)
