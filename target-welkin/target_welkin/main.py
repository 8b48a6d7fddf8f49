"""The ``target-welkin`` command, with ``--test``: the check ``meltano test`` runs."""

from __future__ import annotations

import typing as t

import click
from welkin_client.cli import run_cli

from target_welkin.limits import ValueLimitsError
from target_welkin.settings import ConfigurationError, RejectRatioExceeded
from target_welkin.target import TargetWelkin


def _nested(value: t.Any) -> t.Any:  # noqa: ANN401 - any setting's value
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}``: how Meltano's environment spells nested settings.

    ``meltano test`` passes settings only as environment variables (``--config ENV``),
    where an object setting such as ``streams`` arrives with dotted keys.
    """
    if not isinstance(value, dict) or not any("." in str(key) for key in value):
        return value
    nested: dict[str, t.Any] = {}
    for key, item in value.items():
        *parents, leaf = str(key).split(".")
        level = nested
        for parent in parents:
            level = level.setdefault(parent, {})
        level[leaf] = item
    return nested


def connection_test(ctx: click.Context, _param: click.Parameter, value: bool) -> None:  # noqa: FBT001 - click's callback signature
    """``--test``: check every setting, fetch a token and read the instance's CDT formation.

    Nothing is read from stdin and nothing is written to Welkin.
    """
    if not value:
        return
    given: t.Any = ctx.params.get("config")  # singer-sdk's parsed --config files
    config = dict(getattr(given, "config", None) or {})
    if getattr(given, "parse_env", False):
        config.update(
            TargetWelkin(config=dict(config), parse_env_config=True, validate_config=False).config
        )
    target = TargetWelkin(
        config={name: _nested(value) for name, value in config.items()}, validate_config=True
    )
    target.run.connection.check_credentials()
    cdts = len(target.run.connection.cdt_formations())
    target.logger.info("Connection test passed: token issued, instance answered (%d CDTs).", cdts)
    ctx.exit(0)


def add_test_option(command: click.Command) -> None:
    """Give the target's command the ``--test`` flag taps have."""
    command.params.append(
        click.Option(
            ["--test"],
            is_flag=True,
            expose_value=False,
            callback=connection_test,
            help="Check the settings and the connection to Welkin, then exit; writes nothing.",
        )
    )


def main() -> None:
    """Run the target: expected errors end in one line and exit code 1, no traceback."""
    run_cli(
        TargetWelkin,
        (ConfigurationError, RejectRatioExceeded, ValueLimitsError),
        extend=add_test_option,
    )


if __name__ == "__main__":
    main()
