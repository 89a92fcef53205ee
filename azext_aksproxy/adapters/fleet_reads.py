"""The fleet's reads, each written once for `audit` and `rollout plan|apply|status`: the subscriptions to read, the
clusters in each (ARM's managedClusters list, one request per page of clusters, not one per cluster), their names,
and Fleet Manager's members and update strategies. Reads go through az's ARM pipeline (adapters/azure_reads.py):
its authentication, user agent, --debug logging and azure-core's 429/5xx retries honouring Retry-After. Why ARM
list rather than Azure Resource Graph: docs/audit-and-report.md, "Fleet audit".
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import re
from concurrent.futures import ThreadPoolExecutor, as_completed

from knack.log import get_logger
from knack.util import CLIError

from azext_aksproxy.adapters.azure_reads import ArmReader, ReadError

logger = get_logger(__name__)

SUBSCRIPTIONS_API_VERSION = "2022-12-01"  # what az login uses for GET /subscriptions
# Subscriptions read at once. ARM throttles reads per subscription and principal, so reading different
# subscriptions in parallel does not draw on one bucket; a few are enough to hide the round trips.
PARALLEL_SUBSCRIPTIONS = 4
FLEET_TYPE = "Microsoft.ContainerService/fleets"
FLEET_API_VERSION = "2025-03-01"  # Fleet Manager's stable REST API
# Update strategies are read in the version that carries every field aksproxy honours or refuses (gates, stage
# maxConcurrency, ScheduledStart, maxAllowedFailures, memberSelector): Fleet answers a GET in the version asked for,
# so an older one would leave out the gates without a word.
FLEET_STRATEGY_API_VERSION = "2026-06-02-preview"
_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
_MC = "/providers/Microsoft.ContainerService/managedClusters"


def list_subscriptions(arm: ArmReader) -> list[dict]:
    """Every subscription the signed-in identity can see (GET /subscriptions, all pages)."""
    return [s for page in arm.pages("/subscriptions", SUBSCRIPTIONS_API_VERSION) for s in page]


def subscription_names(arm: ArmReader) -> dict:
    """{subscription id lower: display name} of the subscriptions visible; empty when unreadable, as the names
    only make rows clearer."""
    try:
        return {s["subscriptionId"].lower(): s.get("displayName") for s in list_subscriptions(arm)
                if s.get("subscriptionId") and s.get("displayName")}
    except ReadError as exc:
        logger.info("Could not list the subscriptions' names: %s", exc)
        return {}


def subscription_targets(cmd, arm: ArmReader, subscriptions, all_subscriptions) \
        -> list[tuple[str, str | None, str | None]]:
    """(subscription id, display name, why it cannot be read) for each selected subscription: the current one,
    --subscriptions (ids or unique names) or --all-subscriptions (not both: _validators.validate_fleet_selection)."""
    from azure.cli.core.azclierror import AzureResponseError

    if not subscriptions and not all_subscriptions:
        from azure.cli.core._profile import Profile

        current = Profile(cli_ctx=cmd.cli_ctx).get_subscription(cmd.cli_ctx.data.get("subscription_id"))
        return [(current["id"], current.get("name"), None)]
    try:
        visible = list_subscriptions(arm)
    except ReadError as exc:
        raise AzureResponseError(f"Could not list the subscriptions this identity can see: {exc}") from exc
    if all_subscriptions:
        return [(s["subscriptionId"], s.get("displayName"), None) for s in visible]
    return [_target(given, visible) for given in dict.fromkeys(subscriptions)]  # de-duplicated, in order


def _target(given: str, visible: list[dict]) -> tuple[str, str | None, str | None]:
    by_id = [s for s in visible if s["subscriptionId"].lower() == given.lower()]
    by_name = [s for s in visible if str(s.get("displayName", "")).lower() == given.lower()]
    if by_id or len(by_name) == 1:
        found = (by_id or by_name)[0]
        return found["subscriptionId"], found.get("displayName"), None
    if by_name:
        return given, given, "Several subscriptions have this name; give its id instead."
    if _GUID.match(given):  # not listed, but maybe readable all the same: try it
        return given, None, None
    return given, given, ("No subscription with this name or id is visible to the signed-in identity (az "
                          "account list --all).")


def read_subscription(arm: ArmReader, target: tuple[str, str | None, str | None], resource_group_name: str | None):
    """One subscription's clusters as a SubscriptionListing; its failure is in the listing, never raised (az's own
    errors aside: not logged in, expired credentials concern every subscription)."""
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
            listing.resource_group_missing = True  # no such group in this subscription: nothing to read
        else:
            listing.error = str(exc)
    except CLIError:
        raise
    except Exception as exc:  # noqa: BLE001 - one subscription's failure is its row, never the end of the read
        listing.error = f"{type(exc).__name__}: {exc}"
    return listing


def read_subscriptions(arm: ArmReader, targets, resource_group_name: str | None, on_read=None) -> list:
    """Every target's SubscriptionListing, PARALLEL_SUBSCRIPTIONS at a time, in the order they finish;
    ``on_read(listing)`` is called as each one does (progress)."""
    listings = []
    with ThreadPoolExecutor(max_workers=min(PARALLEL_SUBSCRIPTIONS, len(targets) or 1)) as pool:
        futures = [pool.submit(read_subscription, arm, target, resource_group_name) for target in targets]
        for future in as_completed(futures):
            listing = future.result()
            if on_read:
                on_read(listing)
            listings.append(listing)
    return listings


def every_cluster(arm: ArmReader, targets, resource_group_name: str | None) -> tuple[list, dict]:
    """(every target subscription's clusters, {subscription id lower: its display name}); refused when any
    subscription cannot be read, as a plan over part of the selection would leave clusters out without a word."""
    from azure.cli.core.azclierror import AzureResponseError

    listings = read_subscriptions(arm, targets, resource_group_name)
    broken = [f"{s.display_name or s.subscription_id}: {s.error}" for s in listings if s.error]
    if broken:
        raise AzureResponseError("Could not read every selected subscription; no plan was written:\n  "
                                 + "\n  ".join(broken))
    names = {s.subscription_id.lower(): s.display_name for s in listings if s.display_name}
    return [c for s in listings for c in s.clusters], names


def fleet_members(cmd, arm: ArmReader, fleet_name, fleet_resource_group, fleet_strategy):
    """({member cluster id lower: its update group}, the fleet update strategy's stages or None) of a Fleet Manager
    fleet in the current subscription (Fleet REST API: fleets/{f}/members, fleets/{f}/updateStrategies/{s})."""
    from azure.cli.core._profile import Profile
    from azure.cli.core.azclierror import (
        AzureResponseError,
        InvalidArgumentValueError,
        ResourceNotFoundError,
    )

    from azext_aksproxy.fleet.strategy import StrategyError, parse_strategy

    sub = Profile(cli_ctx=cmd.cli_ctx).get_subscription_id()
    fleet_id = f"/subscriptions/{sub}/resourceGroups/{fleet_resource_group}/providers/{FLEET_TYPE}/{fleet_name}"
    try:
        members = [m for page in arm.pages(fleet_id + "/members", FLEET_API_VERSION) for m in page]
        strategy_doc = arm.get(f"{fleet_id}/updateStrategies/{fleet_strategy}", FLEET_STRATEGY_API_VERSION,
                               missing_ok=True) if fleet_strategy else None
    except ReadError as exc:
        raise AzureResponseError(f"Could not read fleet {fleet_name}: {exc}") from None
    if fleet_strategy and strategy_doc is None:
        raise ResourceNotFoundError(f"Fleet {fleet_name} has no update strategy {fleet_strategy}.")
    groups = {}
    for m in members:
        props = m.get("properties") or {}
        if props.get("clusterResourceId"):
            groups[str(props["clusterResourceId"]).lower()] = props.get("group")
    if not groups:
        raise ResourceNotFoundError(f"Fleet {fleet_name} has no member clusters; no plan was written.")
    try:
        stages = parse_strategy(strategy_doc) if strategy_doc is not None else None
    except StrategyError as exc:
        raise InvalidArgumentValueError(f"Update strategy {fleet_strategy} of fleet {fleet_name}: {exc}") from None
    return groups, stages
