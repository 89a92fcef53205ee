"""Argument checks, run by az before a command's handler (az's convention: registered in commands.py), so a bad
combination is refused before anything is read or written. Imports stay inside the functions: az imports this
module with the command table, on every run (tests/e2e/test_lazy_imports.py)."""
from __future__ import annotations


def validate_rollout_plan(namespace) -> None:
    """`rollout plan`: one strategy source; a fleet selects its members itself."""
    from azure.cli.core.azclierror import (
        InvalidArgumentValueError,
        RequiredArgumentMissingError,
    )

    given = [n for n in ("stages", "strategy_file", "fleet_strategy") if getattr(namespace, n, None)]
    if len(given) > 1:
        raise InvalidArgumentValueError("Use one of --stages, --strategy-file and --fleet-strategy.")
    if namespace.fleet_strategy and not namespace.fleet_name:
        raise InvalidArgumentValueError("--fleet-strategy needs --fleet-name and --fleet-resource-group.")
    if namespace.fleet_name and (namespace.subscriptions or namespace.all_subscriptions):
        raise InvalidArgumentValueError("--fleet-name selects the fleet's members: drop --subscriptions and "
                                        "--all-subscriptions.")
    if namespace.fleet_name and not namespace.fleet_resource_group:
        raise RequiredArgumentMissingError("--fleet-name needs --fleet-resource-group.")


def validate_rollout_apply(namespace) -> None:
    """`rollout apply`: a budget, a timeout and --stop-after that make sense."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.fleet.resume import parse_duration

    if namespace.allowed_failures < 0 or namespace.timeout <= 0:
        raise InvalidArgumentValueError("--allowed-failures must be 0 or more and --timeout more than 0.")
    if namespace.stop_after is not None:
        try:
            parse_duration(namespace.stop_after)
        except ValueError as exc:
            raise InvalidArgumentValueError(f"--stop-after: {exc}.") from None


def validate_report_folder(namespace) -> None:
    """--report: its folder must exist before any cluster is read."""
    import os

    from azure.cli.core.azclierror import InvalidArgumentValueError

    report = getattr(namespace, "report", None)
    if report is not None and not os.path.isdir(os.path.dirname(os.path.abspath(report))):
        raise InvalidArgumentValueError(f"--report {report}: the folder does not exist; no cluster was read.")
