"""The `az aks http-proxy show` document: a cluster's proxy config as it is in effect, built from raw ARM JSON.

Pure: takes the raw GET response of the cluster (which keeps ``effectiveNoProxy``, dropped by the GA SDK model) and
each pool's latest node image version, so it is testable without azure-cli or a network.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.arm import agent_pools
from ..config.certs import describe_bundle
from ..config.findings import mask_secrets
from .model import ClusterModel, model_of
from .pools import NO, START, NodeModel, pool_need, proxy_config_state


def describe_trusted_ca(blob: str | None, *, include_blob: bool = False) -> dict[str, Any] | None:
    """The certificates of a base64 trustedCa value: subject, issuer, SANs, expiry, fingerprint; never the blob
    itself unless asked (it is long and says nothing to a reader)."""
    if not blob:
        return None
    out: dict[str, Any]
    try:
        certificates = [c.to_dict() for c in describe_bundle(blob)]
        out = {"certificateCount": len(certificates), "certificates": certificates}
    except ValueError as exc:  # a value set by another tool may not decode; say so instead of failing `show`
        out = {"certificateCount": 0, "certificates": [], "error": str(exc)}
    if include_blob:
        out["base64"] = blob
    return out


def pool_rows(cluster: Mapping[str, Any], latest_images: Mapping[str, str | None],
              node_models: Mapping[str, NodeModel] | None = None, models_unreadable: str = "") -> list[dict[str, Any]]:
    """Per pool, two separate answers: do its nodes run the cluster's current proxy config (yes / no / unknown, and
    why), and is a newer node image available. ``pendingNodeImageUpgrade`` and ``nextStep`` come from the same rule
    `upgrade-nodes` follows. Unknown latest versions leave the image fields None rather than guess."""
    rows = []
    for pool in agent_pools(cluster):
        name = str(pool.get("name"))
        current, latest = pool.get("nodeImageVersion"), latest_images.get(name)
        is_current = None if latest is None or current is None else current == latest
        runs, why = proxy_config_state(pool, node_models, models_unreadable)
        need = pool_need(pool, latest, runs)
        rows.append({"name": name, "mode": pool.get("mode"), "osType": pool.get("osType"),
                     "provisioningState": pool.get("provisioningState"), "count": pool.get("count"),
                     "runsCurrentProxyConfig": runs, "proxyConfigDetail": why,
                     "nodeImageVersion": current, "latestNodeImageVersion": latest, "nodeImageCurrent": is_current,
                     "pendingNodeImageUpgrade": None if is_current is None and runs != NO else need.action == START,
                     "nextStep": need.reason or (f"upgrade the node image to {latest or 'the latest'}"
                                                 if need.action == START else "")})
    return rows


def show_document(cluster: Mapping[str, Any] | ClusterModel, resource_group: str,
                  latest_images: Mapping[str, str | None], *, include_ca_blob: bool = False,
                  node_models: Mapping[str, NodeModel] | None = None, models_unreadable: str = "") -> dict[str, Any]:
    """What `show` prints: the config with ``enabled`` and ``effectiveNoProxy``, the CA decoded, pools' images."""
    model = model_of(cluster)
    cluster = model.cluster
    config = model.stored or {}
    configured = bool(config)
    pools = pool_rows(cluster, latest_images, node_models, models_unreadable)
    pending = [p["name"] for p in pools if p["pendingNodeImageUpgrade"]]
    behind = [p["name"] for p in pools if p["runsCurrentProxyConfig"] == NO and p["pendingNodeImageUpgrade"]]
    name = str(cluster.get("name"))
    doc: dict[str, Any] = {
        "name": name,
        "resourceGroup": resource_group,
        "configured": configured,
        "enabled": bool(model.enabled),
        "httpProxy": masked(config.get("httpProxy")),
        "httpsProxy": masked(config.get("httpsProxy")),
        "noProxy": list(config.get("noProxy") or []),
        "effectiveNoProxy": config.get("effectiveNoProxy"),
        # noProxy by origin: what was set, and what AKS writes into it by itself (the Terraform drift).
        **no_proxy_by_origin(model),
        "trustedCa": describe_trusted_ca(config.get("trustedCa"), include_blob=include_ca_blob),
        "nodePools": pools,
        "nextSteps": [],
    }
    if behind:
        doc["nextSteps"].append(f"Nodes of {', '.join(behind)} do not run the current proxy config yet: "
                                f"az aks http-proxy upgrade-nodes -g {resource_group} -n {name} "
                                f"--nodepool-names {' '.join(behind)}")
    newer = [p for p in pending if p not in behind]
    if newer:
        doc["nextSteps"].append(f"A newer node image exists for {', '.join(newer)} (upgrading recreates their "
                                f"nodes once more): az aks http-proxy upgrade-nodes -g {resource_group} -n {name}")
    return doc


def no_proxy_by_origin(model: ClusterModel) -> dict[str, Any]:
    """``userNoProxy``, ``aksAddedNoProxy`` (the VNet's address space included where it was read) with
    ``aksAddedNoProxySources`` (why and on what public source), and
    ``possiblyAksAddedNoProxy`` (CIDRs that may be the space of a VNet that could not be read, named in
    ``unreadVnets``)."""
    split = model.no_proxy_by_origin()
    listed = {e.lower() for e in split["aksAdded"]}
    out: dict[str, Any] = {"userNoProxy": split["user"], "aksAddedNoProxy": split["aksAdded"],
                           # why AKS adds each of them, and the public source that says so
                           "aksAddedNoProxySources": [e.to_dict() for e in model.aks_added
                                                      if e.value.lower() in listed],
                           "possiblyAksAddedNoProxy": split["possiblyAksAdded"]}
    if model.unread_vnets:
        out["unreadVnets"] = [{"id": v.vnet_id, "error": v.error} for v in model.unread_vnets]
    return out


def masked(value: Any) -> Any:
    return mask_secrets(value) if isinstance(value, str) else value
