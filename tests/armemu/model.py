"""Managed cluster and agent pool shapes: what the service keeps from a PUT, what it fills in, how it renders."""
from __future__ import annotations

import copy
import hashlib

from . import network, proxycfg
from .state import SUBSCRIPTION_ID, TENANT_ID, Cluster, Store
from .web import new_guid, stable_guid

MC_TYPE = "Microsoft.ContainerService/ManagedClusters"
POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"

CLUSTER_READONLY = {"provisioningState", "powerState", "currentKubernetesVersion", "fqdn", "azurePortalFQDN",
                    "privateFQDN", "maxAgentPools", "resourceUID"}
POOL_READONLY = {"provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "eTag"}
# key order of the recorded responses; anything else the client sent follows
CLUSTER_ORDER = ("provisioningState", "powerState", "kubernetesVersion", "currentKubernetesVersion", "dnsPrefix",
                 "fqdn", "azurePortalFQDN", "agentPoolProfiles", "linuxProfile", "windowsProfile",
                 "servicePrincipalProfile", "addonProfiles", "nodeResourceGroup", "enableRBAC", "supportPlan",
                 "networkProfile", "maxAgentPools", "identityProfile", "autoUpgradeProfile", "disableLocalAccounts",
                 "httpProxyConfig", "securityProfile", "storageProfile", "oidcIssuerProfile",
                 "workloadAutoScalerProfile", "resourceUID")
POOL_ORDER = ("name", "count", "vmSize", "osDiskSizeGB", "osDiskType", "kubeletDiskType", "vnetSubnetID", "maxPods",
              "type", "enableAutoScaling", "provisioningState", "powerState", "orchestratorVersion",
              "currentOrchestratorVersion", "enableNodePublicIP", "nodeLabels", "mode", "enableEncryptionAtHost",
              "enableUltraSSD", "osType", "osSKU", "nodeImageVersion", "upgradeSettings", "enableFIPS")
POOL_DEFAULTS = (("osDiskType", "Managed"), ("kubeletDiskType", "OS"), ("type", "VirtualMachineScaleSets"),
                 ("enableAutoScaling", False), ("enableNodePublicIP", False), ("mode", "User"),
                 ("enableEncryptionAtHost", False), ("enableUltraSSD", False), ("osType", "Linux"),
                 ("enableFIPS", False))
IN_FLIGHT = {"Creating", "Updating", "Deleting", "Upgrading", "UpgradingNodeImageVersion", "Scaling"}


def cluster_id(rg: str, name: str) -> str:
    return (f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/{rg}/providers/"
            f"Microsoft.ContainerService/managedClusters/{name}")


def _ordered(d: dict, order: tuple) -> dict:
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.lower().encode()).hexdigest()[:n]


def normalize_pool(store: Store, sent: dict, existing: dict | None, version_patch: str, state: str) -> dict:
    p = {k: copy.deepcopy(v) for k, v in sent.items() if v is not None and k not in POOL_READONLY}
    if (p.get("scaleSetPriority") or "Regular") == "Regular":
        for key in ("scaleSetPriority", "scaleSetEvictionPolicy", "spotMaxPrice"):
            p.pop(key, None)
    for key in ("nodeTaints", "nodeLabels", "tags", "availabilityZones"):
        if key in p and not p[key]:
            p.pop(key)
    if not p.get("vmSize"):
        p["vmSize"] = "Standard_DS2_v2"
    if not p.get("osDiskSizeGB"):
        p["osDiskSizeGB"] = 128
    if not p.get("maxPods"):
        p["maxPods"] = 110
    for key, value in POOL_DEFAULTS:
        p.setdefault(key, value)
    p.setdefault("osSKU", "Windows2022" if p["osType"].lower() == "windows" else "Ubuntu")
    p.setdefault("upgradeSettings", {})
    p["orchestratorVersion"] = store.patch_version(p.get("orchestratorVersion") or version_patch)
    p["currentOrchestratorVersion"] = p["orchestratorVersion"]
    p["powerState"] = p.get("powerState") or (existing or {}).get("powerState") or {"code": "Running"}
    p["nodeImageVersion"] = (existing or {}).get("nodeImageVersion") or store.initial_image(p)
    p["provisioningState"] = state
    return _ordered(p, POOL_ORDER)


def _network_profile(sent: dict | None, existing: dict | None) -> dict:
    net = copy.deepcopy(sent or {})
    net = {k: v for k, v in net.items() if v is not None}
    if not net.get("networkPlugin"):  # today's service default: Azure CNI Overlay
        net["networkPlugin"] = "azure"
        net.setdefault("networkPluginMode", "overlay")
    plugin = net["networkPlugin"]
    overlay = (net.get("networkPluginMode") or "").lower() == "overlay"
    if plugin == "kubenet" or overlay:
        net.setdefault("podCidr", (net.get("podCidrs") or ["10.244.0.0/16"])[0])
    net.setdefault("serviceCidr", (net.get("serviceCidrs") or ["10.0.0.0/16"])[0])
    net.setdefault("dnsServiceIP", "10.0.0.10")
    net.setdefault("outboundType", "loadBalancer")
    net.setdefault("loadBalancerSku", "standard")
    lbp = net.setdefault("loadBalancerProfile", {})
    lbp = {k: v for k, v in lbp.items() if v is not None}
    if not any(k in lbp for k in ("managedOutboundIPs", "outboundIPs", "outboundIPPrefixes")):
        lbp["managedOutboundIPs"] = {"count": 1}
    old = ((existing or {}).get("loadBalancerProfile") or {}).get("effectiveOutboundIPs")
    if old:
        lbp["effectiveOutboundIPs"] = old
    net["loadBalancerProfile"] = lbp
    if net.get("podCidr"):
        net.setdefault("podCidrs", [net["podCidr"]])
    net.setdefault("serviceCidrs", [net["serviceCidr"]])
    net.setdefault("ipFamilies", ["IPv4"])
    return net


def build_cluster(store: Store, rg: str, name: str, body: dict, existing: Cluster | None, state: str) -> Cluster:
    """The stored resource after a PUT (create when existing is None): the client's writable fields plus what the
    service owns (kept from the existing cluster or generated)."""
    sent = copy.deepcopy(body.get("properties") or {})
    old_props = existing.props if existing else {}
    props = {k: v for k, v in sent.items() if v is not None and k not in CLUSTER_READONLY}
    location = (existing.resource["location"] if existing else body["location"]).replace(" ", "").lower()
    props["kubernetesVersion"] = props.get("kubernetesVersion") or old_props.get("kubernetesVersion") \
        or store.config["default_kubernetes_version"]
    patch = store.patch_version(props["kubernetesVersion"])
    props["currentKubernetesVersion"] = patch
    props.setdefault("dnsPrefix", old_props.get("dnsPrefix") or f"{name[:10]}-{rg[:16]}-{SUBSCRIPTION_ID[:6]}")
    suffix = _hex(f"{rg}/{name}/fqdn", 8)
    props["fqdn"] = old_props.get("fqdn") or f"{props['dnsPrefix']}-{suffix}.hcp.{location}.azmk8s.io"
    props["azurePortalFQDN"] = old_props.get("azurePortalFQDN") or props["fqdn"].replace(".hcp.", ".portal.hcp.", 1)
    access = props.get("apiServerAccessProfile") or {}
    if access.get("enablePrivateCluster"):  # the private endpoint's name; the public one unless turned off
        props["privateFQDN"] = old_props.get("privateFQDN") or \
            f"{props['dnsPrefix']}-{_hex(f'{rg}/{name}/private', 8)}.{stable_guid(f'{rg}/{name}/zone')}" \
            f".privatelink.{location}.azmk8s.io"
        if access.get("enablePrivateClusterPublicFQDN") is False:
            props.pop("fqdn")
    old_pools = {p["name"].lower(): p for p in old_props.get("agentPoolProfiles", [])}
    pools = []
    for i, sp in enumerate(sent.get("agentPoolProfiles") or []):
        sp = dict(sp)
        if i == 0 and not existing:
            sp.setdefault("mode", "System")
        pools.append(normalize_pool(store, sp, old_pools.pop(sp.get("name", "").lower(), None), patch, state))
    pools.extend(old_pools.values())  # pools not named in the PUT stay as they are
    props["agentPoolProfiles"] = pools
    identity = copy.deepcopy(body.get("identity") or (existing.resource.get("identity") if existing else None))
    if identity and identity.get("type", "").lower() in ("systemassigned", "userassigned"):
        props["servicePrincipalProfile"] = {"clientId": "msi"}
        if identity["type"].lower() == "systemassigned":
            old_id = (existing.resource.get("identity") or {}) if existing else {}
            identity["principalId"] = old_id.get("principalId") or new_guid()
            identity["tenantId"] = TENANT_ID
    if not props.get("addonProfiles"):
        props.pop("addonProfiles", None)
    props.setdefault("nodeResourceGroup", old_props.get("nodeResourceGroup") or f"MC_{rg}_{name}_{location}")
    props.setdefault("enableRBAC", True)
    props.setdefault("supportPlan", "KubernetesOfficial")
    props["networkProfile"] = _network_profile(props.get("networkProfile"), old_props.get("networkProfile"))
    props["maxAgentPools"] = 100
    if old_props.get("identityProfile") and not props.get("identityProfile"):
        props["identityProfile"] = old_props["identityProfile"]
    props.setdefault("autoUpgradeProfile", {"nodeOSUpgradeChannel": "NodeImage"})
    props.setdefault("disableLocalAccounts", False)
    if "httpProxyConfig" in sent and sent["httpProxyConfig"] is not None:
        props["httpProxyConfig"] = proxycfg.sanitize(sent["httpProxyConfig"])
    elif old_props.get("httpProxyConfig"):
        props["httpProxyConfig"] = copy.deepcopy(old_props["httpProxyConfig"])
    write_aks_no_proxy(store, props)
    props.setdefault("securityProfile", {})
    storage = props.get("storageProfile") or {}
    for driver in ("diskCSIDriver", "fileCSIDriver", "snapshotController"):
        if not storage.get(driver):
            storage[driver] = {"enabled": True}
    props["storageProfile"] = storage
    props.setdefault("oidcIssuerProfile", {"enabled": False})
    props.setdefault("workloadAutoScalerProfile", {})
    props["resourceUID"] = old_props.get("resourceUID") or _hex(new_guid(), 24)
    props["powerState"] = old_props.get("powerState") or {"code": "Running"}
    props["provisioningState"] = state
    resource = {"location": location, "properties": _ordered(props, CLUSTER_ORDER)}
    if body.get("tags") or (existing and existing.resource.get("tags")):
        resource["tags"] = body.get("tags") or existing.resource.get("tags")
    if identity:
        resource["identity"] = identity
    resource["sku"] = body.get("sku") or (existing.resource.get("sku") if existing else None) \
        or {"name": "Base", "tier": "Free"}
    cluster = Cluster(existing.rg if existing else rg, existing.name if existing else name, resource)
    if existing:
        cluster.latest_images, cluster.model_applied = existing.latest_images, existing.model_applied
        cluster.maintenance = existing.maintenance
    return cluster


def provisioned(cluster: Cluster) -> None:
    """What appears once a create has finished: effective outbound IP, kubelet identity, canonical LB SKU."""
    props = cluster.props
    net = props["networkProfile"]
    if str(net.get("loadBalancerSku", "")).lower() == "standard":
        net["loadBalancerSku"] = "Standard"
    if net.get("outboundType", "loadBalancer") == "loadBalancer":
        lbp = net.setdefault("loadBalancerProfile", {})
        lbp.setdefault("effectiveOutboundIPs", [{
            "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{props['nodeResourceGroup']}/providers/"
                  f"Microsoft.Network/publicIPAddresses/{new_guid()}"}])
    if not props.get("identityProfile"):
        props["identityProfile"] = {"kubeletidentity": {
            "resourceId": f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/{props['nodeResourceGroup']}/providers/"
                          f"Microsoft.ManagedIdentity/userAssignedIdentities/{cluster.name}-agentpool",
            "clientId": new_guid(), "objectId": new_guid()}}
    cluster.resource["properties"] = _ordered(props, CLUSTER_ORDER)


def settle(cluster: Cluster, state: str, pools: set | None = None) -> None:
    """End of an operation: cluster (when pools is None) and in-flight pools move to `state`."""
    if pools is None:
        cluster.props["provisioningState"] = state
    for p in cluster.pools():
        if (pools is None or p["name"].lower() in pools) and p.get("provisioningState") in IN_FLIGHT:
            p["provisioningState"] = state


def write_aks_no_proxy(store: Store, props: dict) -> None:
    """The service writes its own entries into the stored noProxy of a proxy config (proxycfg.grow_no_proxy)."""
    if props.get("httpProxyConfig") is not None:
        proxycfg.grow_no_proxy(props["httpProxyConfig"], props,
                               network.pool_vnet_prefixes(store, props.get("agentPoolProfiles") or []))


def render_cluster(store: Store, cluster: Cluster) -> dict:
    res = copy.deepcopy(cluster.resource)
    props = res["properties"]
    if props.get("httpProxyConfig"):
        props["httpProxyConfig"] = proxycfg.rendered(props["httpProxyConfig"])
    out = {"id": cluster_id(cluster.rg, cluster.name), "location": res.pop("location"), "name": cluster.name,
           "type": MC_TYPE, "eTag": cluster.etag}
    out.update(res)
    return out


def render_pool(cluster: Cluster, pool: dict) -> dict:
    props = {k: copy.deepcopy(v) for k, v in pool.items() if k != "name"}
    return {"id": f"{cluster_id(cluster.rg, cluster.name)}/agentPools/{pool['name']}", "name": pool["name"],
            "type": POOL_TYPE, "properties": props}


def proxy_active(props: dict) -> bool:
    cfg = props.get("httpProxyConfig")
    return bool(cfg) and cfg.get("enabled", True) is not False and bool(cfg.get("httpProxy") or cfg.get("httpsProxy"))
