"""The `az aks http-proxy diff` document: what an update with a config file would change, remove and roll.

Built on ``ClusterModel.changes()`` (the same comparison the update path warns from), with noProxy shown without the
entries AKS adds itself and trustedCa shown as certificates (subject, fingerprint, expiry), never as base64.
"""
from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from ..config.arm import agent_pools
from ..config.findings import Finding
from .model import ClusterModel, FieldChange, NoProxyChange, model_of
from .pools import (
    WHAT_A_REIMAGE_DOES,
    DisruptionGate,
    describe_pools,
    node_count,
    reimaged_pools,
)
from .view import describe_trusted_ca, masked

# Pods get the proxy variables from a mutating webhook when they are created; this annotation opts a pod out.
NO_PROXY_VARS_ANNOTATION = 'kubernetes.azure.com/no-http-proxy-vars: "true"'


def _certs(blob: str | None) -> list[dict[str, Any]] | None:
    described = describe_trusted_ca(blob)
    if described is None:
        return None
    return [{"subject": c.get("subject"), "sha256Fingerprint": c.get("sha256Fingerprint"),
             "notAfter": c.get("notAfter")} for c in described["certificates"]]


def _cert_label(cert: Mapping[str, Any]) -> str:
    return f"{cert.get('subject')} (SHA-256 {str(cert.get('sha256Fingerprint'))[:23]}...)"


def _trusted_ca_row(change: FieldChange) -> dict[str, Any]:
    before, after = _certs(change.before), _certs(change.after)
    before_fps = {c["sha256Fingerprint"]: c for c in before or []}
    after_fps = {c["sha256Fingerprint"]: c for c in after or []}
    added = [_cert_label(c) for fp, c in after_fps.items() if fp not in before_fps]
    removed = [_cert_label(c) for fp, c in before_fps.items() if fp not in after_fps]
    notes = []
    if added:
        notes.append(f"adds {'; '.join(added)}")
    if removed:
        notes.append(f"removes {'; '.join(removed)}")
    if change.action == "change" and not added and not removed:
        notes.append("same certificates, encoded differently: the nodes still roll")
    row = _row(change, before, after, ", ".join(notes))
    row["removedCertificates"] = removed
    return row


def _no_proxy_row(change: NoProxyChange, model: ClusterModel) -> dict[str, Any]:
    after = list(change.after)
    # Entries AKS added are left out of "before", unless the file names them too: the two lists then compare.
    listed = {e.lower() for e in after}
    stored = [str(e) for e in (model.stored or {}).get("noProxy") or []]
    before = [e for e in stored if not model.aks_adds(e) or e.lower() in listed]
    added, removed = change.added, change.removed
    notes = []
    if added:
        notes.append(f"adds {', '.join(added)}")
    if removed:
        notes.append(f"removes {', '.join(removed)}")
    if change.note:
        notes.append(change.note)
    row = _row(change, before, after, "; ".join(notes))
    # Set aside from "before": the entries AKS writes into noProxy itself, which an update keeps whatever the file.
    row["aksAdded"] = list(change.aks_added)
    row["removedEntries"] = removed
    return row


def _row(change: FieldChange, before: Any, after: Any, note: str = "") -> dict[str, Any]:
    return {"field": change.field, "action": change.action, "before": before, "after": after,
            "rollout": list(change.rollout), "note": note or change.note}


def _removals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        if row["field"] == "noProxy":
            out += [{"field": "noProxy", "value": e} for e in row.pop("removedEntries")]
        elif row["field"] == "trustedCa":
            labels = row.pop("removedCertificates")
            out += [{"field": "trustedCa", "value": label} for label in labels]
        elif row["action"] == "remove":
            out.append({"field": row["field"], "value": row["before"]})
    return out


def _reimage(node_fields: list[str], cluster: Mapping[str, Any], gate: DisruptionGate | None) -> dict[str, Any]:
    """What today's AKS does with the update: it reimages every pool itself, unless its disruption policy refuses."""
    if not node_fields:
        return {"required": False, "pools": [], "nodes": 0, "summary": "", "nodeDisruption": None}
    pools = reimaged_pools(cluster)
    nodes = node_count(pools)
    summary = (f"AKS reimages every node pool as part of the update: {describe_pools(pools)}; "
               f"{WHAT_A_REIMAGE_DOES}.")
    if gate is not None and gate.allowed is False:
        summary = f"AKS would refuse the update ({gate.code}): {gate.reason}."
    return {"required": True, "pools": pools, "nodes": nodes, "summary": summary,
            "nodeDisruption": gate.to_dict() if gate is not None else None}


def _rollout(rows: list[dict[str, Any]], cluster: Mapping[str, Any], resource_group: str, name: str,
             config_path: str, gate: DisruptionGate | None = None) -> dict[str, Any]:
    rg, cl, path = shlex.quote(resource_group), shlex.quote(name), shlex.quote(config_path)
    pod_fields = [r["field"] for r in rows if "pods" in r["rollout"]]
    node_fields = [r["field"] for r in rows if "nodes" in r["rollout"]]
    pools = [str(p.get("name")) for p in agent_pools(cluster)]
    return {
        "apply": f"az aks update -g {rg} -n {cl} --http-proxy-config {path}",
        "pods": {
            "required": bool(pod_fields), "fields": pod_fields,
            "why": "The proxy variables are injected into pods when they are created; running pods keep the old "
                   f"values. Pods annotated {NO_PROXY_VARS_ANNOTATION} get none and need no restart.",
            "commands": [f"az aks get-credentials -g {rg} -n {cl}",
                         "kubectl rollout restart deployment,statefulset,daemonset -n <namespace>"]
            if pod_fields else [],
        },
        "nodes": {
            "required": bool(node_fields), "fields": node_fields, "pools": pools if node_fields else [],
            "why": "Node-level settings (containerd, kubelet, the OS trust store) reach the nodes when they are "
                   "recreated. Today's AKS reimages every pool itself as part of the update; with "
                   "--upgrade-node-image the update follows that and upgrades the node image only of pools that "
                   "were not reimaged (older service behaviour). az aks http-proxy show tells per pool whether its "
                   "nodes run the current config.",
            "commands": [f"az aks update -g {rg} -n {cl} --http-proxy-config {path} --upgrade-node-image",
                         f"az aks http-proxy show -g {rg} -n {cl}"]
            if node_fields else [],
            "reimage": _reimage(node_fields, cluster, gate),
        },
    }


def diff_document(cluster: Mapping[str, Any] | ClusterModel, new: Mapping[str, Any], *, resource_group: str,
                  name: str, config_path: str, findings: list[Finding] | None = None,
                  gate: DisruptionGate | None = None) -> dict[str, Any]:
    """Field by field, what replacing the cluster's httpProxyConfig with ``new`` (a canonical config) does."""
    model = model_of(cluster)
    cluster = model.cluster
    rows = []
    for change in model.changes(new):
        if isinstance(change, NoProxyChange):
            rows.append(_no_proxy_row(change, model))
        elif change.field == "trustedCa":
            rows.append(_trusted_ca_row(change))
        elif change.field in ("httpProxy", "httpsProxy"):
            rows.append(_row(change, masked(change.before), masked(change.after)))
        else:
            rows.append(_row(change, change.before, change.after))
    removed = _removals(rows)
    return {
        "name": name,
        "resourceGroup": resource_group,
        "config": config_path,
        "changed": any(r["action"] != "keep" for r in rows),
        "changes": rows,
        "removed": removed,
        "rollout": _rollout(rows, cluster, resource_group, name, config_path, gate),
        "findings": [f.to_dict() for f in findings or []],
    }


