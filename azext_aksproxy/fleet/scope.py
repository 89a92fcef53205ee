"""Which selected clusters an edit may write, and the config it writes there.

An edit changes clusters that have an HTTP proxy; one without is out of scope (an edit never turns a proxy on, which
would need a whole config with the cluster's own noProxy and CA). A cluster where the edited config would be invalid,
or with a pool that cannot run behind a proxy, is skipped with its findings; the plan covers the others. The config
written is the one the cluster STORES with only the edit applied, as core's own unrelated updates send it back: an
entry the owner set that the cluster model takes for AKS's (``localhost``) is never dropped.

Pure: ARM JSON and the cluster model in, decisions out.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..cluster.cluster_rules import pool_findings
from ..cluster.model import ClusterModel, is_cidr
from ..cluster.resource_id import ResourceId
from ..config import check_document
from ..config.findings import Finding
from .edits import Edit, EditError, apply_edit

# The httpProxyConfig fields a PUT carries (effectiveNoProxy is read-only: the SDK model never sends it).
WRITABLE_FIELDS = ("httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled")
NO_PROXY_REASON = "no HTTP proxy: an edit changes proxies, it never turns one on"


def stored_config(model: ClusterModel) -> dict[str, Any] | None:
    """The cluster's httpProxyConfig as stored, its writable fields only; None when it has no proxy."""
    if not model.has_proxy:
        return None
    stored = model.stored or {}
    return {k: stored[k] for k in WRITABLE_FIELDS if stored.get(k) is not None}


def needs_vnet_spaces(model: ClusterModel, edit: Edit) -> bool:
    """Whether the plan's answer for this cluster depends on its custom VNets' address spaces. The edit starts from
    the stored config, so a VNet's space AKS wrote there stays on both sides and changes nothing; only removing a
    stored CIDR that AKS's other entries do not explain may be removing a VNet's space (which AKS adds back)."""
    if not model.unread_vnets or not edit.remove_no_proxy:
        return False
    removed = {e.lower() for e in edit.remove_no_proxy}
    stored = (model.stored or {}).get("noProxy") or []
    return any(str(e).lower() in removed and is_cidr(str(e)) and not model.aks_adds(e) for e in stored)


@dataclass(frozen=True)
class Edited:
    """The edit applied to one cluster: ``after`` (stored config + edit, canonical) or why it cannot be."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None
    problem: str = ""  # "" when after can be written
    findings: tuple[Finding, ...] = ()  # the errors that make it unwritable


def edit_cluster(model: ClusterModel, edit: Edit, now: datetime, label: str,
                 checked: dict[str, tuple[Finding, ...]] | None = None) -> Edited:
    """The edit applied to what ``model``'s cluster stores. Validate's rules judge what the user set (the entries AKS
    adds aside, as before the edit started from the stored config): a fleet shares a few such configs, so
    ``checked`` (a dict the caller keeps for the whole plan) runs the rules once per distinct one."""
    before = stored_config(model)
    if before is None:
        return Edited(None, None, NO_PROXY_REASON)
    try:
        edited = apply_edit(before, edit, now)
    except EditError as exc:
        return Edited(before, None, str(exc))
    own = dict(edited)
    entries = [e for e in own.pop("noProxy", None) or [] if not model.aks_adds(e)]
    if entries:
        own["noProxy"] = entries
    key = json.dumps(own, sort_keys=True)
    findings = checked.get(key) if checked is not None else None
    if findings is None:
        findings = tuple(check_document(own, source=label, now=now).findings)
        if checked is not None:
            checked[key] = findings
    # A proxy on Windows or availability-set pools is refused by the service: the same rule as aks update's.
    errors = tuple(f for f in [*findings, *pool_findings(model.cluster)] if f.is_error)
    if errors:
        return Edited(before, None, f"{len(errors)} problem(s) in the edited config: "
                                    + "; ".join(f"[{f.code}] {f.message}" for f in errors), errors)
    return Edited(before, edited)


@dataclass(frozen=True)
class Exclusion:
    """One --exclude value: an ARM id (``/subscriptions/...``), a tag ``key=value``, or a word that names a cluster
    or a tag key (either matches, and the row says which)."""

    text: str

    def matches(self, cluster: Mapping[str, Any]) -> str:
        """Why ``cluster`` is excluded by this value ("" when it is not)."""
        value = self.text.strip()
        if value.startswith("/"):
            same = ResourceId.parse(cluster.get("id")).key == ResourceId.parse(value).key
            return f"--exclude {value}" if same else ""
        tags = {str(k).lower(): v for k, v in (cluster.get("tags") or {}).items()}
        key, sep, wanted = value.partition("=")
        if sep:
            return f"--exclude {value} (tag)" if tags.get(key.strip().lower(), object()) == wanted else ""
        if str(cluster.get("name", "")).lower() == value.lower():
            return f"--exclude {value} (name)"
        return f"--exclude {value} (tag {value})" if value.lower() in tags else ""


def exclusion_of(exclusions: Sequence[Exclusion], cluster: Mapping[str, Any]) -> str:
    """Why the first matching --exclude value excludes ``cluster`` ("" when none does)."""
    for exclusion in exclusions:
        why = exclusion.matches(cluster)
        if why:
            return why
    return ""


def unused_exclusions(exclusions: Sequence[Exclusion], clusters: Sequence[Mapping[str, Any]]) -> list[str]:
    """The --exclude values that match no selected cluster (a typo must not pass unnoticed)."""
    return [e.text for e in exclusions if not any(e.matches(c) for c in clusters)]
