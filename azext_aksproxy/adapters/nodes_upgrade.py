"""Node image upgrades that reach every pool and are followed to the end.

`az aks http-proxy upgrade-nodes`, and the pool phase of `az aks update --upgrade-node-image`. Which pools to start,
follow, skip or refuse is decided in nodes.plan (pure); this module talks to ARM and to the user. Every pool
is driven by its own thread (nodes_pool_runs.py: start, wait out 409s, follow the LRO), so N pools take about as long as the
slowest; nodes_pool_progress.py says how they are doing.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import time

from knack.log import get_logger

from azext_aksproxy.adapters.azure_reads import error_text
from azext_aksproxy.adapters.nodes_pool_runs import PoolRun, run_all
from azext_aksproxy.nodes import plan as plan_mod
from azext_aksproxy.nodes.plan import PoolResult, PoolStep

logger = get_logger(__name__)



def http_proxy_upgrade_nodes(cmd, client, resource_group_name, name, nodepool_names=None, no_wait=False,
                             yes=False, timeout=None):  # pylint: disable=unused-argument
    return upgrade_node_images(cmd, resource_group_name, name,
                               plan_mod.NodeRollout(plan_mod.UPGRADE_NODES, no_wait=no_wait, assume_yes=yes),
                               nodepool_names=nodepool_names, timeout=timeout)


def upgrade_node_images(cmd, resource_group_name, name, rollout: plan_mod.NodeRollout, nodepool_names=None,
                        timeout=None):
    """Upgrade the node image of the cluster's pools and return the per-pool rows (list of dicts).

    A pool failing does not stop the others; when any pool did not end well the command exits non-zero after
    its output is printed. When the phase follows `az aks update` (``rollout.follows_update``: its output stays the
    cluster, as scripts expect) the rows are logged as a table on stderr instead, and a failure to even start is
    reported the same way, since the cluster update itself has already succeeded. With ``no_wait`` az discards the
    output (its convention for every --no-wait), so the rows go to stderr too.

    ``CARRY_PROXY_CHANGE`` (`az aks update --upgrade-node-image`): roll each node at most once. Pools whose nodes
    already run the current proxy config (today's AKS reimaged them as part of the update) get no node image
    upgrade; pools whose nodes do not (the older service) are upgraded; pools it cannot tell are left alone and
    named.
    """
    from azure.cli.core.azclierror import AzCLIError
    from azure.core.exceptions import HttpResponseError

    from azext_aksproxy.adapters.findings_to_az import exit_after_output

    resume = f"az aks http-proxy upgrade-nodes -g {resource_group_name} -n {name}"
    try:
        results = _upgrade(cmd, resource_group_name, name, rollout, nodepool_names, timeout, resume)
    except (AzCLIError, HttpResponseError) as ex:
        if not rollout.follows_update:
            raise
        exit_after_output(cmd.cli_ctx, f"The cluster update succeeded, but the node image upgrade could not start: "
                                       f"{error_text(ex)} Retry it with `{resume} --yes`.")
        return None
    if results is None:
        return None
    rows = [r.to_dict() for r in results]
    if rollout.follows_update or rollout.no_wait:  # az prints no output for --no-wait, as for every az command
        carrying = rollout.purpose == plan_mod.CARRY_PROXY_CHANGE
        logger.warning("%s:\n%s", "Proxy config rollout" if carrying else "Node image upgrade", _text_table(rows))
    failure = plan_mod.outcome_message(results, rollout.no_wait, resume)
    if failure:
        exit_after_output(cmd.cli_ctx, failure)
    return None if rollout.follows_update else rows


def _upgrade(cmd, resource_group_name, name, rollout: plan_mod.NodeRollout, nodepool_names, timeout, resume):
    from azure.cli.core.azclierror import InvalidArgumentValueError, ValidationError

    from azext_aksproxy._client_factory import cf_agent_pools, cf_managed_clusters
    from azext_aksproxy.adapters.azure_reads import (
        latest_node_images,
        node_models,
        raw_cluster,
    )
    from azext_aksproxy.cluster.pools import proxy_config_state
    from azext_aksproxy.config.arm import agent_pools

    client = cf_agent_pools(cmd.cli_ctx)
    cluster = raw_cluster(cf_managed_clusters(cmd.cli_ctx), resource_group_name, name)
    pools = agent_pools(cluster)  # the cluster's GET holds its pools: no separate list
    models, unreadable = node_models(cmd.cli_ctx, cluster)
    states = {p["name"].lower(): proxy_config_state(p, models, unreadable) for p in pools}
    latest = {} if not rollout.newer_image_wanted else latest_node_images(
        client, resource_group_name, name, [p["name"] for p in pools if plan_mod.needs_latest_image(p)])
    try:
        plan = plan_mod.plan_upgrade(pools, latest, nodepool_names, {k: v[0] for k, v in states.items()},
                                     newer_image_wanted=rollout.newer_image_wanted)
    except plan_mod.UnknownPoolsError as ex:
        raise InvalidArgumentValueError(f"--nodepool-names: {ex} Fix: name existing pools.") from ex
    if not rollout.newer_image_wanted:
        plan = _with_latest_for_started(client, resource_group_name, name, plan)
        unknown = [s.pool for s in plan.steps if states[s.pool.lower()][0] == plan_mod.UNKNOWN
                   and s.action == plan_mod.SKIP]
        if unknown:
            logger.warning("Cannot tell whether the nodes of %s run the new proxy config (%s), so they are not "
                           "rolled again. To roll them anyway: %s --nodepool-names %s --yes", ", ".join(unknown),
                           states[unknown[0].lower()][1], resume, " ".join(unknown))
    refusal = plan.refusal()
    if refusal:
        raise ValidationError(refusal)
    to_start = plan.having(plan_mod.START)
    if to_start and not rollout.assume_yes and not _confirm(name, to_start):
        logger.warning("Cancelled: no node image upgrade was started.")
        return None
    deadline = None if timeout is None else time.monotonic() + timeout
    runs = {s.pool: PoolRun(client, resource_group_name, name, s, rollout.no_wait)
            for s in plan.steps if s.action in (plan_mod.START, plan_mod.FOLLOW)}
    if runs:
        run_all(cmd.cli_ctx, list(runs.values()), deadline, timeout, resume)
    return [runs[s.pool].result if s.pool in runs
            else _not_run(s, states[s.pool.lower()], rollout) for s in plan.steps]


def _not_run(step: PoolStep, state: tuple[str, str], rollout: plan_mod.NodeRollout) -> PoolResult:
    """The row of a pool nothing was started for: after a proxy update, a pool whose nodes run the new config has
    it (carried by AKS's own reimage when the update changed it), so the change reached it."""
    if rollout.purpose == plan_mod.CARRY_PROXY_CHANGE and state[0] == plan_mod.YES and step.action == plan_mod.SKIP:
        how = "reimaged by AKS with the update" if rollout.proxy_changed else "the update changed no proxy setting"
        return PoolResult(step.pool, step.current_image, step.current_image, plan_mod.SUCCEEDED, None,
                          f"{how}: {state[1]}; no node image upgrade needed")
    return plan_mod.skipped(step)


def _with_latest_for_started(client, resource_group_name: str, name: str, plan):
    """The latest image of the pools that will be upgraded after all (for their rows), read only for those."""
    from azext_aksproxy.adapters.azure_reads import latest_node_images

    started = [s for s in plan.steps if s.action == plan_mod.START]
    if not started:
        return plan
    latest = latest_node_images(client, resource_group_name, name, [s.pool for s in started])
    return plan_mod.Plan(tuple(PoolStep(s.pool, s.action, s.current_image, latest.get(s.pool.lower()), s.reason)
                               if s.action == plan_mod.START else s for s in plan.steps))


def _confirm(cluster: str, steps: list[PoolStep]) -> bool:
    from azure.cli.core.azclierror import NoTTYError
    from knack.prompting import NoTTYException, prompt_y_n

    names = ", ".join(s.pool for s in steps)
    try:
        return prompt_y_n(f"Start a node image upgrade of pool(s) {names} of cluster {cluster}? Their nodes are "
                          "reimaged a few at a time (per each pool's upgradeSettings).", default="n")
    except NoTTYException:
        raise NoTTYError(f"Cannot ask for confirmation to upgrade the node image of {names}: stdin is not a "
                         "terminal. Pass --yes to start without asking.") from None


def _text_table(rows: list[dict]) -> str:
    from tabulate import tabulate

    from azext_aksproxy._format import node_image_table_format

    return tabulate(node_image_table_format(rows), headers="keys", tablefmt="simple", disable_numparse=True)
