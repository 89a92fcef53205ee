"""Rules that need the cluster as well as the file: unsupported pools, and what an update would change.

Works on ARM REST JSON (``{"properties": {"agentPoolProfiles": [...], "httpProxyConfig": {...}}}``), the shape of
both a raw GET response and ``ManagedCluster.as_dict()``, or on a ``cluster_model.ClusterModel`` where the update
is compared with what the cluster runs, so it stays free of azure-cli imports.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.arm import agent_pools, properties
from ..config.findings import Finding, error_at, warning_at
from ..config.noproxy import ClusterNetwork, in_cluster_finding
from .addons import addon_findings
from .model import ClusterModel, NoProxyChange, model_of

Cluster = Mapping[str, Any] | ClusterModel  # ARM JSON, or its model where VNet spaces were read

# (code, pool field, its value when unsupported (lower-case), what the pools are called, fix)
_UNSUPPORTED_POOLS = (
    ("pool-windows", "osType", "windows", "Windows node pools",
     "Remove the Windows node pools (az aks nodepool delete) or keep this cluster without an HTTP proxy."),
    ("pool-availability-set", "type", "availabilityset", "availability-set (VMAS) node pools",
     "Use a cluster with VirtualMachineScaleSets node pools."),
)


def pool_findings(cluster: Cluster) -> list[Finding]:
    """Errors for node pools AKS cannot run behind an HTTP proxy (Windows, availability sets)."""
    cluster = model_of(cluster).cluster
    findings = []
    for code, field, unsupported, kind, fix in _UNSUPPORTED_POOLS:
        names = [str(p.get("name")) for p in agent_pools(cluster) if str(p.get(field, "")).lower() == unsupported]
        if names:
            listed = ", ".join(names)
            findings.append(error_at(
                "agentPoolProfiles", code, f"HTTP proxy is not supported on {kind}; this cluster has: {listed}.",
                fix, listed))
    return findings


def cluster_network(cluster: Cluster) -> ClusterNetwork:
    """The cluster's service CIDRs, DNS service IP and whether the Istio add-on runs, for the in-cluster advice."""
    props = properties(model_of(cluster).cluster)
    net = props.get("networkProfile") or {}
    cidrs = net.get("serviceCidrs") or ([net["serviceCidr"]] if net.get("serviceCidr") else [])
    mesh = props.get("serviceMeshProfile") or {}
    return ClusterNetwork(tuple(str(c) for c in cidrs), net.get("dnsServiceIP"),
                          str(mesh.get("mode", "")).lower() == "istio")


def with_cluster_advice(findings: list[Finding], cluster: Cluster,
                        config: Mapping[str, Any] | None) -> list[Finding]:
    """``findings`` with the file's in-cluster notice replaced by one that names this cluster's service CIDRs, DNS
    and Istio add-on."""
    if config is None:
        return findings
    network = cluster_network(cluster)
    out = []
    for finding in findings:
        if finding.code == "noproxy-in-cluster":
            refined = in_cluster_finding(config.get("noProxy"), finding.path, network)
            finding = refined if refined is not None else finding
        out.append(finding)
    return out


def update_findings(cluster: Cluster, new: Mapping[str, Any]) -> list[Finding]:
    """Warnings announcing what an update with ``new`` removes from what the user set."""
    findings = []
    for change in model_of(cluster).changes(new):
        if change.field == "trustedCa" and change.action == "remove":
            findings.append(warning_at(
                "$.trustedCa", "update-removes-trusted-ca",
                "The cluster has a trustedCa and this file has none: the update removes it from the nodes.",
                "Add the current trustedCa to the file to keep it (az aks http-proxy show shows it)."))
        if isinstance(change, NoProxyChange) and change.removed:
            removed = ", ".join(change.removed)
            findings.append(warning_at(
                "$.noProxy", "update-removes-no-proxy",
                f"The update removes these noProxy entries from the cluster: {removed}. {change.note}".strip(),
                "Add them to the file's noProxy to keep them.", removed))
    return findings


def enabled_findings(cluster: Cluster, new: Mapping[str, Any]) -> list[Finding]:
    """Notices about the proxy's enabled state after an update with ``new``: kept disabled, or being disabled.

    Kept apart from ``update_findings``: the update path says the same from the flags it was given
    (--enable-http-proxy / --disable-http-proxy), which a file alone cannot know.
    """
    was_enabled = model_of(cluster).enabled
    if was_enabled is None:
        return []
    if not was_enabled and new.get("enabled") is None:
        return [warning_at(
            "$.enabled", "proxy-stays-disabled",
            "The cluster's HTTP proxy is disabled and an update with this file keeps it disabled.",
            'Add "enabled": true to the file, or pass --enable-http-proxy to az aks update.')]
    if was_enabled and new.get("enabled") is False:
        return [warning_at(
            "$.enabled", "update-disables-proxy",
            "This file disables the cluster's HTTP proxy: AKS reimages every node pool without it, and pods "
            "re-created on the way run without it.",
            'Remove "enabled": false from the file to keep the proxy enabled.', "false")]
    return []


def cluster_findings(cluster: Cluster, new: Mapping[str, Any] | None) -> list[Finding]:
    """What the cluster says about an update with ``new`` (None when the file itself was refused): its unsupported
    pools (errors), then what the update would remove, the proxy's enabled state and the monitoring add-on's
    limits (warnings)."""
    findings = pool_findings(cluster)
    if new is not None:
        findings += update_findings(cluster, new) + enabled_findings(cluster, new)
        findings += addon_findings(model_of(cluster).cluster, new)
    return findings
