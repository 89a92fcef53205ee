"""Terraform plans as `terraform show -json PLAN` writes them (format_version 1.x): every ``azurerm_kubernetes_cluster``
and every ``azapi_resource`` of type ``Microsoft.ContainerService/managedClusters@...``, with the proxy config the
apply would send (``change.after``), its node pools, add-ons, and for an update the cluster before the change.

Sources: Terraform's JSON output format docs (``format_version``, ``resource_changes[]``: ``address``, ``type``,
``change.actions``, ``before``, ``after``, ``after_unknown``, ``after_sensitive``); the azurerm provider's
``http_proxy_config`` block (``http_proxy``, ``https_proxy``, ``no_proxy``, ``trusted_ca``); azapi's ``body`` (an
object, or a JSON string in azapi 1.x).

Pure: no azure-cli import.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .declared import ClusterDecl, IacError, PoolDecl, Unknown

SUPPORTED_MAJOR = "1"
AZURERM_CLUSTER = "azurerm_kubernetes_cluster"
AZURERM_POOL = "azurerm_kubernetes_cluster_node_pool"
AZAPI = "azapi_resource"
_ARM_CLUSTER = "microsoft.containerservice/managedclusters@"
_ARM_POOL = "microsoft.containerservice/managedclusters/agentpools@"
# azurerm's http_proxy_config attributes and the REST keys they are sent as.
AZURERM_KEYS = {"http_proxy": "httpProxy", "https_proxy": "httpsProxy", "no_proxy": "noProxy",
                "trusted_ca": "trustedCa"}


def read_plan(text: str, source: str) -> dict[str, Any]:
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise IacError(f"{source} is not valid JSON: {exc}. Write it with: terraform show -json PLAN > plan.json") \
            from None
    if not isinstance(plan, dict) or "format_version" not in plan:
        hint = " It looks like an ARM template: use --template." if isinstance(plan, dict) and "resources" in plan \
            else ""
        raise IacError(f"{source} is not a Terraform plan in JSON (no format_version).{hint} Write it with: "
                       "terraform show -json PLAN > plan.json")
    major = str(plan["format_version"]).split(".")[0]
    if major != SUPPORTED_MAJOR:
        raise IacError(f"{source} is a Terraform plan of format_version {plan['format_version']}; aksproxy reads "
                       f"format {SUPPORTED_MAJOR}.x (terraform show -json).")
    if "resource_changes" not in plan and "values" in plan and "planned_values" not in plan:
        raise IacError(f"{source} is Terraform state, not a plan: write the plan with terraform plan -out PLAN, "
                       "then terraform show -json PLAN.")
    return plan


def _first(block: Any) -> dict[str, Any]:
    return block[0] if isinstance(block, list) and block and isinstance(block[0], dict) else {}


def _body(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _unknown_at(mask: Any, *keys: Any) -> bool:
    """Whether ``after_unknown`` (or ``after_sensitive``) marks the value at ``keys`` or any part of it."""
    for key in keys:
        if mask is True:
            return True
        if isinstance(mask, dict):
            mask = mask.get(key)
        elif isinstance(mask, list) and isinstance(key, int) and key < len(mask):
            mask = mask[key]
        else:
            return False
    return mask is True or (isinstance(mask, (list, dict)) and any(
        _unknown_at(m) for m in (mask if isinstance(mask, list) else mask.values())))


def plan_clusters(plan: Mapping[str, Any]) -> tuple[list[ClusterDecl], list[Unknown]]:
    """Every cluster the plan creates, updates or keeps (deleted ones have nothing to check), with its pools."""
    clusters: list[ClusterDecl] = []
    pools: list[tuple[Mapping[str, Any], PoolDecl]] = []
    for rc in plan.get("resource_changes") or []:
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
            continue
        change = rc.get("change") or {}
        actions = tuple(change.get("actions") or ())
        after = change.get("after")
        if "delete" in actions and "create" not in actions or not isinstance(after, dict):
            continue
        address = str(rc.get("address"))
        kind = str(rc.get("type"))
        arm_type = str(after.get("type", "")).lower()
        if kind == AZURERM_CLUSTER:
            clusters.append(_azurerm(address, actions, change))
        elif kind == AZAPI and arm_type.startswith(_ARM_CLUSTER):
            clusters.append(_azapi(address, actions, change))
        elif kind == AZURERM_POOL:
            pools.append((rc, PoolDecl(after.get("name"), address, after.get("os_type"), None,
                                       after.get("node_count"))))
        elif kind == AZAPI and arm_type.startswith(_ARM_POOL):
            props = _body(after.get("body")).get("properties") or {}
            pools.append((rc, PoolDecl(after.get("name"), address, props.get("osType"), props.get("type"),
                                       props.get("count"))))
    notes = _attach(plan, clusters, pools)
    return clusters, notes


def _attach(plan: Mapping[str, Any], clusters: list[ClusterDecl],
            pools: list[tuple[Mapping[str, Any], PoolDecl]]) -> list[Unknown]:
    """Each separate node pool to its cluster: by the configuration's reference, the known cluster id, or the
    plan's only cluster."""
    refs = _references(plan)
    by_address = {c.where: c for c in clusters}
    by_id = {str(c.properties.get("id", "")).lower(): c for c in clusters if c.properties.get("id")}
    notes = []
    for rc, pool in pools:
        after = (rc.get("change") or {}).get("after") or {}
        parent_id = str(after.get("kubernetes_cluster_id") or after.get("parent_id") or "").lower()
        target = by_id.get(parent_id) or next((by_address[a] for a in refs.get(str(rc.get("address")), [])
                                               if a in by_address), None)
        if target is None and len(clusters) == 1:
            target = clusters[0]
        if target is None:
            notes.append(Unknown(pool.path, "a node pool whose cluster is not in this plan; its pool rules are "
                                            "not checked"))
        else:
            target.pools.append(pool)
    return notes


def _references(plan: Mapping[str, Any]) -> dict[str, list[str]]:
    """Node pool address -> the cluster addresses its configuration refers to (root module only)."""
    out: dict[str, list[str]] = {}
    resources = ((plan.get("configuration") or {}).get("root_module") or {}).get("resources") or []
    for res in resources:
        if not isinstance(res, dict):
            continue
        expressions = res.get("expressions") or {}
        refs = [r for key in ("kubernetes_cluster_id", "parent_id")
                for r in (expressions.get(key) or {}).get("references") or []]
        base = [r.rsplit(".id", 1)[0] if r.endswith(".id") else r for r in refs]
        out[str(res.get("address"))] = base
    return out


def _azurerm_config(values: Mapping[str, Any]) -> dict[str, Any] | None:
    block = _first(values.get("http_proxy_config"))
    config = {rest: block[tf] for tf, rest in AZURERM_KEYS.items() if block.get(tf) not in (None, "", [])}
    return config or None


def _azurerm(address: str, actions: tuple[str, ...], change: Mapping[str, Any]) -> ClusterDecl:
    after = change.get("after") or {}
    base = f"{address}.http_proxy_config[0]"
    cluster = ClusterDecl(name=str(after.get("name") or address), where=address, config_path=base,
                          actions=actions, key_paths={rest: f"{base}.{tf}" for tf, rest in AZURERM_KEYS.items()})
    unknown, sensitive = change.get("after_unknown") or {}, change.get("after_sensitive") or {}
    if _unknown_at(unknown, "http_proxy_config") and not _first(after.get("http_proxy_config")):
        cluster.config = Unknown(base, "http_proxy_config is known only after apply")
    else:
        config = _azurerm_config(after) or {}
        for tf, rest in AZURERM_KEYS.items():
            if _unknown_at(unknown, "http_proxy_config", 0, tf):
                config[rest] = Unknown(f"{base}.{tf}", "known only after apply")
            if rest in config and _unknown_at(sensitive, "http_proxy_config", 0, tf):
                cluster.secure[rest] = _strings(config[rest])
        cluster.config = config or None
    pool = _first(after.get("default_node_pool"))
    if pool:
        cluster.pools.append(PoolDecl(pool.get("name"), f"{address}.default_node_pool[0]", "Linux",
                                      pool.get("type"), pool.get("node_count")))
    if _first(after.get("oms_agent")) or after.get("oms_agent") is True:
        cluster.properties["addonProfiles"] = {"omsagent": {"enabled": True}}
    if after.get("private_cluster_enabled"):
        cluster.properties["apiServerAccessProfile"] = {"enablePrivateCluster": True}
    if after.get("id"):
        cluster.properties["id"] = after["id"]
    before = change.get("before")
    if "update" in actions and isinstance(before, dict):
        cluster.before = _azurerm_as_arm(before)
    return cluster


def _azurerm_as_arm(values: Mapping[str, Any]) -> dict[str, Any]:
    """An azurerm cluster's attributes as the ARM JSON the cluster model reads (what AKS added to noProxy is
    derived from fqdn, the network profile and the pools' subnets)."""
    net = _first(values.get("network_profile"))
    pool = _first(values.get("default_node_pool"))
    props: dict[str, Any] = {
        "fqdn": values.get("fqdn"), "privateFQDN": values.get("private_fqdn"),
        "networkProfile": {"podCidr": net.get("pod_cidr"), "podCidrs": net.get("pod_cidrs"),
                           "serviceCidr": net.get("service_cidr"), "serviceCidrs": net.get("service_cidrs")},
        "agentPoolProfiles": [{"name": pool.get("name"), "count": pool.get("node_count"),
                               "vnetSubnetID": pool.get("vnet_subnet_id")}] if pool else [],
    }
    config = _azurerm_config(values)
    if config:
        props["httpProxyConfig"] = config
    return {"properties": props}


def _azapi(address: str, actions: tuple[str, ...], change: Mapping[str, Any]) -> ClusterDecl:
    after = change.get("after") or {}
    base = f"{address}.body.properties.httpProxyConfig"
    cluster = ClusterDecl(name=str(after.get("name") or address), where=address, config_path=base, actions=actions)
    unknown, sensitive = change.get("after_unknown") or {}, change.get("after_sensitive") or {}
    body = _body(after.get("body"))
    props = body.get("properties") or {}
    if _unknown_at(unknown, "body") and not props:
        cluster.config = Unknown(f"{address}.body", "body is known only after apply")
        return cluster
    config = props.get("httpProxyConfig")
    if isinstance(config, dict):
        config = dict(config)
        for key in list(config):
            if _unknown_at(unknown, "body", "properties", "httpProxyConfig", key):
                config[key] = Unknown(f"{base}.{key}", "known only after apply")
            if _unknown_at(sensitive, "body") or _unknown_at(sensitive, "body", "properties", "httpProxyConfig", key):
                cluster.secure[key] = _strings(config[key])
    cluster.config = config
    for i, pool in enumerate(props.get("agentPoolProfiles") or []):
        if isinstance(pool, dict):
            cluster.pools.append(PoolDecl(pool.get("name"), f"{address}.body.properties.agentPoolProfiles[{i}]",
                                          pool.get("osType"), pool.get("type"), pool.get("count")))
    for key in ("addonProfiles", "azureMonitorProfile", "apiServerAccessProfile"):
        if isinstance(props.get(key), dict):
            cluster.properties[key] = props[key]
    before = change.get("before")
    if "update" in actions and isinstance(before, dict):
        cluster.before = {"properties": _body(before.get("body")).get("properties") or {}}
    return cluster


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []
