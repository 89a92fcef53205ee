"""_validators: the argument checks az runs before a handler, each refusal with its error class and message (the e2e
tests show that nothing is read or written after one)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import (
    InvalidArgumentValueError,
    MutuallyExclusiveArgumentError,
    RequiredArgumentMissingError,
)

from azext_aksproxy import _validators as checks


def namespace(defaults: dict, **given) -> SimpleNamespace:
    """What az hands a validator: every argument of the command, the given ones set, the others at their default."""
    assert set(given) <= set(defaults), set(given) - set(defaults)
    return SimpleNamespace(**{**defaults, **given})


VALIDATE = {"config": None, "resource_group_name": None, "name": None, "strict": False, "template": None,
            "parameters": None, "terraform_plan": None, "fail_on": None}
GENERATE = {"http_proxy": None, "https_proxy": None, "no_proxy": None, "trusted_ca_files": None, "enabled": None,
            "output_file": None, "overwrite_existing": False, "no_in_cluster_suffixes": False, "from_cluster": False,
            "resource_group_name": None, "name": None, "output_format": "json"}
CHECK = {"config": "p.json", "targets": None, "timeout": 10.0, "resource_group_name": None, "name": None,
         "from_cluster": False, "nodepool_name": None}
AUDIT = {"subscriptions": None, "all_subscriptions": False, "resource_group_name": None, "config": None,
         "expiring_within": None, "fail_on": "error", "report": None}


@pytest.mark.parametrize(("given", "error", "message"), [
    ({}, RequiredArgumentMissingError, "Give what to validate: --config FILE, --template FILE or --terraform-plan FILE."),
    ({"config": "c", "template": "t"}, MutuallyExclusiveArgumentError,
     "Validate one thing at a time: --config and --template were given."),
    ({"config": "c", "parameters": [["a=b"]]}, MutuallyExclusiveArgumentError, "--parameters go with --template."),
    ({"template": "t", "name": "c1"}, MutuallyExclusiveArgumentError,
     "-g/-n compare a --config file with a cluster; a template or plan names its own clusters."),
    ({"config": "c", "strict": True, "fail_on": "never"}, MutuallyExclusiveArgumentError,
     "--strict is --fail-on warning; drop it or --fail-on never."),
])
def test_validate_refuses_what_it_cannot_do_at_once(given, error, message):
    with pytest.raises(error) as info:
        checks.validate_validate_input(namespace(VALIDATE, **given))
    assert str(info.value) == message


@pytest.mark.parametrize("given", [
    {"config": "c"}, {"config": "c", "resource_group_name": "rg", "name": "c1", "strict": True},
    {"template": "t", "parameters": [["a=b"]], "fail_on": "warning", "strict": True}, {"terraform_plan": "p"},
])
def test_validate_accepts_one_input_with_its_options(given):
    checks.validate_validate_input(namespace(VALIDATE, **given))


def test_generate_from_cluster_takes_the_cluster_and_nothing_else():
    with pytest.raises(MutuallyExclusiveArgumentError) as info:
        checks.validate_generate_source(namespace(GENERATE, from_cluster=True, http_proxy="http://p:3128/",
                                                  enabled=False, no_in_cluster_suffixes=True))
    assert str(info.value).startswith("--from-cluster writes the cluster's config as it is; drop --http-proxy, "
                                      "--enabled, --no-in-cluster-suffixes (edit the file afterwards")
    with pytest.raises(RequiredArgumentMissingError, match="--from-cluster needs the cluster: --resource-group/-g"):
        checks.validate_generate_source(namespace(GENERATE, from_cluster=True, name="c1"))
    with pytest.raises(RequiredArgumentMissingError, match="read a cluster only with --from-cluster"):
        checks.validate_generate_source(namespace(GENERATE, http_proxy="http://p:3128/", resource_group_name="rg"))
    checks.validate_generate_source(namespace(GENERATE, from_cluster=True, resource_group_name="rg", name="c1",
                                              output_format="terraform", output_file="x.tf"))
    checks.validate_generate_source(namespace(GENERATE, http_proxy="http://p:3128/", enabled=True))


@pytest.mark.parametrize(("given", "message"), [
    ({"nodepool_name": "np"}, "--nodepool-name picks the node --from-cluster runs on: add --from-cluster."),
    ({"from_cluster": True, "resource_group_name": "rg"},
     "--from-cluster needs the cluster: add --resource-group and --name."),
    ({"name": "c1"}, "--resource-group and --name select the cluster to check from: add --from-cluster"),
])
def test_check_cluster_options_go_with_from_cluster(given, message):
    with pytest.raises(RequiredArgumentMissingError) as info:
        checks.validate_check_arguments(namespace(CHECK, **given))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(("value", "seconds"), [(10.0, 10.0), ("0.5", 0.5), (300, 300.0)])
def test_check_timeout_is_made_seconds(value, seconds):
    ns = namespace(CHECK, timeout=value, from_cluster=True, resource_group_name="rg", name="c1", nodepool_name="np")
    checks.validate_check_arguments(ns)
    assert ns.timeout == seconds and isinstance(ns.timeout, float)


@pytest.mark.parametrize("value", [0, -1, 300.5, "x", None])
def test_check_timeout_out_of_range_is_refused(value):
    with pytest.raises(InvalidArgumentValueError) as info:
        checks.validate_check_arguments(namespace(CHECK, timeout=value))
    assert str(info.value) == (f"--timeout {value}: give the seconds to wait for each target, more than 0 and at "
                               "most 300.")


def test_check_proxy_from_needs_check_proxy():
    with pytest.raises(RequiredArgumentMissingError, match="--check-proxy-from says where --check-proxy probes from"):
        checks.validate_check_proxy_from(SimpleNamespace(check_proxy_from="local", check_proxy=False))
    checks.validate_check_proxy_from(SimpleNamespace(check_proxy_from="local", check_proxy=True))
    checks.validate_check_proxy_from(SimpleNamespace(check_proxy_from=None, check_proxy=False))


def test_upgrade_nodes_timeout_is_positive_when_given():
    with pytest.raises(InvalidArgumentValueError, match=r"^--timeout must be a positive number of seconds; got 0\.$"):
        checks.validate_upgrade_nodes_timeout(SimpleNamespace(timeout=0))
    checks.validate_upgrade_nodes_timeout(SimpleNamespace(timeout=None))
    checks.validate_upgrade_nodes_timeout(SimpleNamespace(timeout=1))


def test_audit_refuses_a_negative_horizon_and_a_report_without_its_folder(tmp_path):
    with pytest.raises(InvalidArgumentValueError, match=r"^--expiring-within must be 0 or more days, got -1\.$"):
        checks.validate_audit_arguments(namespace(AUDIT, expiring_within=-1))
    missing = tmp_path / "no" / "r.html"
    with pytest.raises(InvalidArgumentValueError) as info:
        checks.validate_audit_arguments(namespace(AUDIT, report=str(missing)))
    assert str(info.value) == f"--report {missing}: the folder does not exist; no cluster was read."
    checks.validate_audit_arguments(namespace(AUDIT, expiring_within=0, report=str(tmp_path / "r.html")))
    checks.validate_audit_arguments(namespace(AUDIT))


PLAN = {"subscriptions": None, "all_subscriptions": False, "stages": None, "strategy_file": None,
        "fleet_strategy": None, "fleet_name": None, "fleet_resource_group": None}
APPLY = {"allowed_failures": 0, "timeout": 10800, "stop_after": None}


@pytest.mark.parametrize(("given", "error", "message"), [
    ({"subscriptions": ["a"], "all_subscriptions": True}, MutuallyExclusiveArgumentError,
     "Use --subscriptions or --all-subscriptions, not both."),
    ({"stages": "canary,rest", "strategy_file": "s.json"}, InvalidArgumentValueError,
     "Use one of --stages, --strategy-file and --fleet-strategy."),
    ({"fleet_strategy": "s"}, InvalidArgumentValueError,
     "--fleet-strategy needs --fleet-name and --fleet-resource-group."),
    ({"fleet_name": "f", "fleet_resource_group": "rg", "all_subscriptions": True}, InvalidArgumentValueError,
     "--fleet-name selects the fleet's members: drop --subscriptions and --all-subscriptions."),
    ({"fleet_name": "f"}, RequiredArgumentMissingError, "--fleet-name needs --fleet-resource-group."),
])
def test_rollout_plan_refuses_a_selection_or_strategy_given_two_ways(given, error, message):
    with pytest.raises(error) as info:
        checks.validate_rollout_plan(namespace(PLAN, **given))
    assert str(info.value) == message


@pytest.mark.parametrize("given", [{}, {"subscriptions": ["a", "b"], "stages": "canary,rest"},
                                   {"fleet_name": "f", "fleet_resource_group": "rg", "fleet_strategy": "s"}])
def test_rollout_plan_accepts_one_selection_and_one_strategy(given):
    checks.validate_rollout_plan(namespace(PLAN, **given))


@pytest.mark.parametrize(("given", "message"), [
    ({"allowed_failures": -1}, "--allowed-failures must be 0 or more and --timeout more than 0."),
    ({"timeout": 0}, "--allowed-failures must be 0 or more and --timeout more than 0."),
    ({"stop_after": "soon"}, "--stop-after: "),
])
def test_rollout_apply_refuses_a_negative_budget_no_time_or_a_duration_it_cannot_read(given, message):
    with pytest.raises(InvalidArgumentValueError) as info:
        checks.validate_rollout_apply(namespace(APPLY, **given))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("given", [{}, {"allowed_failures": 2, "stop_after": "5h30m"}])
def test_rollout_apply_accepts_a_budget_and_a_stop_after(given):
    checks.validate_rollout_apply(namespace(APPLY, **given))
