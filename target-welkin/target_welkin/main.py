"""The ``target-welkin`` command."""

from __future__ import annotations

from welkin_client.cli import run_cli

from target_welkin.limits import ValueLimitsError
from target_welkin.settings import ConfigurationError, RejectRatioExceeded
from target_welkin.target import TargetWelkin


def main() -> None:
    """Run the target: expected errors end in one line and exit code 1, no traceback."""
    run_cli(TargetWelkin, (ConfigurationError, RejectRatioExceeded, ValueLimitsError))


if __name__ == "__main__":
    main()
