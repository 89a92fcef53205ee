"""The report document: what `--report FILE.html` renders, as a small JSON-ready dict, and how an audit becomes one.

Shape (``SCHEMA``). Every text is untrusted (cluster names, ARM messages): the renderer escapes and masks it all.

    {
      "schema": "aksproxy.report/1",
      "kind": "audit" | "rollout",
      "title": str,
      "generatedAt": str,              # ISO 8601, aware; "now" for expiry and the timeline
      "horizonDays": int,              # a certificate is expiring when its notAfter is within this many days
      "subscriptions": [{"subscriptionId": str, "subscription": str | None, "error": str | None}],
      "clusters": [{
        "subscriptionId": str, "subscription": str | None, "resourceGroup": str | None, "cluster": str | None,
        "proxy": bool,                 # an HTTP proxy is configured
        "nodes": int,                  # nodes in its pools (a stopped pool has none)
        "nodesToReimage": int,         # nodes the change reimages (rollout), or an update to the reference (audit)
        "nodesReimaged": int,          # rollout: nodes already on the new config
        "certificates": [str],         # SHA-256 fingerprints of its trustedCa certificates
        "findings": [dict],            # as `-o json` prints them: severity, code, path, value, message, fix, source
        "stage": str | None, "group": str | None,
        "state": str | None,           # rollout: one of fleet/states.py's STATES; audit: None
        "reason": str | None,          # held: why it is held
        "error": str | None,           # failed: what failed
      }],
      "findings": [dict],              # rows about no one cluster (subscription-unreadable), as `-o json` prints them
      "certificates": [{"subject": str, "issuer": str, "sha256Fingerprint": str, "notBefore": str, "notAfter": str}],
      "rollout": None | {"name": str, "state": str, "concurrency": int | None,
                         "stages": [{"name": str, "groups": [str], "afterStageWaitSeconds": int | None}]},
    }

Counts (clusters by state, findings by severity, nodes) are not stored: the renderer derives them from the clusters,
so the summary cannot disagree with the table. Never in a document: a config, a trustedCa value, a proxy password.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..cluster.model import ClusterModel
from ..cluster.pools import node_count, reimaged_pools
from ..config.certs import aware_now
from .audit_rules import (
    DEFAULT_EXPIRY_HORIZON_DAYS,
    SubscriptionListing,
    cluster_identity,
    trusted_ca_certificates,
)
from .states import FAILED, PENDING, RUNNING

SCHEMA = "aksproxy.report/1"
AUDIT, ROLLOUT = "audit", "rollout"
# Nodes still to be reimaged are counted in these states only: a held, drifted or unchanged cluster is not written.
STATES_TO_REIMAGE = frozenset({RUNNING, PENDING, FAILED})


def cluster_key(subscription_id: Any, resource_group: Any, name: Any) -> tuple[str, str, str]:
    return str(subscription_id).lower(), str(resource_group or "").lower(), str(name or "").lower()


def from_audit(listings: Iterable[SubscriptionListing], rows: Iterable[Mapping[str, Any]], *,
               reference: Mapping[str, Any] | None = None, horizon_days: int = DEFAULT_EXPIRY_HORIZON_DAYS,
               now: datetime | None = None, title: str = "HTTP proxy audit") -> dict[str, Any]:
    """The report of an audit: what was listed (``listings``) and what ``fleet.audit_rules.audit`` said (``rows``).

    With a ``reference``, a cluster that drifts from it counts its nodes as to be reimaged: an update to the
    reference changes its proxy config, which AKS applies by reimaging every pool."""
    by_cluster: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    loose: list[dict[str, Any]] = []
    for row in rows:
        if row.get("cluster") is None:
            loose.append(dict(row))
        else:
            key = cluster_key(row["subscriptionId"], row.get("resourceGroup"), row["cluster"])
            by_cluster.setdefault(key, []).append(_finding(row))
    certificates: dict[str, dict[str, Any]] = {}
    clusters: list[dict[str, Any]] = []
    subscriptions: list[dict[str, Any]] = []
    for listing in sorted(listings, key=lambda s: ((s.display_name or "").lower(), s.subscription_id)):
        subscriptions.append({"subscriptionId": listing.subscription_id, "subscription": listing.display_name,
                              "error": listing.error})
        for cluster in listing.clusters:
            rg, name = cluster_identity(cluster)
            findings = by_cluster.get(cluster_key(listing.subscription_id, rg, name), [])
            try:
                has_proxy, fingerprints, nodes = _facts(cluster, certificates)
            except Exception:  # noqa: BLE001 - an odd document: the audit's cluster-unreadable row says why
                has_proxy, fingerprints, nodes = False, [], 0
            drifts = reference is not None and any(f["code"] == "config-drift" for f in findings)
            clusters.append({
                "subscriptionId": listing.subscription_id, "subscription": listing.display_name,
                "resourceGroup": rg, "cluster": name, "proxy": has_proxy, "nodes": nodes,
                "nodesToReimage": nodes if drifts else 0, "nodesReimaged": 0, "certificates": fingerprints,
                "findings": findings, "stage": None, "group": None, "state": None, "reason": None, "error": None})
    return {"schema": SCHEMA, "kind": AUDIT, "title": title, "generatedAt": aware_now(now).isoformat(),
            "horizonDays": horizon_days, "subscriptions": subscriptions, "clusters": clusters, "findings": loose,
            "certificates": sorted(certificates.values(), key=lambda c: (c["notAfter"], c["sha256Fingerprint"])),
            "rollout": None}


def _facts(cluster: Mapping[str, Any], certificates: dict[str, dict[str, Any]]) -> tuple[bool, list[str], int]:
    """(has a proxy, its trustedCa fingerprints, its nodes); each new certificate is added to ``certificates``."""
    config = ClusterModel(cluster).user_config()
    fingerprints = []
    if config is not None and isinstance(config.get("trustedCa"), str):
        for cert in trusted_ca_certificates(config["trustedCa"]):
            fingerprints.append(cert.sha256_fingerprint)
            certificates.setdefault(cert.sha256_fingerprint, {
                "subject": cert.subject, "issuer": cert.issuer, "sha256Fingerprint": cert.sha256_fingerprint,
                "notBefore": cert.not_before.isoformat(), "notAfter": cert.not_after.isoformat()})
    nodes = node_count(reimaged_pools(cluster))
    return config is not None, fingerprints, nodes


_FINDING_KEYS = ("severity", "code", "path", "value", "message", "fix", "source")


def _finding(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in _FINDING_KEYS}
