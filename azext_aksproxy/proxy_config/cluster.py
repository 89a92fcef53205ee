"""Rules that need the cluster as well as the file: unsupported pools, and what an update would change.

Works on ARM REST JSON (``{"properties": {"agentPoolProfiles": [...], "httpProxyConfig": {...}}}``), the shape of
both a raw GET response and ``ManagedCluster.as_dict()``, so it stays free of azure-cli imports.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .findings import Finding, error_at, warning_at
from .noproxy import ClusterNetwork, in_cluster_finding

# Entries AKS adds to noProxy itself (facts file, "What AKS adds"); the cluster-specific ones (API server FQDN,
# pod/service CIDRs, VNet space) are read from the cluster.
AKS_STATIC_NO_PROXY = frozenset({"localhost", "127.0.0.1", "168.63.129.16", "169.254.169.254", "konnectivity"})

# Which part of the cluster must roll for a changed field to take effect: env vars are injected into pods when
# they are (re)created; node-level settings (containerd, OS trust store) need the nodes recreated, which today's AKS
# does itself by reimaging every pool (rollout/pools.py).
ROLLOUT = {
    "httpProxy": ("pods", "nodes"),
    "httpsProxy": ("pods", "nodes"),
    "noProxy": ("pods", "nodes"),
    "trustedCa": ("nodes",),
    "enabled": ("pods", "nodes"),
}


def properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """An ARM resource's properties, from a GET response or ``as_dict()`` (``{"properties": {...}}``) and from the
    flat shape of a cluster's ``agentPoolProfiles`` entries alike."""
    props = resource.get("properties")
    return props if isinstance(props, Mapping) else resource


def agent_pools(cluster: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pools = properties(cluster).get("agentPoolProfiles") or []
    return [p for p in pools if isinstance(p, Mapping)]


# (code, pool field, its value when unsupported (lower-case), what the pools are called, fix)
_UNSUPPORTED_POOLS = (
    ("pool-windows", "osType", "windows", "Windows node pools",
     "Remove the Windows node pools (az aks nodepool delete) or keep this cluster without an HTTP proxy."),
    ("pool-availability-set", "type", "availabilityset", "availability-set (VMAS) node pools",
     "Use a cluster with VirtualMachineScaleSets node pools."),
)


def pool_findings(cluster: Mapping[str, Any]) -> list[Finding]:
    """Errors for node pools AKS cannot run behind an HTTP proxy (Windows, availability sets)."""
    findings = []
    for code, field, unsupported, kind, fix in _UNSUPPORTED_POOLS:
        names = [str(p.get("name")) for p in agent_pools(cluster) if str(p.get(field, "")).lower() == unsupported]
        if names:
            listed = ", ".join(names)
            findings.append(error_at(
                "agentPoolProfiles", code, f"HTTP proxy is not supported on {kind}; this cluster has: {listed}.",
                fix, listed))
    return findings


def aks_managed_no_proxy(cluster: Mapping[str, Any]) -> set[str]:
    """The noProxy entries AKS adds to this cluster by itself (lower-cased)."""
    props = properties(cluster)
    managed = set(AKS_STATIC_NO_PROXY)
    for key in ("fqdn", "privateFQDN", "privateFqdn"):
        if props.get(key):
            managed.add(str(props[key]).lower())
    net = props.get("networkProfile") or {}
    for key in ("podCidr", "serviceCidr"):
        if net.get(key):
            managed.add(str(net[key]).lower())
    for key in ("podCidrs", "serviceCidrs"):
        managed.update(str(c).lower() for c in net.get(key) or [])
    return managed


def _is_possibly_vnet_space(entry: str, managed: set[str]) -> bool:
    return entry.lower() not in managed and _is_cidr(entry)


def split_no_proxy(cluster: Mapping[str, Any]) -> dict[str, list[str]]:
    """The cluster's noProxy by origin: ``user`` (what was set), ``aksAdded`` (what AKS adds by itself: loopback,
    konnectivity, wireserver, IMDS, API server FQDN, pod and service CIDRs) and ``possiblyAksAdded``: CIDRs that may be
    the VNet address space, which AKS adds too but which the cluster object does not hold, or the user's own.

    An entry the user listed that AKS also adds (``localhost``) cannot be told apart and counts as ``aksAdded``.
    """
    managed = aks_managed_no_proxy(cluster)
    entries = [str(e) for e in (current_proxy_config(cluster) or {}).get("noProxy") or []]
    return {
        "user": [e for e in entries if e.lower() not in managed and not _is_cidr(e)],
        "aksAdded": [e for e in entries if e.lower() in managed],
        "possiblyAksAdded": [e for e in entries if _is_possibly_vnet_space(e, managed)],
    }


def user_no_proxy(cluster: Mapping[str, Any]) -> list[str]:
    """The noProxy list to write back for this cluster: its entries without those AKS certainly adds, in order.
    Possible VNet CIDRs are kept: sending one AKS adds anyway changes nothing, dropping one of the user's would."""
    managed = aks_managed_no_proxy(cluster)
    return [str(e) for e in (current_proxy_config(cluster) or {}).get("noProxy") or [] if str(e).lower() not in managed]


def user_config(cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    """The cluster's httpProxyConfig as the user would write it: the known keys, noProxy without what AKS adds
    (see ``user_no_proxy``), no effectiveNoProxy. An update with it changes nothing. None when there is no config."""
    current = current_proxy_config(cluster)
    if not current:
        return None
    out: dict[str, Any] = {key: current[key] for key in ("httpProxy", "httpsProxy") if current.get(key)}
    entries = user_no_proxy(cluster)
    if entries:
        out["noProxy"] = entries
    if current.get("trustedCa"):
        out["trustedCa"] = current["trustedCa"]
    if "enabled" in current and current["enabled"] is not None:
        out["enabled"] = current["enabled"]
    return out


def cluster_network(cluster: Mapping[str, Any]) -> ClusterNetwork:
    """The cluster's service CIDRs, DNS service IP and whether the Istio add-on runs, for the in-cluster advice."""
    props = properties(cluster)
    net = props.get("networkProfile") or {}
    cidrs = net.get("serviceCidrs") or ([net["serviceCidr"]] if net.get("serviceCidr") else [])
    mesh = props.get("serviceMeshProfile") or {}
    return ClusterNetwork(tuple(str(c) for c in cidrs), net.get("dnsServiceIP"),
                          str(mesh.get("mode", "")).lower() == "istio")


def with_cluster_advice(findings: list[Finding], cluster: Mapping[str, Any],
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


def current_proxy_config(cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    value = properties(cluster).get("httpProxyConfig")
    return dict(value) if isinstance(value, Mapping) else None


@dataclass(frozen=True)
class FieldChange:
    """One field of httpProxyConfig as an update with the new file would leave it."""

    field: str
    action: str  # "add", "change", "remove", "keep"
    before: Any
    after: Any
    rollout: tuple[str, ...]  # ("pods", "nodes") subset; empty when nothing changes
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "action": self.action, "before": self.before, "after": self.after,
                "rollout": list(self.rollout), "note": self.note}


@dataclass(frozen=True)
class NoProxyChange(FieldChange):
    """noProxy compared entry by entry, the entries AKS adds itself set aside: ``before`` is the user's part of the
    cluster's list, ``after`` the file's; ``added`` and ``removed`` what the update changes between them."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "added": list(self.added), "removed": list(self.removed)}


def _is_cidr(entry: str) -> bool:
    try:
        return "/" in entry and bool(ipaddress.ip_network(entry, strict=False))
    except ValueError:
        return False


def compare(cluster: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """Field-by-field effect of replacing the cluster's httpProxyConfig with ``new`` (a canonical config).

    A PUT replaces the whole object, so a field the file omits is removed; except ``enabled``, which the update
    path preserves (see ``update_findings``). noProxy is compared with the entries AKS adds set aside.
    """
    current = current_proxy_config(cluster) or {}
    changes = []
    for field in ("httpProxy", "httpsProxy", "trustedCa"):
        before, after = current.get(field), new.get(field)
        if before == after:
            action = "keep"
        else:
            action = "add" if before is None else "remove" if after is None else "change"
        changes.append(FieldChange(field, action, before, after, () if action == "keep" else ROLLOUT[field]))

    managed = aks_managed_no_proxy(cluster)
    before_list = [str(e) for e in current.get("noProxy") or []]
    after_list = [str(e) for e in new.get("noProxy") or []]
    after_keys = {e.lower() for e in after_list}
    user_before = [e for e in before_list if e.lower() not in managed]
    before_keys = {e.lower() for e in user_before}
    added = [e for e in after_list if e.lower() not in before_keys and e.lower() not in managed]
    removed = [e for e in user_before if e.lower() not in after_keys]
    # The VNet address space is added by AKS too but is not in the cluster object: a removed CIDR may be one.
    maybe_managed = [e for e in removed if _is_cidr(e)]
    note = ""
    if maybe_managed:
        note = (f"{', '.join(maybe_managed)} may be the VNet address space, which AKS adds back by itself.")
    action = "keep" if not added and not removed else "change"
    changes.append(NoProxyChange("noProxy", action, user_before, after_list,
                                 () if action == "keep" else ROLLOUT["noProxy"], note, tuple(added), tuple(removed)))

    before_enabled = current.get("enabled", True if current else None)
    after_enabled = new.get("enabled", before_enabled if before_enabled is not None else True)
    action = "keep" if before_enabled == after_enabled else "change"
    changes.append(FieldChange("enabled", action, before_enabled, after_enabled,
                               () if action == "keep" else ROLLOUT["enabled"]))
    return changes


def update_findings(cluster: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """Warnings announcing what an update with ``new`` removes from the cluster's proxy config."""
    findings = []
    for change in compare(cluster, new):
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


def enabled_findings(cluster: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """Notices about the proxy's enabled state after an update with ``new``: kept disabled, or being disabled.

    Kept apart from ``update_findings``: the update path says the same from the flags it was given
    (--enable-http-proxy / --disable-http-proxy), which a file alone cannot know.
    """
    current = current_proxy_config(cluster)
    if not current:
        return []
    was_enabled = current.get("enabled", True) is not False
    if not was_enabled and "enabled" not in new:
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


def cluster_findings(cluster: Mapping[str, Any], new: Mapping[str, Any] | None) -> list[Finding]:
    """What the cluster says about an update with ``new`` (None when the file itself was refused): its unsupported
    pools (errors), then what the update would remove and the proxy's enabled state (warnings)."""
    findings = pool_findings(cluster)
    if new is not None:
        findings += update_findings(cluster, new) + enabled_findings(cluster, new)
    return findings
