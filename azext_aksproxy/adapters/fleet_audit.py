"""`az aks http-proxy audit`: every cluster's proxy config in one pass, across subscriptions.

Reads each subscription's clusters with ARM's managedClusters list (one request per page of clusters, not one per
cluster; pages followed by nextLink), several subscriptions at a time, through the SDK client's pipeline: az's
authentication, user agent and --debug logging, and azure-core's retries of 429/5xx honouring Retry-After. Why ARM
list rather than Azure Resource Graph: docs/audit-and-report.md, "Fleet audit". The rules are the pure core's
(fleet/audit_rules.py); this module only reads and reports.
"""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

from knack.log import get_logger
from knack.util import CLIError

from azext_aksproxy.adapters.azure_reads import ArmReader, ReadError
from azext_aksproxy.adapters.findings_to_az import exit_after_output

logger = get_logger(__name__)

SUBSCRIPTIONS_API_VERSION = "2022-12-01"  # what az login uses for GET /subscriptions
# Subscriptions read at once. ARM throttles reads per subscription and principal, so reading different
# subscriptions in parallel does not draw on one bucket; a few are enough to hide the round trips.
PARALLEL_SUBSCRIPTIONS = 4
PROGRESS_EVERY_SECONDS = 2.0  # CI logs: at most one progress line this often, none for runs shorter than this
_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
_MC = "/providers/Microsoft.ContainerService/managedClusters"


def _subscriptions(arm: ArmReader) -> list[dict]:
    subs: list[dict] = []
    for page in arm.pages("/subscriptions", SUBSCRIPTIONS_API_VERSION):
        subs += page
    return subs


def _targets(cmd, arm: ArmReader, subscriptions, all_subscriptions) -> list[tuple[str, str | None, str | None]]:
    """(subscription id, display name, why it cannot be read) for each subscription to audit."""
    from azure.cli.core.azclierror import (
        AzureResponseError,
        MutuallyExclusiveArgumentError,
    )

    if subscriptions and all_subscriptions:
        raise MutuallyExclusiveArgumentError("Use --subscriptions or --all-subscriptions, not both.")
    if not subscriptions and not all_subscriptions:
        from azure.cli.core._profile import Profile

        current = Profile(cli_ctx=cmd.cli_ctx).get_subscription(cmd.cli_ctx.data.get("subscription_id"))
        return [(current["id"], current.get("name"), None)]
    try:
        visible = _subscriptions(arm)
    except ReadError as exc:
        raise AzureResponseError(f"Could not list the subscriptions this identity can see: {exc}") from exc
    if all_subscriptions:
        return [(s["subscriptionId"], s.get("displayName"), None) for s in visible]
    by_id = {s["subscriptionId"].lower(): s for s in visible}
    by_name: dict[str, list[dict]] = {}
    for s in visible:
        by_name.setdefault(str(s.get("displayName", "")).lower(), []).append(s)
    targets: list[tuple[str, str | None, str | None]] = []
    for given in dict.fromkeys(subscriptions):  # de-duplicated, in the order given
        if given.lower() in by_id:
            found = by_id[given.lower()]
            targets.append((found["subscriptionId"], found.get("displayName"), None))
        elif len(by_name.get(given.lower(), [])) == 1:
            found = by_name[given.lower()][0]
            targets.append((found["subscriptionId"], found.get("displayName"), None))
        elif given.lower() in by_name:
            targets.append((given, given, "Several subscriptions have this name; give its id instead."))
        elif _GUID.match(given):  # not listed, but maybe readable all the same: try it
            targets.append((given, None, None))
        else:
            why = "No subscription with this name or id is visible to the signed-in identity (az account list --all)."
            targets.append((given, given, why))
    return targets


def _read(arm: ArmReader, target: tuple[str, str | None, str | None], resource_group_name: str | None):
    from azext_aksproxy.fleet.audit_rules import SubscriptionListing

    sub, name, problem = target
    listing = SubscriptionListing(sub, name)
    if problem:
        listing.error = problem
        return listing
    scope = f"/subscriptions/{sub}" + (f"/resourceGroups/{resource_group_name}" if resource_group_name else "")
    try:
        for page in arm.pages(scope + _MC, arm.clusters_api_version):
            listing.clusters += page
    except ReadError as exc:
        if resource_group_name and "(ResourceGroupNotFound)" in str(exc) and not listing.clusters:
            listing.resource_group_missing = True  # no such group in this subscription: nothing to audit
        else:
            listing.error = str(exc)
    except CLIError:
        raise  # az's own errors (not logged in, expired credentials) concern every subscription: az reports them
    except Exception as exc:  # noqa: BLE001 - one subscription's failure is its row, never the end of the audit
        listing.error = f"{type(exc).__name__}: {exc}"
    return listing


class _Progress:
    """The audit's progress (adapters/progress.py): a live line on a terminal; in CI logs a plain line at most every
    few seconds (none for short runs). A subscription that cannot be read is a warning: it needs attention."""

    def __init__(self, cli_ctx, total: int) -> None:
        from azext_aksproxy.adapters.progress import ProgressReporter

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


def _fleet_vnet_spaces(cli_ctx, arm: ArmReader, listings) -> dict:
    """The address spaces of the custom VNets AKS wrote into noProxy, read only for the clusters whose answer
    depends on them (``ClusterModel.needs_vnet_reads``: more unexplained CIDRs than VNets), each distinct VNet once
    for the whole fleet; a healthy fleet costs no read."""
    from azext_aksproxy.adapters.azure_reads import vnet_spaces, warn_unread_vnets
    from azext_aksproxy.cluster.model import ClusterModel, vnet_ids

    models = (ClusterModel(cluster) for listing in listings for cluster in listing.clusters)
    ids = [v for model in models if model.has_proxy and model.needs_vnet_reads for v in vnet_ids(model.cluster)]
    spaces = vnet_spaces(cli_ctx, ids, reader=arm)
    warn_unread_vnets(spaces.values())
    return spaces


def http_proxy_audit(cmd, subscriptions=None, all_subscriptions=False, resource_group_name=None, config=None,
                     expiring_within=None, fail_on="error", report=None):
    from azext_aksproxy.fleet.audit_rules import (
        DEFAULT_EXPIRY_HORIZON_DAYS,
        audit,
        fails,
    )

    # --expiring-within and --report were checked by _validators.validate_audit_arguments.
    horizon = DEFAULT_EXPIRY_HORIZON_DAYS if expiring_within is None else expiring_within
    reference = None
    if config:
        from azext_aksproxy.adapters.findings_to_az import raise_for_errors
        from azext_aksproxy.config import check_file

        result = check_file(config)
        # A reference the update would refuse is no reference: the same refusal as validate and diff.
        raise_for_errors(result.findings, f"--config {config}", "no cluster was read")
        reference = result.config

    arm = ArmReader(cmd.cli_ctx)
    targets = _targets(cmd, arm, subscriptions, all_subscriptions)
    progress = _Progress(cmd.cli_ctx, len(targets))
    listings = []
    try:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_SUBSCRIPTIONS, len(targets) or 1)) as pool:
            futures = [pool.submit(_read, arm, target, resource_group_name) for target in targets]
            for future in as_completed(futures):  # progress as subscriptions finish, whatever their order
                listing = future.result()
                progress.read(listing)
                listings.append(listing)
    finally:
        progress.end()
    if resource_group_name:
        missing = [s for s in listings if s.resource_group_missing]
        if missing and len(missing) == len(listings):
            logger.warning("Resource group %s was not found in the %d subscription(s) audited.",
                           resource_group_name, len(listings))
    vnets = _fleet_vnet_spaces(cmd.cli_ctx, arm, listings)
    rows, summary = audit(listings, reference=reference, horizon_days=horizon, vnets=vnets)
    if summary.errors or summary.warnings or summary.unreadable_subscriptions:
        logger.warning("%s", summary.text())
    else:  # a clean fleet: the outcome, not something that needs attention
        from azext_aksproxy.adapters.progress import ProgressReporter

        ProgressReporter(cmd.cli_ctx, "", live=False).line(summary.text())
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
    from azure.cli.core.azclierror import FileOperationError

    from azext_aksproxy.fleet.report_document import from_audit
    from azext_aksproxy.fleet.report_html import render

    page = render(from_audit(listings, rows, reference=reference, horizon_days=horizon))
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise FileOperationError(f"--report {path}: could not write the report: {exc}") from exc
    logger.warning("Report written to %s", os.path.abspath(path))
