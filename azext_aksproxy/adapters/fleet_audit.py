"""`az aks http-proxy audit`: every cluster's proxy config in one pass, across subscriptions.

The reads are the fleet's (adapters/fleet_reads.py: one managedClusters list per page of clusters, several
subscriptions at a time); the rules are the pure core's (fleet/audit_rules.py); this module only reports.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import threading

from knack.log import get_logger

from azext_aksproxy.adapters.azure_reads import ArmReader
from azext_aksproxy.adapters.findings_to_az import (
    exit_after_output,
    reference_config,
    write_report,
)
from azext_aksproxy.adapters.fleet_reads import read_subscriptions, subscription_targets
from azext_aksproxy.adapters.progress import ProgressReporter, outcome

logger = get_logger(__name__)

PROGRESS_EVERY_SECONDS = 2.0  # CI logs: at most one progress line this often, none for runs shorter than this


class _Progress:
    """The audit's progress (adapters/progress.py): a live line on a terminal; in CI logs a plain line at most every
    few seconds (none for short runs). A subscription that cannot be read is a warning: it needs attention."""

    def __init__(self, cli_ctx, total: int) -> None:
        self.total, self.done, self.clusters = total, 0, 0
        self.lock = threading.Lock()
        self.reporter = ProgressReporter(cli_ctx, "Audit", every=PROGRESS_EVERY_SECONDS).__enter__()
        self.reporter.note(self._text())

    def _text(self) -> str:
        return f"{self.done}/{self.total} subscription(s) read, {self.clusters} cluster(s)"

    def read(self, listing) -> None:
        with self.lock:
            self.done += 1
            self.clusters += len(listing.clusters)
            self.reporter.note(self._text())
            if listing.error:
                logger.warning("Audit: subscription %s could not be read: %s", listing.display_name or
                               listing.subscription_id, listing.error)

    def end(self) -> None:
        self.reporter.end()


def _vnet_spaces(cmd, arm: ArmReader, listings) -> dict:
    """The address spaces of the custom VNets AKS wrote into noProxy, read only for the clusters whose answer
    depends on them (``ClusterModel.needs_vnet_reads``: more unexplained CIDRs than VNets), each distinct VNet once
    for the whole fleet; a healthy fleet costs no read."""
    from azext_aksproxy.adapters.azure_reads import VnetCache
    from azext_aksproxy.cluster.model import ClusterModel

    vnets = VnetCache(cmd.cli_ctx, arm)
    models = (ClusterModel(cluster) for listing in listings for cluster in listing.clusters)
    vnets.read([model.cluster for model in models if model.has_proxy and model.needs_vnet_reads])
    return vnets.spaces


def http_proxy_audit(cmd, subscriptions=None, all_subscriptions=False, resource_group_name=None, config=None,
                     expiring_within=None, fail_on="error", report=None):
    from azext_aksproxy.fleet.audit_rules import (
        DEFAULT_EXPIRY_HORIZON_DAYS,
        audit,
        fails,
    )

    # --expiring-within and --report were checked by _validators.validate_audit_arguments.
    horizon = DEFAULT_EXPIRY_HORIZON_DAYS if expiring_within is None else expiring_within
    reference = reference_config(config, "no cluster was read") if config else None

    arm = ArmReader(cmd.cli_ctx)
    targets = subscription_targets(cmd, arm, subscriptions, all_subscriptions)
    progress = _Progress(cmd.cli_ctx, len(targets))
    try:
        listings = read_subscriptions(arm, targets, resource_group_name, on_read=progress.read)
    finally:
        progress.end()
    if resource_group_name:
        missing = [s for s in listings if s.resource_group_missing]
        if missing and len(missing) == len(listings):
            logger.warning("Resource group %s was not found in the %d subscription(s) audited.",
                           resource_group_name, len(listings))
    rows, summary = audit(listings, reference=reference, horizon_days=horizon, vnets=_vnet_spaces(cmd, arm, listings))
    if summary.errors or summary.warnings or summary.unreadable_subscriptions:
        logger.warning("%s", summary.text())
    else:  # a clean fleet: the outcome, not something that needs attention
        outcome(cmd.cli_ctx, "", summary.text())
    if report is not None:
        _write_report(report, listings, rows, reference, horizon)
    failing = fails(rows, fail_on)
    if failing:
        clusters = {(r["subscriptionId"], r["resourceGroup"], r["cluster"]) for r in failing}
        exit_after_output(cmd.cli_ctx, f"{len(failing)} finding(s) in {len(clusters)} cluster(s) or subscription(s) "
                                       f"fail the audit (--fail-on {fail_on}).")
    return rows


def _write_report(path: str, listings, rows, reference, horizon: int) -> None:
    """--report: the audit as one self-contained HTML file (azext_aksproxy/fleet); its path on stderr."""
    from azext_aksproxy.fleet.report_document import from_audit
    from azext_aksproxy.fleet.report_html import render

    write_report(path, render(from_audit(listings, rows, reference=reference, horizon_days=horizon)))
