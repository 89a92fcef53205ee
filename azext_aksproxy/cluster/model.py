"""One model of a cluster's proxy config: what the user set, what AKS adds to noProxy by itself, and whether a file
changes what the user set.

AKS writes its own entries into the stored ``noProxy`` (and mirrors them as ``effectiveNoProxy``): the client of
the Azure CLI's recorded http-proxy test sent ``["localhost", "127.0.0.1"]`` and the responses held nine entries
(facts file, "What AKS adds"). Every command that compares a file with a cluster (update, diff, show, generate
--from-cluster, audit, the fleet rollout) asks this model, so that re-applying the file a cluster runs is a no-op
everywhere: no reimage announced, no refusal under a Block disruption policy, no removal reported.

Pure: the cluster's ARM JSON and, for custom VNets, the address spaces the adapter read (``VnetSpace``) in;
entries, configs and changes out. No azure-cli import.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..config.arm import agent_pools, current_proxy_config, properties
from .resource_id import ResourceId

# The address space of the VNet AKS creates for a cluster without vnetSubnetID (its aks-subnet is 10.224.0.0/16).
# Sources: an AKS error quoting "Virtual Network address prefixes '[10.224.0.0/12]'" (MicrosoftDocs/azure-docs
# PR 92330); a recorded managed-VNet cluster's effectiveNoProxy in a public AKS http-proxy walkthrough.
MANAGED_VNET_SPACE = "10.224.0.0/12"

# (entry, why AKS adds it, public source): the entries every cluster gets.
_FIXED = (
    ("localhost", "loopback", "Azure CLI recording test_aks_create_and_update_with_http_proxy_config"),
    ("127.0.0.1", "loopback", "Azure CLI recording test_aks_create_and_update_with_http_proxy_config"),
    ("konnectivity", "the API server tunnel (konnectivity-agent)",
     "Azure CLI recording test_aks_create_and_update_with_http_proxy_config"),
    ("168.63.129.16", "Azure's wireserver", "AKS docs, HTTP proxy: effectiveNoProxy; CAPZ issue 1947"),
    ("169.254.169.254", "Azure Instance Metadata Service", "AKS docs, HTTP proxy: effectiveNoProxy; CAPZ issue 1947"),
)
_RECORDING = "Azure CLI recording test_aks_create_and_update_with_http_proxy_config"

# How each field of httpProxyConfig reaches the cluster once it changes: env vars are injected into pods when they
# are (re)created; node-level settings (containerd, OS trust store) need the nodes recreated, which today's AKS does
# itself by reimaging every pool (cluster/pools.py).
ROLLOUT = {
    "httpProxy": ("pods", "nodes"),
    "httpsProxy": ("pods", "nodes"),
    "noProxy": ("pods", "nodes"),
    "trustedCa": ("nodes",),
    "enabled": ("pods", "nodes"),
}


@dataclass(frozen=True)
class AksEntry:
    """One noProxy entry AKS adds by itself: the value, why, and where that is documented or observed."""

    value: str
    why: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "why": self.why, "source": self.source}


@dataclass(frozen=True)
class VnetSpace:
    """One VNet's address space as the adapter read it, or why it could not be read (``error``)."""

    vnet_id: str  # lower-case ARM id of the VNet
    prefixes: tuple[str, ...] = ()
    error: str = ""  # "" = read

    @property
    def name(self) -> str:
        return ResourceId.parse(self.vnet_id).name


def vnet_id_of(subnet_id: str) -> str:
    """The VNet a subnet id is in, lower-case (ARM ids are case-insensitive)."""
    return str(subnet_id).lower().split("/subnets/")[0]


def vnet_ids(cluster: Mapping[str, Any]) -> list[str]:
    """The distinct VNets the cluster's pools are in (custom VNets; empty for the managed VNet), in pool order."""
    return list(dict.fromkeys(vnet_id_of(p["vnetSubnetID"]) for p in agent_pools(cluster) if p.get("vnetSubnetID")))


def is_cidr(entry: str) -> bool:
    try:
        return "/" in entry and bool(ipaddress.ip_network(entry, strict=False))
    except ValueError:
        return False


def _key(entry: Any) -> str:
    return str(entry).lower()


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
    cluster's list, ``after`` the file's; ``added`` and ``removed`` what the update changes between them;
    ``aks_added`` the cluster's entries that AKS wrote and keeps whatever the file says."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    aks_added: tuple[str, ...] = ()
    uncertain: bool = False  # the only change: removing CIDRs that may be an unread VNet's space (AKS re-adds it)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "added": list(self.added), "removed": list(self.removed)}


def _action(before: Any, after: Any) -> str:
    if before == after:
        return "keep"
    return "add" if before is None else "remove" if after is None else "change"


class ClusterModel:
    """A cluster's proxy config as AKS stores it, split into what the user set and what AKS added.

    ``vnets`` holds the address spaces of the custom VNets the pools are in (``vnet_ids``), as read; a VNet missing
    from it, or read with an error, leaves its space unknown: CIDRs that may be it are then reported with the
    cautious "may be the VNet address space" wording, for those entries only.
    """

    def __init__(self, cluster: Mapping[str, Any], vnets: Mapping[str, VnetSpace] | None = None) -> None:
        self.cluster = cluster
        self.vnets = {k.lower(): v for k, v in (vnets or {}).items()}

    # ---- what is stored, and who put it there ------------------------------------------------------------------

    @cached_property
    def stored(self) -> dict[str, Any] | None:
        """httpProxyConfig exactly as the cluster stores it (None: none)."""
        return current_proxy_config(self.cluster)

    @property
    def has_proxy(self) -> bool:
        """A config with a proxy URL (the service never stores one without: HTTPProxyConfigInputError); an empty
        object, which an API version may return for a cluster created without a proxy, is no proxy."""
        stored = self.stored or {}
        return bool(stored.get("httpProxy") or stored.get("httpsProxy"))

    @cached_property
    def unread_vnets(self) -> tuple[VnetSpace, ...]:
        """The pools' custom VNets whose address space is not known (not read, or the read was refused)."""
        out = []
        for vnet in vnet_ids(self.cluster):
            space = self.vnets.get(vnet)
            if space is None or space.error:
                out.append(space or VnetSpace(vnet, error="not read"))
        return tuple(out)

    @cached_property
    def aks_added(self) -> tuple[AksEntry, ...]:
        """Every entry AKS adds to this cluster's noProxy that can be known, each with its source."""
        props = properties(self.cluster)
        entries = [AksEntry(*fixed) for fixed in _FIXED]
        if props.get("fqdn"):
            entries.append(AksEntry(str(props["fqdn"]), "the API server FQDN", _RECORDING))
        for key in ("privateFQDN", "privateFqdn"):
            if props.get(key):
                entries.append(AksEntry(str(props[key]), "the private API server FQDN (private cluster)",
                                        "CAPZ issue 1947 (the API server FQDN/IP); unverified for private clusters"))
        net = props.get("networkProfile") or {}
        for plural, single, what in (("podCidrs", "podCidr", "the pod CIDR"),
                                     ("serviceCidrs", "serviceCidr", "the service CIDR")):
            cidrs = net.get(plural) or ([net[single]] if net.get(single) else [])
            entries += [AksEntry(str(c), what, _RECORDING) for c in cidrs]
        vnets = vnet_ids(self.cluster)
        if not vnets:
            entries.append(AksEntry(MANAGED_VNET_SPACE, "the managed VNet's address space",
                                    "AKS error quoting Virtual Network address prefixes '[10.224.0.0/12]' "
                                    "(MicrosoftDocs/azure-docs PR 92330)"))
        for vnet in vnets:
            space = self.vnets.get(vnet)
            if space is not None and not space.error:
                entries += [AksEntry(p, f"the address space of VNet {space.name}",
                                     "Azure CLI recording (VNet 10.42.0.0/16 added, not its subnet)")
                            for p in space.prefixes]
        unique: dict[str, AksEntry] = {}
        for entry in entries:
            unique.setdefault(_key(entry.value), entry)
        return tuple(unique.values())

    @cached_property
    def _aks_keys(self) -> frozenset[str]:
        return frozenset(_key(e.value) for e in self.aks_added)

    def aks_adds(self, entry: Any) -> bool:
        """Whether AKS adds ``entry`` itself (so the user's listing it or not changes nothing)."""
        return _key(entry) in self._aks_keys

    def possibly_aks_added(self, cidrs: Sequence[str]) -> list[str]:
        """The CIDRs among ``cidrs`` that may all be the address spaces of the VNets that could not be read. While
        they are no more than those VNets they may all be AKS's; more, and at least one is the user's."""
        candidates = [c for c in cidrs if is_cidr(c) and not self.aks_adds(c)]
        return candidates if self.unread_vnets and len(candidates) <= len(self.unread_vnets) else []

    @property
    def needs_vnet_reads(self) -> bool:
        """Whether reading the custom VNets' spaces would change an answer: AKS adds each VNet's space, so while
        the stored CIDRs AKS's other entries do not explain are no more than the unread VNets they are all AKS's
        (``possibly_aks_added``); more, and only the spaces tell which is the user's. A fleet reads only these."""
        if not self.unread_vnets:
            return False
        candidates = [e for e in self._stored_no_proxy() if is_cidr(e) and not self.aks_adds(e)]
        return len(candidates) > len(self.unread_vnets)

    def _stored_no_proxy(self) -> list[str]:
        return [str(e) for e in (self.stored or {}).get("noProxy") or []]

    def no_proxy_by_origin(self) -> dict[str, list[str]]:
        """The stored noProxy by origin: ``user`` (what was set), ``aksAdded`` (what AKS adds by itself, VNet space
        included where it was read) and ``possiblyAksAdded`` (CIDRs that may be an unread VNet's space).

        An entry the user listed that AKS also adds (``localhost``) cannot be told apart and counts as ``aksAdded``.
        """
        entries = self._stored_no_proxy()
        mine = [e for e in entries if not self.aks_adds(e)]
        possibly = set(self.possibly_aks_added(mine))
        return {"user": [e for e in mine if e not in possibly],
                "aksAdded": [e for e in entries if self.aks_adds(e)],
                "possiblyAksAdded": [e for e in mine if e in possibly]}

    def user_no_proxy(self) -> list[str]:
        """The noProxy list the user set: the stored entries less those AKS adds, in order. Possible VNet CIDRs are
        kept: sending one AKS adds anyway changes nothing, dropping one of the user's would."""
        return list(self._user_entries)

    @cached_property
    def _user_entries(self) -> tuple[str, ...]:  # asked several times per cluster by audit and plan: once here
        return tuple(e for e in self._stored_no_proxy() if not self.aks_adds(e))

    def user_config(self) -> dict[str, Any] | None:
        """The cluster's httpProxyConfig as the user would write it: the known keys, noProxy without what AKS adds,
        no effectiveNoProxy; ``diff`` of it against this cluster shows no change. None when there is no proxy."""
        if not self.has_proxy:
            return None
        stored = self.stored or {}
        out: dict[str, Any] = {key: stored[key] for key in ("httpProxy", "httpsProxy") if stored.get(key)}
        entries = self.user_no_proxy()
        if entries:
            out["noProxy"] = entries
        if stored.get("trustedCa"):
            out["trustedCa"] = stored["trustedCa"]
        if stored.get("enabled") is not None:
            out["enabled"] = stored["enabled"]
        return out

    # ---- enabled: one meaning --------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool | None:
        """Whether the proxy is in effect: ``enabled`` absent or null means true (the API's default); None when the
        cluster has no proxy at all."""
        if not self.has_proxy:
            return None
        return (self.stored or {}).get("enabled") is not False

    def enabled_after(self, new: Mapping[str, Any]) -> bool:
        """``enabled`` after an update with ``new``: the file's value when it states one; else the cluster's (a file
        without ``enabled`` keeps a disabled proxy disabled, see ``config_to_send``), true for a new proxy."""
        if new.get("enabled") is not None:
            return bool(new["enabled"])
        return self.enabled if self.enabled is not None else True

    # ---- does a file change what the user set -----------------------------------------------------------------

    def changes(self, new: Mapping[str, Any]) -> list[FieldChange]:
        """Field by field, the effect of an update with ``new`` (a canonical config). A PUT replaces the whole
        object, so a field the file omits is removed, except ``enabled`` (see ``enabled_after``). noProxy is
        compared with the entries AKS adds set aside on both sides, case-insensitively and as a set: listing
        ``localhost`` or the VNet space, or reordering entries, changes nothing the user set."""
        stored = self.stored or {}
        changes: list[FieldChange] = []
        for field in ("httpProxy", "httpsProxy", "trustedCa"):
            before, after = stored.get(field) or None, new.get(field) or None
            action = _action(before, after)
            changes.append(FieldChange(field, action, before, after, () if action == "keep" else ROLLOUT[field]))
        changes.append(self._no_proxy_change(new))
        before_enabled = self.enabled
        after_enabled = self.enabled_after(new)
        action = "keep" if before_enabled == after_enabled else "change"
        changes.append(FieldChange("enabled", action, before_enabled, after_enabled,
                                   () if action == "keep" else ROLLOUT["enabled"]))
        return changes

    def _no_proxy_change(self, new: Mapping[str, Any]) -> NoProxyChange:
        before = self.user_no_proxy()
        after = [str(e) for e in new.get("noProxy") or []]
        before_keys = {_key(e) for e in before}
        after_keys = {_key(e) for e in after}
        added = [e for e in after if _key(e) not in before_keys and not self.aks_adds(e)]
        removed = [e for e in before if _key(e) not in after_keys]
        maybe_aks = self.possibly_aks_added(removed)
        note = ""
        if maybe_aks:
            unread = ", ".join(v.name for v in self.unread_vnets)
            note = (f"{', '.join(maybe_aks)} may be the address space of VNet {unread}, which AKS adds back by "
                    "itself (its address space could not be read).")
        action = "keep" if not added and not removed else "change"
        aks = tuple(e for e in self._stored_no_proxy() if self.aks_adds(e) and _key(e) not in after_keys)
        uncertain = bool(removed) and not added and set(maybe_aks) == set(removed)
        return NoProxyChange("noProxy", action, before, after, () if action == "keep" else ROLLOUT["noProxy"], note,
                             tuple(added), tuple(removed), aks, uncertain)

    def changed_fields(self, new: Mapping[str, Any] | None) -> list[str]:
        """The fields an update with ``new`` changes (empty: nothing the user set changes, so AKS reimages nothing).
        ``new`` None: the update leaves the proxy config alone."""
        if new is None:
            return []
        return [c.field for c in self.changes(new) if c.action != "keep"]

    def certain_fields(self, new: Mapping[str, Any] | None) -> list[str]:
        """``changed_fields`` less a noProxy change that may be none at all (only CIDRs that may be an unread VNet's
        space removed): whether AKS reimages for that cannot be told here, so it is announced, never refused."""
        if new is None:
            return []
        return [c.field for c in self.changes(new)
                if c.action != "keep" and not (isinstance(c, NoProxyChange) and c.uncertain)]

    def config_to_send(self, new: Mapping[str, Any]) -> dict[str, Any]:
        """The httpProxyConfig the PUT carries for ``new``: the stored one exactly when nothing the user set changes
        (as core's own read-modify-write of an unrelated update sends it, so the service sees no change whichever
        way it compares); else ``new``, with a disabled proxy kept disabled when the file does not say."""
        if self.stored is not None and not self.changed_fields(new):
            return dict(self.stored)
        out = dict(new)
        if out.get("enabled") is None and self.enabled is False:
            out["enabled"] = False
        return out


def model_of(cluster: Mapping[str, Any] | ClusterModel,
             vnets: Mapping[str, VnetSpace] | None = None) -> ClusterModel:
    """``cluster`` as a ClusterModel (a model is returned as it is)."""
    return cluster if isinstance(cluster, ClusterModel) else ClusterModel(cluster, vnets)
