"""The ``target-welkin`` command: the SDK's CLI, with expected errors ending in one line.

An expected error (settings that cannot work, credentials or permissions Welkin
refuses, Welkin unreachable after every retry, more rejects than
``max_reject_ratio`` allows) is logged as one line naming what failed, and the
command exits 1. Its message is already safe to log (status, method, route
template, setting or stream names); a traceback would add nothing but noise.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from target_welkin.limits import ValueLimitsError
from target_welkin.settings import ConfigurationError, RejectRatioExceeded
from target_welkin.target import TargetWelkin

EXPECTED: tuple[type[Exception], ...] = (
    ConfigurationError,
    RejectRatioExceeded,
    ValueLimitsError,
    FatalAPIError,  # welkin_client's classified errors (auth, permission, refusals)
    RetriableAPIError,  # still failing after max_retries attempts
    requests.exceptions.RequestException,  # the session names the route, never the URL
)


def main() -> None:
    """Run the target; an expected error ends in one line on stderr and exit code 1."""
    try:
        TargetWelkin.cli()
    except EXPECTED as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        logging.getLogger(TargetWelkin.name).error("Run failed: %s", message)  # noqa: TRY400
        sys.exit(1)


if __name__ == "__main__":
    main()
