"""Argument checks az runs before a handler, as azure-cli command modules keep them: combinations and ranges of
arguments, refused before anything is read or written. Registered in commands.py (one per command, the checks in the
order the user reads them) and _params.py (``aks update``, whose core arguments keep their own validators).

Loaded with the command table of every aks command: it imports nothing but az's error classes.
"""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).
import os

from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

MAX_CHECK_TIMEOUT = 300.0  # seconds per target of the proxy check


def validate_validate_input(namespace):
    """`http-proxy validate`: one thing to validate, its options with it, and --strict or --fail-on."""
    ns = namespace
    given = [opt for opt, value in (("--config", ns.config), ("--template", ns.template),
                                    ("--terraform-plan", ns.terraform_plan)) if value]
    if not given:
        raise RequiredArgumentMissingError("Give what to validate: --config FILE, --template FILE or "
                                           "--terraform-plan FILE.")
    if len(given) > 1:
        raise MutuallyExclusiveArgumentError(f"Validate one thing at a time: {' and '.join(given)} were given.")
    if ns.parameters and not ns.template:
        raise MutuallyExclusiveArgumentError("--parameters go with --template.")
    if (ns.resource_group_name or ns.name) and not ns.config:
        raise MutuallyExclusiveArgumentError("-g/-n compare a --config file with a cluster; a template or plan "
                                             "names its own clusters.")
    if ns.strict and ns.fail_on not in (None, "warning"):
        raise MutuallyExclusiveArgumentError(f"--strict is --fail-on warning; drop it or --fail-on {ns.fail_on}.")


def validate_generate_source(namespace):
    """`http-proxy generate`: options, or --from-cluster with the cluster and nothing else."""
    ns = namespace
    if (ns.resource_group_name or ns.name) and not ns.from_cluster:
        raise RequiredArgumentMissingError("--resource-group/--name read a cluster only with --from-cluster: add it, "
                                           "or drop them.")
    if not ns.from_cluster:
        return
    options = {"--http-proxy": ns.http_proxy, "--https-proxy": ns.https_proxy, "--no-proxy": ns.no_proxy,
               "--trusted-ca-file": ns.trusted_ca_files, "--enabled": ns.enabled is not None,
               "--no-in-cluster-suffixes": ns.no_in_cluster_suffixes}
    given = [option for option, value in options.items() if value]
    if given:
        raise MutuallyExclusiveArgumentError(
            f"--from-cluster writes the cluster's config as it is; drop {', '.join(given)} (edit the file afterwards, "
            "then check it with az aks http-proxy diff).")
    if not ns.resource_group_name or not ns.name:
        raise RequiredArgumentMissingError("--from-cluster needs the cluster: --resource-group/-g and --name/-n.")


def validate_check_arguments(namespace):
    """`http-proxy check`: the cluster options go with --from-cluster; --timeout in range (made a float)."""
    ns = namespace
    if ns.nodepool_name and not ns.from_cluster:
        raise RequiredArgumentMissingError("--nodepool-name picks the node --from-cluster runs on: add --from-cluster.")
    if ns.from_cluster and not (ns.resource_group_name and ns.name):
        raise RequiredArgumentMissingError(
            "--from-cluster needs the cluster: add --resource-group and --name.")
    if (ns.resource_group_name or ns.name) and not ns.from_cluster:
        raise RequiredArgumentMissingError(
            "--resource-group and --name select the cluster to check from: add --from-cluster (or drop them to "
            "check from this machine).")
    ns.timeout = check_timeout_seconds(ns.timeout)


def check_timeout_seconds(value) -> float:
    """The proxy check's seconds per target, from --timeout or az config aksproxy.check_timeout."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= MAX_CHECK_TIMEOUT:
        raise InvalidArgumentValueError(
            f"--timeout {value}: give the seconds to wait for each target, more than 0 and at most "
            f"{MAX_CHECK_TIMEOUT:g}.")
    return seconds


def validate_check_proxy_from(namespace):
    """`aks update --check-proxy-from`: only with --check-proxy."""
    if namespace.check_proxy_from and not namespace.check_proxy:
        raise RequiredArgumentMissingError("--check-proxy-from says where --check-proxy probes from: add --check-proxy.")


def validate_upgrade_nodes_timeout(namespace):
    """`http-proxy upgrade-nodes --timeout`: a positive number of seconds."""
    if namespace.timeout is not None and namespace.timeout <= 0:
        raise InvalidArgumentValueError(f"--timeout must be a positive number of seconds; got {namespace.timeout}.")


def validate_audit_arguments(namespace):
    """`http-proxy audit`: the subscriptions given one way, --expiring-within not negative, --report into a folder
    that exists."""
    validate_fleet_selection(namespace)
    if namespace.expiring_within is not None and namespace.expiring_within < 0:
        raise InvalidArgumentValueError(f"--expiring-within must be 0 or more days, got {namespace.expiring_within}.")
    validate_report_folder(namespace)


def validate_report_folder(namespace):
    """--report: the HTML file's folder exists (checked before any cluster is read, to not lose the run's work)."""
    report = namespace.report
    if report is not None and not os.path.isdir(os.path.dirname(os.path.abspath(report))):
        raise InvalidArgumentValueError(f"--report {report}: the folder does not exist; no cluster was read.")


def validate_fleet_selection(namespace):
    """`audit`, `rollout plan`: the subscriptions to read are given one way."""
    if namespace.subscriptions and namespace.all_subscriptions:
        raise MutuallyExclusiveArgumentError("Use --subscriptions or --all-subscriptions, not both.")


def validate_rollout_plan(namespace):
    """`rollout plan`: the subscriptions given one way, one strategy source, and a fleet that selects its members
    itself."""
    validate_fleet_selection(namespace)
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


def validate_rollout_apply(namespace):
    """`rollout apply`: a failure budget, a timeout and --stop-after that make sense."""
    from azext_aksproxy.fleet.resume import (
        parse_duration,  # a pure module: loaded only when apply runs
    )

    if namespace.allowed_failures < 0 or namespace.timeout <= 0:
        raise InvalidArgumentValueError("--allowed-failures must be 0 or more and --timeout more than 0.")
    if namespace.stop_after is not None:
        try:
            parse_duration(namespace.stop_after)
        except ValueError as exc:
            raise InvalidArgumentValueError(f"--stop-after: {exc}.") from None
