"""A rollout's state as a report document (azext_aksproxy/fleet, kind "rollout"): what `rollout status --report`
renders as one self-contained HTML file. Nothing secret: the states, the stages and the certificates the plan's
after-configs trust (fingerprints and names), never a config or a proxy URL.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..cluster.pools import node_count
from .audit_rules import trusted_ca_certificates
from .plan_file import Plan
from .report_document import ROLLOUT, SCHEMA
from .states import (
    DONE,
    DRIFTED,
    FAILED,
    GONE,
    HELD,
    PENDING,
    RUNNING,
    UNCHANGED,
    UNVERIFIED,
)

HALTED = "halted"


def overall_state(states: list[str]) -> str:
    """running while AKS rolls a cluster; halted after a failure or drift; done when every cluster is done or
    unchanged (gone ones aside); pending while clusters wait; else held."""
    present = [s for s in states if s != GONE]
    if RUNNING in present:
        return RUNNING
    if FAILED in present or DRIFTED in present:
        return HALTED
    if all(s in (DONE, UNCHANGED) for s in present):
        return DONE
    return PENDING if PENDING in present else HELD


def report_document(plan: Plan, observed: Mapping[str, tuple[str, str]], name: str, now: datetime,
                    horizon_days: int) -> dict[str, Any]:
    """``observed``: cluster id lower -> (state, why) as read from Azure now."""
    certificates: dict[str, dict[str, Any]] = {}
    clusters: list[dict[str, Any]] = []
    for entry in plan.clusters:
        state, why = observed[entry.id.lower()]
        fingerprints = []
        trusted = entry.after.get("trustedCa")
        for cert in trusted_ca_certificates(trusted) if isinstance(trusted, str) else ():
            fingerprints.append(cert.sha256_fingerprint)
            certificates.setdefault(cert.sha256_fingerprint, {
                "subject": cert.subject, "issuer": cert.issuer, "sha256Fingerprint": cert.sha256_fingerprint,
                "notBefore": cert.not_before.isoformat(), "notAfter": cert.not_after.isoformat()})
        nodes = node_count(entry.pools)
        clusters.append({
            "subscriptionId": entry.subscription, "subscription": entry.subscription_name or None,
            "resourceGroup": entry.resource_group,
            "cluster": entry.name, "proxy": True, "nodes": nodes, "nodesToReimage": entry.nodes,
            "nodesReimaged": entry.nodes if state == DONE else 0, "certificates": fingerprints, "findings": [],
            "stage": plan.stages[entry.stage].name, "group": entry.group, "state": state,
            "reason": why if state in (HELD, UNCHANGED, GONE, UNVERIFIED) else None,
            "error": why if state in (FAILED, DRIFTED) else None})
    names: dict[str, str] = {}  # subscription id -> its name as the plan read it (the audit report shows names)
    for c in plan.clusters:
        if not names.get(c.subscription):
            names[c.subscription] = c.subscription_name
    subscriptions = sorted(names)
    stages = [{"name": s.name, "groups": [g.name for g in s.groups], "afterStageWaitSeconds": s.after_wait_seconds}
              for s in plan.stages]
    return {"schema": SCHEMA, "kind": ROLLOUT, "title": f"HTTP proxy rollout {name}", "generatedAt": now.isoformat(),
            "horizonDays": horizon_days,
            "subscriptions": [{"subscriptionId": s, "subscription": names[s] or None, "error": None}
                              for s in subscriptions],
            "clusters": clusters, "findings": [],
            "certificates": sorted(certificates.values(), key=lambda c: (c["notAfter"], c["sha256Fingerprint"])),
            "rollout": {"name": name, "state": overall_state([str(c["state"]) for c in clusters]), "concurrency": None,
                        "stages": stages}}
