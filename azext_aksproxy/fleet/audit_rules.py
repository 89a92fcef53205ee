"""Fleet audit: every listed cluster's stored proxy config and pools through the rules `validate -g -n` runs, plus
the fleet rules (CA expiry horizon, proxy disabled, drift from a reference config), as one row per cluster and
finding.

Pure: takes what the adapter read (per subscription, the managed clusters as ARM returns them, or why they could
not be read) and returns rows and a summary. No azure-cli import.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..cluster.addons import addon_findings
from ..cluster.cluster_rules import pool_findings
from ..cluster.model import ClusterModel, NoProxyChange, VnetSpace, is_cidr, model_of
from ..cluster.resource_id import ResourceId
from ..cluster.view import masked
from ..config import check_document
from ..config.certs import EXPIRY_NOTICE_DAYS, aware_now, describe_bundle
from ..config.findings import (
    ERROR,
    Finding,
    ProxyConfigError,
    display_value,
    error_at,
    warning_at,
)
from ..config.x509ext import CertificateFacts

DEFAULT_EXPIRY_HORIZON_DAYS = EXPIRY_NOTICE_DAYS  # the horizon of validate's ca-expiring-soon notice

# validate's fixed 30-day notice; the audit says the same with the user's horizon (ca-expiring) instead.
_SUPERSEDED = frozenset({"ca-expiring-soon"})


@dataclass
class SubscriptionListing:
    """What was read from one subscription: its clusters (ARM JSON), or the reason they could not be listed.

    ``error`` together with clusters means the listing broke off part-way (a later page failed)."""

    subscription_id: str
    display_name: str | None = None
    clusters: list[Mapping[str, Any]] = field(default_factory=list)
    error: str | None = None
    resource_group_missing: bool = False  # listed by resource group, which this subscription does not have


@dataclass
class Summary:
    subscriptions: int = 0
    unreadable_subscriptions: int = 0
    clusters: int = 0
    with_errors: int = 0
    with_warnings_only: int = 0
    clean: int = 0
    without_proxy: int = 0
    errors: int = 0
    warnings: int = 0

    def text(self) -> str:
        unreadable = (f"; {self.unreadable_subscriptions} subscription(s) could not be read completely"
                      if self.unreadable_subscriptions else "")
        return (f"Audited {self.clusters} cluster(s) in {self.subscriptions} subscription(s): {self.with_errors} "
                f"with errors, {self.with_warnings_only} with warnings only, {self.clean} clean "
                f"({self.without_proxy} without an HTTP proxy){unreadable}. Findings: {self.errors} error(s), "
                f"{self.warnings} warning(s).")

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def cluster_findings(cluster: Mapping[str, Any] | ClusterModel, *, reference: Mapping[str, Any] | None = None,
                     horizon_days: int = DEFAULT_EXPIRY_HORIZON_DAYS, now: datetime | None = None) -> list[Finding]:
    """Every finding for one listed cluster: its config's rules (as validate) on what the user set, its pools while
    the proxy is in effect, the CA horizon, a disabled proxy, and drift from ``reference`` (a canonical config)."""
    when = aware_now(now)
    model = model_of(cluster)
    config = model.user_config()
    findings: list[Finding] = []
    if config is not None:
        # The CIDR notice is for the user's own CIDRs: AKS's (the VNet space, which may be unread) are not theirs.
        cidrs = [e for e in config.get("noProxy") or [] if isinstance(e, str) and is_cidr(e)]
        maybe_aks = bool(cidrs) and model.possibly_aks_added(cidrs) == cidrs
        dropped = _SUPERSEDED | ({"noproxy-cidr"} if maybe_aks else set())
        findings += [f for f in _config_findings(_key(config), when.isoformat()) if f.code not in dropped]
        if isinstance(config.get("trustedCa"), str):
            findings += _expiry_findings(config["trustedCa"], horizon_days, when)
        if model.enabled is False:
            findings.append(warning_at(
                "$.enabled", "proxy-disabled",
                "The cluster's HTTP proxy is disabled (enabled: false): its nodes and pods do not use the proxy.",
                "Re-enable it with az aks update --enable-http-proxy, or remove the config if the proxy is gone.",
                False))
        else:
            # The service refuses Windows and availability-set pools only while a proxy is in effect.
            findings += pool_findings(model) + addon_findings(model.cluster, config)
    if reference is not None:
        findings += drift_findings(model, reference)
    return findings


def _key(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


@lru_cache(maxsize=256)
def _config_findings(config_json: str, now: str) -> tuple[Finding, ...]:
    """The config rules for one stored config, memoised: a fleet shares a handful of configs, findings are
    immutable, and one audit judges every cluster at the same ``now`` (which the certificate rules depend on)."""
    return tuple(check_document(json.loads(config_json), source="httpProxyConfig",
                                now=datetime.fromisoformat(now)).findings)


@lru_cache(maxsize=256)
def _certificates(blob: str) -> tuple[CertificateFacts, ...]:
    try:
        return tuple(describe_bundle(blob))
    except ProxyConfigError:
        return ()  # unreadable: the config rules already say why


def trusted_ca_certificates(blob: str) -> tuple[CertificateFacts, ...]:
    """Each certificate of a trustedCa value, as describe_bundle reads it (memoised); () when it is unreadable."""
    return _certificates(blob)


def _expiry_findings(blob: str, horizon_days: int, now: datetime) -> list[Finding]:
    findings = []
    certificates = _certificates(blob)
    for cert in certificates:
        days_left = (cert.not_after - now).total_seconds() / 86400
        if now <= cert.not_after and days_left < horizon_days:
            findings.append(warning_at(
                "$.trustedCa", "ca-expiring",
                f"`trustedCa` certificate {cert.index} of {len(certificates)} (`{cert.subject}`) expires on "
                f"{cert.not_after:%Y-%m-%d}, in {int(days_left)} day(s) (within the {horizon_days}-day horizon).",
                "Add the renewed CA to trustedCa now (both certificates may stay during the change), then remove "
                "the old one: nodes fail to reach the proxy once it has expired.", cert.subject))
    return findings


def drift_findings(cluster: Mapping[str, Any] | ClusterModel, reference: Mapping[str, Any]) -> list[Finding]:
    """One config-drift warning per field where what the user set differs from ``reference`` (a canonical config);
    noProxy is compared without the entries AKS adds, as `az aks http-proxy diff` does."""
    model = model_of(cluster)
    if model.user_config() is None:
        return [warning_at("$", "config-drift", "The cluster has no HTTP proxy config; the reference sets one.",
                           "If the cluster should use the proxy: az aks update --http-proxy-config <reference>.")]
    findings = []
    for change in model.changes(reference):
        if change.action == "keep":
            continue
        path = f"$.{change.field}"
        if isinstance(change, NoProxyChange):
            missing, extra = list(change.added), list(change.removed)
            maybe_aks = set(model.possibly_aks_added(extra))
            extra = [e for e in extra if e not in maybe_aks]  # possibly AKS's, not drift
            if not missing and not extra:
                continue
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                    ([f"extra {', '.join(extra)}"] if extra else [])
            findings.append(warning_at(path, "config-drift",
                                       f"noProxy differs from the reference: {'; '.join(parts)}.",
                                       _DRIFT_FIX, ", ".join(missing + extra)))
        elif change.field == "trustedCa":
            findings.append(warning_at(path, "config-drift", _trusted_ca_drift(change.before, change.after),
                                       _DRIFT_FIX))
        else:
            before, after = masked(change.before), masked(change.after)
            findings.append(warning_at(path, "config-drift",
                                       f"{change.field} is {display_value(before)}; the reference has "
                                       f"{display_value(after)}.", _DRIFT_FIX, before))
    return findings


_DRIFT_FIX = ("Preview the change with az aks http-proxy diff --config <reference>, then az aks update "
              "--http-proxy-config <reference>.")


def _subjects(blob: Any) -> str:
    if not isinstance(blob, str):
        return "none"
    certificates = _certificates(blob)
    if not certificates:
        return "an unreadable value"
    return "; ".join(f"{c.subject} (until {c.not_after:%Y-%m-%d})" for c in certificates)


def _trusted_ca_drift(before: Any, after: Any) -> str:
    return f"trustedCa differs from the reference: the cluster trusts {_subjects(before)}; the reference " \
           f"{_subjects(after)}."


def cluster_identity(cluster: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(resource group, name) from the ARM id (`/subscriptions/S/resourceGroups/RG/providers/.../NAME`)."""
    resource_id = ResourceId.parse(cluster.get("id"))
    name = cluster.get("name")
    return resource_id.resource_group or None, str(name) if name is not None else (resource_id.name or None)


def _row(listing: SubscriptionListing, rg: str | None, name: str | None, finding: Finding) -> dict[str, Any]:
    return {"subscriptionId": listing.subscription_id, "subscription": listing.display_name,
            "resourceGroup": rg, "cluster": name, **finding.to_dict()}


def audit(listings: Iterable[SubscriptionListing], *, reference: Mapping[str, Any] | None = None,
          horizon_days: int = DEFAULT_EXPIRY_HORIZON_DAYS, now: datetime | None = None,
          vnets: Mapping[str, VnetSpace] | None = None) -> tuple[list[dict[str, Any]], Summary]:
    """Rows (one per cluster and finding; clean clusters have none) and the summary. A subscription that could not
    be read and a cluster that could not be audited are rows with the reason, so nothing goes missing silently.
    ``vnets``: the address spaces of the custom VNets the clusters' pools are in, read once for the fleet."""
    when = aware_now(now)
    rows: list[dict[str, Any]] = []
    summary = Summary()
    for listing in sorted(listings, key=lambda s: ((s.display_name or "").lower(), s.subscription_id)):
        summary.subscriptions += 1
        if listing.error is not None:
            summary.unreadable_subscriptions += 1
            what = (f"Listing stopped after {len(listing.clusters)} cluster(s): " if listing.clusters
                    else "The clusters of this subscription could not be listed: ")
            rows.append(_row(listing, None, None, error_at(
                f"/subscriptions/{listing.subscription_id}", "subscription-unreadable", what + listing.error,
                "Check the identity's read access (Microsoft.ContainerService/managedClusters/read) on the "
                "subscription, or run the audit again later if Azure was throttling or failing.")))
        ordered = sorted(listing.clusters, key=lambda c: tuple(str(x).lower() for x in cluster_identity(c)))
        for cluster in ordered:
            summary.clusters += 1
            rg, name = cluster_identity(cluster)
            model = ClusterModel(cluster, vnets)
            try:
                findings = cluster_findings(model, reference=reference, horizon_days=horizon_days, now=when)
            except Exception as exc:  # noqa: BLE001 - one odd document must not hide the rest of the fleet
                findings = [error_at("$", "cluster-unreadable",
                                     f"The cluster's document could not be audited: {type(exc).__name__}: {exc}",
                                     "Inspect it with az aks http-proxy show; report the document if it is valid.")]
            if not model.has_proxy:
                summary.without_proxy += 1
            errors = sum(f.is_error for f in findings)
            summary.errors += errors
            summary.warnings += len(findings) - errors
            if errors:
                summary.with_errors += 1
            elif findings:
                summary.with_warnings_only += 1
            else:
                summary.clean += 1
            rows += [_row(listing, rg, name, f) for f in findings]
    return rows, summary


def fails(rows: Iterable[Mapping[str, Any]], fail_on: str) -> list[Mapping[str, Any]]:
    """The rows that make the audit fail under ``--fail-on`` (error: errors; warning: any finding; never: none;
    the choices _params.py offers)."""
    if fail_on == "never":
        return []
    return [r for r in rows if fail_on == "warning" or r["severity"] == ERROR]
