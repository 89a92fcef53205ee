"""The node resource group's scale sets, read-only: one Microsoft.Compute virtualMachineScaleSets per VMSS pool,
tagged aks-managed-poolName, and its instances with latestModelApplied, the trace of whether the nodes run the
scale set's latest model (so the cluster's current proxy config).

Shapes from the Microsoft.Compute REST spec (VirtualMachineScaleSetVM.properties.latestModelApplied, read-only)
and azure-mgmt-compute. Modelled: one scale set per pool, `count` instances (none for a stopped pool), all of a
pool's instances on or off the latest model together. A guess: the scale set's name pattern and that the real
service flips instances one by one during a roll (here: all at the end of the operation).
"""
from __future__ import annotations

import hashlib

from .state import SUBSCRIPTION_ID, Cluster, Store
from .web import Request, Response, Router, error, rg_not_found

VMSS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets"
POOL_TAG = "aks-managed-poolName"


def _scale_set_name(cluster: Cluster, pool: dict) -> str:
    digits = int(hashlib.sha256(f"{cluster.rg}/{cluster.name}/{pool['name']}".lower().encode()).hexdigest()[:8], 16)
    return f"aks-{pool['name']}-{digits % 10**8:08d}-vmss"


def _node_pools(store: Store, node_rg: str) -> list:
    """(cluster, pool) for every VMSS pool whose nodes live in ``node_rg``."""
    return [(c, p) for c in store.clusters.values()
            if str(c.props.get("nodeResourceGroup", "")).lower() == node_rg.lower()
            for p in c.pools() if str(p.get("type", "VirtualMachineScaleSets")).lower() == "virtualmachinescalesets"]


def _scale_set(cluster: Cluster, pool: dict) -> dict:
    name = _scale_set_name(cluster, pool)
    node_rg = cluster.props["nodeResourceGroup"]
    return {"id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{node_rg}/providers/Microsoft.Compute/"
                  f"virtualMachineScaleSets/{name}",
            "name": name, "type": "Microsoft.Compute/virtualMachineScaleSets", "location": cluster.resource["location"],
            "tags": {POOL_TAG: pool["name"], "aks-managed-orchestrator": "Kubernetes"},
            "sku": {"name": pool.get("vmSize"), "tier": "Standard", "capacity": _instances(pool)},
            "properties": {"provisioningState": "Succeeded", "upgradePolicy": {"mode": "Manual"}}}


def _instances(pool: dict) -> int:
    if str((pool.get("powerState") or {}).get("code", "")).lower() == "stopped":
        return 0
    return int(pool.get("count") or 0)


def register(router: Router, store: Store) -> None:
    def list_sets(req: Request) -> Response:
        if store.resource_group(req.params["rg"]) is None and not _node_pools(store, req.params["rg"]):
            return rg_not_found(req.params["rg"])
        return Response(200, {"value": [_scale_set(c, p) for c, p in _node_pools(store, req.params["rg"])]})

    def list_vms(req: Request) -> Response:
        for cluster, pool in _node_pools(store, req.params["rg"]):
            name = _scale_set_name(cluster, pool)
            if name.lower() != req.params["vmss"].lower():
                continue
            applied = cluster.model_applied.get(pool["name"].lower(), True)
            base = _scale_set(cluster, pool)["id"]
            return Response(200, {"value": [
                {"id": f"{base}/virtualMachines/{i}", "name": f"{name}_{i}", "instanceId": str(i),
                 "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                 "location": cluster.resource["location"],
                 "properties": {"latestModelApplied": applied, "provisioningState": "Succeeded",
                                "osProfile": {"computerName": f"{name[:-5]}{i:06d}"}}}
                for i in range(_instances(pool))]})
        return error(404, "ResourceNotFound",
                     f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{req.params['vmss']}' under resource "
                     f"group '{req.params['rg']}' was not found.")

    router.add("GET", VMSS, list_sets)
    router.add("GET", VMSS + "/{vmss}/virtualMachines", list_vms)
