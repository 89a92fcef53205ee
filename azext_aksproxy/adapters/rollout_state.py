"""Reads what the rollout rules (rollout.pools) need from Azure: the node resource group's scale set
instances (latestModelApplied per pool) and the aksManagedNodeOSUpgradeSchedule maintenance window.

Every read is best effort: a caller without access to the node resource group, or a cluster without a window, gets
"unknown" / None with the reason, never an error, so `show`, `diff` and `update` still work.
"""
from __future__ import annotations

from knack.log import get_logger

from azext_aksproxy.adapters.cluster_write import service_error_text
from azext_aksproxy.proxy_config.cluster import properties

logger = get_logger(__name__)

POOL_TAG = "aks-managed-poolName"  # the tag AKS puts on each pool's scale set in the node resource group


def node_models(cli_ctx, cluster: dict):
    """({pool name lower: NodeModel}, "") or (None, why they could not be read)."""
    from concurrent.futures import ThreadPoolExecutor

    from azure.core.exceptions import AzureError

    from azext_aksproxy._client_factory import cf_compute
    from azext_aksproxy.rollout.pools import NodeModel

    node_rg = properties(cluster).get("nodeResourceGroup")
    if not node_rg:
        return None, "the cluster names no node resource group"
    try:
        compute = cf_compute(cli_ctx)
        pools = {}
        for scale_set in compute.virtual_machine_scale_sets.list(node_rg):
            pool = (scale_set.tags or {}).get(POOL_TAG)
            if pool:
                pools[pool.lower()] = scale_set.name

        def count(scale_set_name: str) -> NodeModel:
            vms = list(compute.virtual_machine_scale_set_vms.list(node_rg, scale_set_name))
            return NodeModel(len(vms), sum(1 for vm in vms if vm.latest_model_applied))

        if not pools:
            return {}, ""
        with ThreadPoolExecutor(max_workers=min(8, len(pools))) as reads:
            return dict(zip(pools, reads.map(count, pools.values()))), ""
    except AzureError as ex:  # no access, throttled past az's retries, a broken connection: unknown, not fatal
        logger.info("Could not read the scale sets of %s: %s", node_rg, service_error_text(ex))
        return None, f"{node_rg}: {service_error_text(ex)}"


def maintenance_window(cli_ctx, resource_group_name: str, name: str):
    """(the aksManagedNodeOSUpgradeSchedule configuration as JSON or None when there is none, "") or (None, why it
    could not be read)."""
    from azure.core.exceptions import (
        AzureError,
        HttpResponseError,
        ResourceNotFoundError,
    )

    from azext_aksproxy._client_factory import cf_maintenance_configurations
    from azext_aksproxy.rollout.pools import NODE_OS_WINDOW

    try:
        config = cf_maintenance_configurations(cli_ctx).get(resource_group_name, name, NODE_OS_WINDOW)
        return config.as_dict(), ""
    except ResourceNotFoundError:
        return None, ""
    except HttpResponseError as ex:
        if ex.status_code == 404:
            return None, ""
        return None, service_error_text(ex)
    except AzureError as ex:
        return None, service_error_text(ex)


def disruption_gate(cli_ctx, resource_group_name: str, name: str, cluster: dict):
    """The node disruption gate for a reimage now; the window is read only when the policy depends on it."""
    from azext_aksproxy.proxy_config.x509ext import aware_now
    from azext_aksproxy.rollout.pools import IN_WINDOW
    from azext_aksproxy.rollout.pools import disruption_gate as gate

    props = properties(cluster)
    policy = str((props.get("nodeDisruptionProfile") or {}).get("nodeDisruptionPolicy") or "")
    config, unreadable = (maintenance_window(cli_ctx, resource_group_name, name)
                          if policy.lower() == IN_WINDOW.lower() else (None, ""))
    return gate(cluster, config, aware_now(), unreadable)
