"""`az aks http-proxy rollout plan|apply|status`: one proxy change across many clusters, staged and resumable.

Reads go through the audit's ARM client (adapters/fleet_audit.py: one managedClusters list per page of clusters, several
subscriptions at once, az's authentication and azure-core's 429 retries). The write is core's SDK client's
``begin_create_or_update`` with ``If-Match: <the plan's eTag>`` (AKS answers 412 when the cluster changed since):
a concurrent writer is never overwritten. The decisions (the edit, the stages, the states, which cluster starts
next) are the pure core's (fleet/); this module reads, writes and reports.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from knack.log import get_logger

from azext_aksproxy.adapters.azure_reads import ArmReader, ReadError, disruption_gate
from azext_aksproxy.adapters.fleet_audit import _read, _targets
from azext_aksproxy.adapters.progress import ProgressReporter

logger = get_logger(__name__)

DEFAULT_GROUP_TAG = "aksproxy-rollout-group"  # the cluster tag that names a cluster's update group
PARALLEL_READS = 8  # cluster GETs at once when reading a plan's clusters back (apply, status)
READ_CHUNK = 64  # clusters whose JSON is held at once while their states are worked out
POLL_SECONDS = 2.0  # following a cluster AKS is rolling (resumed apply) and waiting out a 409
# A 409 without Retry-After (azure-core waits out those with one): waits doubling from the first to the last.
CONFLICT_WAITS_SECONDS = (2.0, 30.0)
DEFAULT_TIMEOUT_SECONDS = 3 * 3600  # per cluster: check, write, reimage
STOPPED_WHILE_ROLLING = "written; AKS goes on rolling it out after the stop: apply the same plan again to follow it"
_MC = "/providers/Microsoft.ContainerService/managedClusters"
FLEET_TYPE = "Microsoft.ContainerService/fleets"
FLEET_API_VERSION = "2025-03-01"  # Fleet Manager's stable REST API
# Update strategies are read in the version that carries every field aksproxy honours or refuses (gates, stage
# maxConcurrency, ScheduledStart, maxAllowedFailures, memberSelector): Fleet answers a GET in the version asked for,
# so an older one would leave out the gates without a word.
FLEET_STRATEGY_API_VERSION = "2026-06-02-preview"
# rollout plan: every selected cluster was left out, so no plan was written; az's "not found", as for a selection
# that matches no cluster.
EXIT_NOTHING_PLANNED = 3
SKIPPED_LISTED = 10  # skipped clusters named in the plan's warning (the rows list every one)
# The node check's loggers: inside a rollout their warnings are the check's progress (adapters/progress.py).
NODE_CHECK_LOGGERS = ("cli.azext_aksproxy.adapters.check",)


# ---- reads ------------------------------------------------------------------------------------------------------


class _Vnets:
    """The address spaces of the clusters' custom VNets (AKS adds them to noProxy), each distinct VNet read once
    for the whole command, concurrently; the cluster model separates them from what the user set."""

    def __init__(self, cli_ctx, arm: ArmReader) -> None:
        self.cli_ctx, self.arm = cli_ctx, arm
        self.spaces: dict = {}
        self.lock = threading.Lock()

    def read(self, clusters) -> None:
        from azext_aksproxy.adapters.azure_reads import vnet_spaces, warn_unread_vnets
        from azext_aksproxy.cluster.model import vnet_ids

        with self.lock:
            wanted = [v for c in clusters for v in vnet_ids(c) if v not in self.spaces]
        if wanted:
            got = vnet_spaces(self.cli_ctx, wanted, reader=self.arm)
            warn_unread_vnets(got.values())
            with self.lock:
                self.spaces.update(got)

    def model(self, cluster: dict, read: bool = True):
        """The cluster's model with the spaces read so far; ``read``: read its VNets first if not yet read."""
        from azext_aksproxy.cluster.model import ClusterModel, vnet_ids

        if read:
            self.read([cluster])
        with self.lock:
            return ClusterModel(cluster, {v: self.spaces[v] for v in vnet_ids(cluster) if v in self.spaces})


def _fields_left(model, after: dict) -> list[str]:
    """The proxy fields in which the cluster's user config differs from ``after`` (none: it runs the plan)."""
    return model.changed_fields(after)


def _cluster_label(cluster_id: str, subscription_name: str = "") -> str:
    """``rg/name (subscription name, else id)``: fleet.plan_file.cluster_label."""
    from azext_aksproxy.fleet.plan_file import cluster_label

    return cluster_label(cluster_id, subscription_name)


# ---- plan -------------------------------------------------------------------------------------------------------


def _edit(config, http_proxy, https_proxy, add_no_proxy, remove_no_proxy, add_trusted_ca, remove_trusted_ca):
    from azure.cli.core.azclierror import (
        FileOperationError,
        InvalidArgumentValueError,
        RequiredArgumentMissingError,
    )

    from azext_aksproxy.fleet.edits import EditError, make_edit

    reference = None
    if config:
        from azext_aksproxy.adapters.findings_to_az import raise_for_errors
        from azext_aksproxy.config import check_file

        result = check_file(config)
        raise_for_errors(result.findings, f"--config {config}", "no plan was written")
        reference = result.config
    pems = []
    for path in add_trusted_ca or []:
        try:
            with open(path, encoding="utf-8") as handle:
                pems.append((path, handle.read()))
        except (OSError, UnicodeDecodeError) as exc:
            raise FileOperationError(f"--add-trusted-ca {path}: {exc}") from None
    try:
        edit = make_edit(reference=reference, http_proxy=http_proxy, https_proxy=https_proxy,
                         add_no_proxy=add_no_proxy or (), remove_no_proxy=remove_no_proxy or (),
                         add_trusted_ca=pems, remove_trusted_ca=remove_trusted_ca or ())
    except EditError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    if edit.is_empty():
        raise RequiredArgumentMissingError(
            "Say what to change: --config (httpProxy, httpsProxy, trustedCa from a file), --http-proxy, "
            "--https-proxy, --add-no-proxy, --remove-no-proxy, --add-trusted-ca or --remove-trusted-ca.")
    return edit


def _tag_filter(tags):
    """--tags k=v k2 (k2: any value) -> predicate on a cluster's tags (case-insensitive keys, exact values)."""
    wanted = []
    for text in tags or []:
        key, sep, value = text.partition("=")
        wanted.append((key.strip().lower(), value if sep else None))

    def matches(cluster: dict) -> bool:
        have = {str(k).lower(): v for k, v in (cluster.get("tags") or {}).items()}
        return all(k in have and (v is None or have[k] == v) for k, v in wanted)

    return matches


def _list_clusters(cmd, arm: ArmReader, subscriptions, all_subscriptions, resource_group_name, targets=None):
    """(every selected subscription's clusters, {subscription id lower: its display name})."""
    from azure.cli.core.azclierror import AzureResponseError

    targets = targets or _targets(cmd, arm, subscriptions, all_subscriptions)
    with ThreadPoolExecutor(max_workers=min(4, len(targets) or 1)) as pool:
        listings = list(pool.map(lambda t: _read(arm, t, resource_group_name), targets))
    broken = [f"{s.display_name or s.subscription_id}: {s.error}" for s in listings if s.error]
    if broken:  # a plan over part of the selection would leave clusters out without saying so
        raise AzureResponseError("Could not read every selected subscription; no plan was written:\n  "
                                 + "\n  ".join(broken))
    names = {s.subscription_id.lower(): s.display_name for s in listings if s.display_name}
    return [c for s in listings for c in s.clusters], names


def _subscription_names(arm: ArmReader) -> dict:
    """{subscription id lower: display name} of the subscriptions visible (one list); empty when unreadable, as
    the names only make rows clearer."""
    from azext_aksproxy.adapters.fleet_audit import _subscriptions

    try:
        return {s["subscriptionId"].lower(): s.get("displayName") for s in _subscriptions(arm)
                if s.get("subscriptionId") and s.get("displayName")}
    except ReadError as exc:
        logger.info("Could not list the subscriptions' names: %s", exc)
        return {}


def _fleet_members(cmd, arm: ArmReader, fleet_name, fleet_resource_group, fleet_strategy):
    """({member cluster id lower: its update group}, the fleet update strategy's stages or None) of a Fleet Manager
    fleet in the current subscription (Fleet REST API: fleets/{f}/members, fleets/{f}/updateStrategies/{s})."""
    from azure.cli.core._profile import Profile
    from azure.cli.core.azclierror import (
        AzureResponseError,
        InvalidArgumentValueError,
        RequiredArgumentMissingError,
        ResourceNotFoundError,
    )

    from azext_aksproxy.fleet.strategy import StrategyError, parse_strategy

    if not fleet_resource_group:
        raise RequiredArgumentMissingError("--fleet-name needs --fleet-resource-group.")
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


def http_proxy_rollout_plan(cmd, plan_file, subscriptions=None, all_subscriptions=False, resource_group_name=None,
                            cluster_names=None, tags=None, config=None, http_proxy=None, https_proxy=None,
                            add_no_proxy=None, remove_no_proxy=None, add_trusted_ca=None, remove_trusted_ca=None,
                            stages=None, strategy_file=None, group_tag=DEFAULT_GROUP_TAG, max_concurrency="1",
                            soak_seconds=0, fleet_name=None, fleet_resource_group=None, fleet_strategy=None,
                            exclude=None):
    import json

    from azure.cli.core.azclierror import (
        FileOperationError,
        InvalidArgumentValueError,
        ResourceNotFoundError,
    )

    from azext_aksproxy.config.x509ext import aware_now
    from azext_aksproxy.fleet import plan_file as plans
    from azext_aksproxy.fleet import strategy
    from azext_aksproxy.fleet.scope import Exclusion, unused_exclusions

    if sum(1 for given in (stages, strategy_file, fleet_strategy) if given) > 1:
        raise InvalidArgumentValueError("Use one of --stages, --strategy-file and --fleet-strategy.")
    if fleet_strategy and not fleet_name:
        raise InvalidArgumentValueError("--fleet-strategy needs --fleet-name and --fleet-resource-group.")
    if fleet_name and (subscriptions or all_subscriptions):
        raise InvalidArgumentValueError("--fleet-name selects the fleet's members: drop --subscriptions and "
                                        "--all-subscriptions.")
    edit = _edit(config, http_proxy, https_proxy, add_no_proxy, remove_no_proxy, add_trusted_ca, remove_trusted_ca)
    fleet_stages = None
    if strategy_file:
        try:
            with open(strategy_file, encoding="utf-8") as handle:
                fleet_stages = strategy.parse_strategy(json.load(handle))
        except (OSError, ValueError) as exc:
            if isinstance(exc, strategy.StrategyError):
                raise InvalidArgumentValueError(f"--strategy-file {strategy_file}: {exc}") from None
            raise FileOperationError(f"--strategy-file {strategy_file}: {exc}") from None

    arm = ArmReader(cmd.cli_ctx)
    member_groups = None
    if fleet_name:
        member_groups, from_fleet = _fleet_members(cmd, arm, fleet_name, fleet_resource_group, fleet_strategy)
        fleet_stages = from_fleet or fleet_stages
        subs = sorted({cid.split("/")[2] for cid in member_groups})
        listed, _ = _list_clusters(cmd, arm, None, False, resource_group_name,
                                   targets=[(sub, None, None) for sub in subs])
        listed = [c for c in listed if c["id"].lower() in member_groups]
        names = _subscription_names(arm)
        missing = set(member_groups) - {c["id"].lower() for c in listed}
        for cid in sorted(missing):
            logger.warning("Fleet %s: member cluster %s was not found; it is left out.", fleet_name, cid)
    else:
        listed, names = _list_clusters(cmd, arm, subscriptions, all_subscriptions, resource_group_name)
    wanted = {n.lower() for n in cluster_names or []}
    has_tags = _tag_filter(tags)
    selected = [c for c in listed if (not wanted or str(c.get("name", "")).lower() in wanted) and has_tags(c)]
    if not selected:
        raise ResourceNotFoundError("The selection matches no cluster (subscriptions, --resource-group, --names, "
                                    "--tags); no plan was written.")
    exclusions = [Exclusion(e) for e in exclude or []]
    for text in unused_exclusions(exclusions, selected):
        logger.warning("--exclude %s matches no selected cluster.", text)
    now = aware_now()
    entries, left_out = _plan_entries(cmd, arm, selected, edit, now, names, exclusions)
    if not entries:
        return _nothing_planned(cmd, left_out)
    try:
        assignment = _assign(entries, fleet_stages, member_groups, group_tag, stages, max_concurrency, soak_seconds)
    except strategy.StrategyError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    last = len(assignment.stages) - 1
    placed = []
    for _, e in entries:
        stage, group = assignment.of.get(e.id.lower(), (last, assignment.stages[last].groups[0].name))
        placed.append(replace(e, stage=stage, group=group))
    plan = plans.build_plan(assignment.stages, placed, edit.describe(), now.isoformat(), left_out)
    try:
        with open(plan_file, "w", encoding="utf-8") as handle:
            handle.write(plan.dumps())
    except OSError as exc:
        raise FileOperationError(f"--plan-file {plan_file}: {exc}") from None
    skipped = [c for c in plan.left_out if c.action == plans.SKIPPED]
    if skipped:  # needs a look; out-of-scope and excluded clusters are as asked, in the rows and the summary
        listed = "; ".join(f"{c.label}: {c.reason}" for c in skipped[:SKIPPED_LISTED])
        more = f"; and {len(skipped) - SKIPPED_LISTED} more" if len(skipped) > SKIPPED_LISTED else ""
        logger.warning("Skipped %d cluster(s), the plan covers the others (the rows say why): %s%s.", len(skipped),
                       listed, more)
    _say(cmd.cli_ctx, "Plan", f"written to {plan_file}: {plan.summary()}")
    _say_gates(plan)
    return [_plan_row(plan, c) for c in plan.clusters] + [_left_out_row(c) for c in plan.left_out]


def _plan_entries(cmd, arm: ArmReader, selected, edit, now, names, exclusions):
    """([(cluster JSON, PlannedCluster without its stage)], [LeftOut]): each selected cluster planned or left out
    with why; the edit starts from the config each cluster stores (fleet/scope.py)."""
    from azext_aksproxy.cluster.model import ClusterModel
    from azext_aksproxy.cluster.pools import (
        MAY_REIMAGE,
        NO_REIMAGE,
        REFUSED,
        reimage_decision,
        reimaged_pools,
    )
    from azext_aksproxy.fleet import plan_file as plans
    from azext_aksproxy.fleet.scope import (
        NO_PROXY_REASON,
        edit_cluster,
        exclusion_of,
        needs_vnet_spaces,
    )

    entries, left_out = [], []
    in_scope = []
    for cluster in selected:
        sub_name = str(names.get(cluster["id"].split("/")[2].lower()) or "")
        excluded = exclusion_of(exclusions, cluster)
        if excluded:
            left_out.append(plans.LeftOut(cluster["id"], plans.EXCLUDED, excluded, sub_name))
        elif not ClusterModel(cluster).has_proxy:  # no VNet of such a cluster is read
            left_out.append(plans.LeftOut(cluster["id"], plans.OUT_OF_SCOPE, NO_PROXY_REASON, sub_name))
        else:
            in_scope.append((cluster, sub_name))
    checked: dict = {}  # validate's findings per distinct user config: a fleet shares a few
    vnets = _Vnets(cmd.cli_ctx, arm)  # only the VNets an answer depends on, each once, concurrently
    vnets.read([c for c, _ in in_scope if needs_vnet_spaces(ClusterModel(c), edit)])
    for cluster, sub_name in in_scope:
        model = vnets.model(cluster, read=False)
        edited = edit_cluster(model, edit, now, _cluster_label(cluster["id"], sub_name), checked)
        if edited.after is None:
            left_out.append(plans.LeftOut(cluster["id"], plans.SKIPPED, edited.problem, sub_name,
                                          tuple(f.to_dict() for f in edited.findings)))
            continue
        decision = reimage_decision(model, edited.after, lambda c=cluster: disruption_gate(arm.cli_ctx, c, arm))
        action, reason, disruption = plans.CHANGE, "", decision.gate.to_dict() if decision.gate else {}
        if decision.verdict == NO_REIMAGE:
            action, reason = plans.UNCHANGED, "the edit changes nothing here"
        elif decision.verdict == REFUSED:
            action, reason = plans.HELD, decision.gate.reason
        elif decision.verdict == MAY_REIMAGE:
            reason = ("may reimage: only CIDRs that may be an unread VNet's space change, so the service decides "
                      "(as az aks update leaves it)")
        pools = tuple({"name": p["name"], "nodes": p["nodes"] or 0} for p in reimaged_pools(cluster))
        entries.append((cluster, plans.PlannedCluster(
            cluster["id"], str(cluster.get("eTag") or ""), 0, "", action, edited.before, edited.after,
            decision.fields, pools, disruption, reason, sub_name)))
    return entries, left_out


def _assign(entries, fleet_stages, member_groups, group_tag, stages, max_concurrency, soak_seconds):
    """The stages and each planned cluster's (stage, group): the strategy's groups, or the smallest first."""
    from azext_aksproxy.fleet import plan_file as plans
    from azext_aksproxy.fleet import strategy

    if fleet_stages is not None:
        if member_groups is not None:  # a fleet's members carry their update group
            labels = {e.id: member_groups.get(e.id.lower()) for _, e in entries}
        else:  # ARM tag names are case-insensitive
            labels = {e.id: next((v for k, v in (c.get("tags") or {}).items()
                                  if k.lower() == group_tag.lower()), None) for c, e in entries}
        return strategy.assign_groups(fleet_stages, labels)
    # the smallest clusters first: the canary reimages the fewest nodes
    to_change = sorted((e for _, e in entries if e.action == plans.CHANGE),
                       key=lambda e: (sum(int(p.get("nodes") or 0) for p in e.pools), e.id))
    assignment = strategy.simple_stages(stages or strategy.DEFAULT_STAGES, [e.id for e in to_change],
                                        str(max_concurrency), int(soak_seconds or 0))
    if not assignment.stages:  # nothing to change: one stage holds the unchanged and held clusters
        assignment = strategy.simple_stages("rest", [e.id for _, e in entries], str(max_concurrency))
    return assignment


def _nothing_planned(cmd, left_out):
    """Every selected cluster is left out: no plan file, the rows say why, and the exit code says nothing was
    planned (a pipeline must not go on to apply a plan that does not exist)."""
    from azext_aksproxy.adapters.findings_to_az import exit_after_output

    exit_after_output(cmd.cli_ctx, f"Every selected cluster ({len(left_out)}) is left out (no HTTP proxy, skipped "
                                   "or excluded, see the rows); no plan was written.", EXIT_NOTHING_PLANNED)
    return [_left_out_row(c) for c in left_out]


def _say(cli_ctx, prefix: str, text: str) -> None:
    """One progress line outside a run (adapters/progress.py): what happened, not a warning."""
    from azext_aksproxy.adapters.progress import ProgressReporter

    ProgressReporter(cli_ctx, prefix, live=False).line(text)


def _say_gates(plan) -> None:
    """The strategy's gates and budgets, as the plan holds them: what apply will stop at and count."""
    from azext_aksproxy.fleet.gates import summary

    for line in summary(plan):
        logger.warning("Rollout gate or budget: %s", line)


def _plan_row(plan, c) -> dict:
    return {"stage": plan.stages[c.stage].name, "group": c.group, "subscription": c.subscription_name,
            "subscriptionId": c.subscription, "resourceGroup": c.resource_group, "name": c.name,
            "action": c.action, "changedFields": list(c.changed_fields), "nodes": c.nodes, "reason": c.reason}


def _left_out_row(c) -> dict:
    return {"stage": None, "group": None, "subscription": c.subscription_name, "subscriptionId": c.subscription,
            "resourceGroup": c.resource_group, "name": c.name, "action": c.action, "changedFields": [], "nodes": 0,
            "reason": c.reason, "findings": [dict(f) for f in c.findings]}


# ---- apply and status -------------------------------------------------------------------------------------------


def _load_plan(plan_file):
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    from azext_aksproxy.fleet.plan_file import PlanError, parse_plan

    try:
        with open(plan_file, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileOperationError(f"--plan-file {plan_file}: {exc}") from None
    try:
        plan = parse_plan(text, plan_file)
    except PlanError as exc:
        raise InvalidArgumentValueError(f"{exc} Nothing was written.") from None
    return plan


def _read_states(arm: ArmReader, vnets: _Vnets, plan):
    """{cluster id lower: (state, why, its eTag now or "")}, every planned cluster read now, READ_CHUNK at a
    time (PARALLEL_READS GETs at once), each distinct VNet once; a cluster's JSON is dropped once its state is
    known, so the memory of a read stays flat in the number of clusters."""
    from azure.cli.core.azclierror import AzureResponseError

    from azext_aksproxy.adapters.fleet_rollout_resume import verify_done
    from azext_aksproxy.fleet.states import etag_text, observed_state

    def one(entry):
        try:
            return entry, arm.get(entry.id, arm.clusters_api_version, missing_ok=True), ""
        except ReadError as exc:
            return entry, None, str(exc)

    states, broken = {}, []
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        for first in range(0, len(plan.clusters), READ_CHUNK):
            results = list(pool.map(one, plan.clusters[first:first + READ_CHUNK]))
            broken += [f"{e.label}: {err}" for e, _, err in results if err]
            if broken:
                continue  # the rest is read only to name every cluster that cannot be
            vnets.read([c for _, c, _ in results if c])
            chunk = {}
            for entry, cluster, _ in results:
                left = _fields_left(vnets.model(cluster), dict(entry.after)) if cluster else []
                chunk[entry.id.lower()] = (*observed_state(entry, cluster, left), cluster)
            verify_done(arm.cli_ctx, chunk)  # done means the nodes run it: read in the cluster's own subscription
            states.update({key: (state, why, etag_text(cluster.get("eTag")) if cluster else "")
                           for key, (state, why, cluster) in chunk.items()})
    if broken:
        raise AzureResponseError("Could not read every planned cluster; nothing was written:\n  " + "\n  ".join(broken))
    return states


def _row(plan, entry, state, detail, seconds=None) -> dict:
    row = {"stage": plan.stages[entry.stage].name, "group": entry.group, "subscription": entry.subscription_name,
           "subscriptionId": entry.subscription, "resourceGroup": entry.resource_group, "name": entry.name,
           "state": state, "detail": detail}
    if seconds is not None:
        row["seconds"] = round(seconds, 1)
    return row


def http_proxy_rollout_status(cmd, plan_file, report=None):
    import os

    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    if report is not None and not os.path.isdir(os.path.dirname(os.path.abspath(report))):
        raise InvalidArgumentValueError(f"--report {report}: the folder does not exist; no cluster was read.")
    arm = ArmReader(cmd.cli_ctx)
    plan = _load_plan(plan_file)
    states = _read_states(arm, _Vnets(cmd.cli_ctx, arm), plan)
    rows = [_row(plan, c, *states[c.id.lower()][:2]) for c in plan.clusters]
    if report is not None:
        from azext_aksproxy.config.x509ext import aware_now
        from azext_aksproxy.fleet.audit_rules import DEFAULT_EXPIRY_HORIZON_DAYS
        from azext_aksproxy.fleet.report_html import render
        from azext_aksproxy.fleet.rollout_report import report_document

        document = report_document(plan, {k: v[:2] for k, v in states.items()}, os.path.basename(plan_file),
                                   aware_now(), DEFAULT_EXPIRY_HORIZON_DAYS)
        try:
            with open(report, "w", encoding="utf-8") as out:
                out.write(render(document))
        except OSError as exc:
            raise FileOperationError(f"--report {report}: could not write the report: {exc}") from exc
        logger.warning("Report written to %s", os.path.abspath(report))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    _say(cmd.cli_ctx, "Rollout status", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ".")
    return rows


class _Progress(ProgressReporter):
    """The rollout's progress (adapters/progress.py): a plain stderr line per event, a live line on a terminal
    naming each running cluster; the node check run inside draws on it, not over it."""

    def __init__(self, cli_ctx) -> None:
        super().__init__(cli_ctx, "Rollout", adopt=NODE_CHECK_LOGGERS)
        self.__enter__()


class _ClusterRun:
    """One cluster of the plan: re-read, gate, proxy check from a node, PUT with If-Match, follow the reimage."""

    def __init__(self, cmd, arm: ArmReader, vnets: _Vnets, entry, skip_check: bool, timeout: float,
                 progress: _Progress, current_subscription: str, stop: threading.Event | None = None,
                 retry_etag: str | None = None) -> None:
        self.cmd, self.arm, self.vnets, self.entry = cmd, arm, vnets, entry
        self.current_subscription = current_subscription
        self.skip_check, self.timeout, self.progress = skip_check, timeout, progress
        self.label = entry.label
        self.cluster: dict | None = None
        self.stop = stop or threading.Event()
        self.retry_etag = retry_etag  # --retry-failed: the eTag this run read, the only one it writes over
        self.phase = "reading"  # then "writing" once its PUT is being sent, "written" once AKS accepted it

    def run(self) -> tuple[str, str]:
        from azext_aksproxy.fleet import states

        deadline = time.monotonic() + self.timeout
        try:
            cluster = self.arm.get(self.entry.id, self.arm.clusters_api_version, missing_ok=True)
        except ReadError as exc:
            return states.FAILED, f"could not be read: {exc}"
        model = self.vnets.model(cluster) if cluster else None
        state, why = states.observed_state(self.entry, cluster,
                                           _fields_left(model, dict(self.entry.after)) if model else [])
        self.cluster = cluster  # its node resource group, for the check of the nodes at the end
        if self.retry_etag is not None and state in (states.FAILED, states.DONE):
            return self._retry(cluster, model, state, deadline)
        if state == states.RUNNING:
            self.progress.say(self.label, "the new config is already written; following AKS's rollout",
                              "reimaging")
            return self._follow(deadline)
        if state == states.DONE:
            return self._verified()
        if state != states.PENDING:
            return state, why
        return self._prove_and_write(cluster, model, deadline, self.entry.etag)

    def _retry(self, cluster: dict, model, state: str, deadline: float) -> tuple[str, str]:
        """--retry-failed: written again only as this run read it (If-Match on that eTag)."""
        from azext_aksproxy.fleet import states

        now = states.etag_text(cluster.get("eTag"))
        if now != states.etag_text(self.retry_etag):
            return states.DRIFTED, (f"changed since this run read it (eTag {states.etag_text(self.retry_etag)} -> "
                                    f"{now}); never overwritten: plan again")
        if state == states.DONE:  # its nodes may have caught up since the start
            verdict = self._verified()
            if verdict[0] != states.FAILED:
                return verdict
        self.progress.say(self.label, "failed before: checking and writing it again", "retrying")
        return self._prove_and_write(cluster, model, deadline, self.retry_etag)

    def _prove_and_write(self, cluster: dict, model, deadline: float, etag: str) -> tuple[str, str]:
        from azext_aksproxy.cluster.pools import REFUSED, reimage_decision
        from azext_aksproxy.fleet import states

        decision = reimage_decision(model, dict(self.entry.after),
                                    lambda: disruption_gate(self.arm.cli_ctx, cluster, self.arm))
        if decision.verdict == REFUSED:
            return states.HELD, decision.gate.reason
        if self.stop.is_set():
            return states.PENDING, "not written: the run stopped before its check"
        if not self.skip_check:
            failed = self._check()
            if failed:
                return states.FAILED, failed
        return self._write(model.config_to_send(dict(self.entry.after)), deadline, etag)

    def _check(self) -> str:
        """'' when the proxy check from one of the cluster's nodes passed through the new config; else why not."""
        from azure.cli.core.azclierror import AzCLIError

        from azext_aksproxy.adapters.check import run_proxy_check
        from azext_aksproxy.config.findings import mask_secrets

        self.progress.say(self.label, "checking the new config from one of its nodes", "checking")
        try:  # in the cluster's own subscription, as the write
            run_proxy_check(self._check_config(), self.cmd.cli_ctx, cmd=self.cmd,
                            cluster=(self.entry.resource_group, self.entry.name),
                            subscription_id=self.entry.subscription)
        except AzCLIError as exc:
            return f"the proxy check from a node failed, nothing was written: {mask_secrets(str(exc))}"
        return ""

    def _check_config(self) -> dict:
        """The after-config the node check probes through: noProxy as the user set it, the entries AKS adds itself
        (loopback, the API server, the cluster's CIDRs) aside, as every check of a config file sees it."""
        config = dict(self.entry.after)
        model = self.vnets.model(self.cluster) if self.cluster else None
        entries = [e for e in config.get("noProxy") or [] if not (model and model.aks_adds(e))]
        if entries:
            config["noProxy"] = entries
        else:
            config.pop("noProxy", None)
        return config

    def _client(self):
        from azext_aksproxy._client_factory import cf_managed_clusters_in

        return cf_managed_clusters_in(self.cmd.cli_ctx, self.entry.subscription)

    def _write(self, config: dict, deadline: float, etag: str) -> tuple[str, str]:
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError, HttpResponseError

        from azext_aksproxy.adapters.azure_reads import error_text
        from azext_aksproxy.fleet import states

        client = self._client()
        rg, name = self.entry.resource_group, self.entry.name
        conflict_wait = CONFLICT_WAITS_SECONDS[0]
        while True:
            try:
                mc = client.get(rg, name)
                if states.etag_text(mc.e_tag) != states.etag_text(etag):
                    return states.DRIFTED, (f"changed since it was read (eTag {states.etag_text(etag)} -> "
                                            f"{states.etag_text(mc.e_tag)}); never overwritten: plan again")
                mc.http_proxy_config = self._proxy_model(config)
                if self.stop.is_set():  # a write is sent whole or not at all
                    return states.PENDING, "not written: the run stopped before its write"
                self.progress.say(self.label, f"writing {', '.join(self.entry.changed_fields)} "
                                              f"(If-Match {states.etag_text(etag)})", "writing")
                self.phase = "writing"
                poller = client.begin_create_or_update(rg, name, mc, etag=etag,
                                                       match_condition=MatchConditions.IfNotModified)
                self.phase = "written"
                break
            except HttpResponseError as exc:
                self.phase = "reading"  # refused: nothing was written
                if exc.status_code == 412:
                    return states.DRIFTED, ("changed by someone else since it was read (412 Precondition "
                                            "Failed); never overwritten: plan again")
                if exc.status_code == 409 and time.monotonic() < deadline and not self.stop.is_set():
                    wait = _retry_after(exc) or conflict_wait
                    conflict_wait = min(conflict_wait * 2, CONFLICT_WAITS_SECONDS[1])
                    self.progress.say(self.label, f"another operation is in progress; waiting {wait:.0f} s",
                                      "waiting")
                    self.stop.wait(wait)
                    continue
                return states.FAILED, f"the write was refused: {error_text(exc)}"
            except AzureError as exc:
                return states.FAILED, f"the write failed: {error_text(exc)}"
        self.progress.say(self.label, "written; AKS reimages every pool now", "reimaging")
        return self._await(poller, deadline)

    def _await(self, poller, deadline: float) -> tuple[str, str]:
        """AKS's operation to its end, or until the run stops (the cluster is then left rolling in Azure)."""
        from azure.core.exceptions import AzureError

        from azext_aksproxy.adapters.azure_reads import error_text
        from azext_aksproxy.fleet import states

        try:
            while not poller.done():
                if self.stop.is_set():
                    return states.RUNNING, STOPPED_WHILE_ROLLING
                if time.monotonic() >= deadline:
                    return states.FAILED, f"still rolling after {self.timeout:.0f} s; apply the plan again to follow it"
                poller.wait(timeout=min(POLL_SECONDS, max(0.1, deadline - time.monotonic())))
            poller.result()
        except AzureError as exc:
            return states.FAILED, f"the rollout failed: {error_text(exc)}"
        return self._verified()

    @staticmethod
    def _proxy_model(after: dict):
        from azure.mgmt.containerservice.models import ManagedClusterHTTPProxyConfig

        return ManagedClusterHTTPProxyConfig(after)

    def _follow(self, deadline: float) -> tuple[str, str]:
        from azext_aksproxy.fleet import states

        while time.monotonic() < deadline:
            if self.stop.is_set():
                return states.RUNNING, STOPPED_WHILE_ROLLING
            try:
                cluster = self.arm.get(self.entry.id, self.arm.clusters_api_version, missing_ok=True)
            except ReadError as exc:
                return states.FAILED, f"could not be read while following it: {exc}"
            left = _fields_left(self.vnets.model(cluster), dict(self.entry.after)) if cluster else []
            state, why = states.observed_state(self.entry, cluster, left)
            self.cluster = cluster or self.cluster
            if state == states.DONE:
                return self._verified()
            if state != states.RUNNING:
                return state, why
            self.stop.wait(POLL_SECONDS)
        return states.FAILED, f"still rolling after {self.timeout:.0f} s; apply the plan again to follow it"

    def _verified(self) -> tuple[str, str]:
        """DONE once the operation succeeded and every pool's nodes run the new model; FAILED when some still run
        the old one; UNVERIFIED when the scale sets (in the cluster's own subscription) could not be read."""
        from azext_aksproxy.adapters.fleet_rollout_resume import node_verdict

        return node_verdict(self.cmd.cli_ctx, self.cluster or {})


def _approvals(plan, approve):
    """--approve values as the plan's gate points; an unknown one is refused before anything is read."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.fleet.gates import GateError, approvals

    try:
        return approvals(plan, approve or [])
    except GateError as exc:
        raise InvalidArgumentValueError(f"{exc} Nothing was written.") from None


def _gate_message(holds, summary: str) -> str:
    """What the run stopped at, and how each gate is passed."""
    from datetime import datetime

    from azext_aksproxy.config.x509ext import UTC

    lines = [f"Rollout waiting at {len(holds)} gate(s), nothing behind them started: {summary}."]
    for hold in holds:
        if hold.until is None:
            lines.append(f"  {hold.describe()}: approve it by applying again with --approve {hold.point.address}")
        else:
            due = datetime.fromtimestamp(hold.until, UTC).isoformat()
            lines.append(f"  {hold.describe()}: not before {due}; apply again then")
    return "\n".join(lines)


def _retry_after(exc) -> float | None:
    try:
        return float(exc.response.headers.get("Retry-After"))
    except (AttributeError, TypeError, ValueError):
        return None


def http_proxy_rollout_apply(cmd, plan_file, stage=None, yes=False, skip_check=False, allowed_failures=0,
                             timeout=DEFAULT_TIMEOUT_SECONDS, approve=None, accept_failed=None, retry_failed=False,
                             stop_after=None):
    from azure.cli.core.azclierror import InvalidArgumentValueError, ValidationError

    from azext_aksproxy.adapters.findings_to_az import format_findings
    from azext_aksproxy.adapters.fleet_rollout_resume import Stopper
    from azext_aksproxy.adapters.fleet_rollout_run import (
        finish,
        result_rows,
        run_start,
        run_steps,
    )
    from azext_aksproxy.config import check_document
    from azext_aksproxy.fleet import states
    from azext_aksproxy.fleet.gates import EXIT_GATE
    from azext_aksproxy.fleet.plan_file import CHANGE
    from azext_aksproxy.fleet.resume import parse_duration

    if allowed_failures < 0 or timeout <= 0:
        raise InvalidArgumentValueError("--allowed-failures must be 0 or more and --timeout more than 0.")
    try:
        stop_seconds = parse_duration(stop_after) if stop_after is not None else None
    except ValueError as exc:
        raise InvalidArgumentValueError(f"--stop-after: {exc}.") from None
    stopper = Stopper(stop_seconds, str(stop_after or ""))  # the time counts from the command's start
    plan = _load_plan(plan_file)
    problems = []
    for c in plan.clusters:  # a hand edit must not smuggle in what the plan's validation refused
        errors = [f for f in check_document(dict(c.after), source=c.id).findings if f.is_error]
        if errors:
            problems.append(format_findings(errors, f"{c.label}: the plan's after-config is invalid"))
    if problems:
        raise ValidationError("The plan file holds invalid configs; nothing was written.\n" + "\n".join(problems))
    approved = _approvals(plan, approve)
    if stage:
        from azext_aksproxy.fleet.plan_file import PlanError

        try:
            run_stages: tuple[int, ...] = (plan.stage_index(stage),)
        except PlanError as exc:
            raise InvalidArgumentValueError(str(exc)) from None
    else:
        run_stages = tuple(range(len(plan.stages)))
    arm = ArmReader(cmd.cli_ctx)
    vnets = _Vnets(cmd.cli_ctx, arm)
    read = _read_states(arm, vnets, plan)
    start = run_start(plan, read, run_stages, stage, accept_failed, retry_failed)
    to_write = [c for c in plan.clusters if c.stage in run_stages and c.action == CHANGE
                and start.states[c.id.lower()] in (states.PENDING, states.RUNNING)]
    if to_write and not yes:
        from knack.prompting import NoTTYException, prompt_y_n

        nodes = sum(c.nodes for c in to_write)
        message = (f"Write the proxy config of {len(to_write)} cluster(s) ({nodes} node(s) reimaged, each "
                   "cordoned, drained and recreated)?")
        try:
            if not prompt_y_n(message, default="n"):
                return []
        except NoTTYException:
            raise ValidationError(f"{message} Add --yes to confirm when not run from a terminal.") from None

    from azure.cli.core._profile import Profile

    # the node check and the scale set reads use the current subscription's clients (--subscription included)
    current_subscription = str(Profile(cli_ctx=cmd.cli_ctx).get_subscription(
        cmd.cli_ctx.data.get("subscription_id"))["id"])
    scheduler = states.Scheduler(plan, dict(start.states), run_stages, allowed_failures, approved=approved,
                                 failures=start.failures, holding=dict(start.holding), accepted=start.accepted)
    etags = {key: got[2] for key, got in read.items() if key in start.retry}

    def make_run(entry, progress):
        return _ClusterRun(cmd, arm, vnets, entry, skip_check, float(timeout), progress, current_subscription,
                           stopper.event, etags.get(entry.id.lower()))

    progress = _Progress(cmd.cli_ctx)
    try:
        with stopper:
            results, unfinished = run_steps(plan, scheduler, make_run, stopper, progress)
    finally:
        progress.end()
    rows = result_rows(plan, read, results, unfinished, run_stages, scheduler)
    if scheduler.exit_code() == EXIT_GATE:
        from azext_aksproxy.adapters.findings_to_az import exit_after_output

        exit_after_output(cmd.cli_ctx, _gate_message(scheduler.waiting_at, _summary(rows)), EXIT_GATE)
        return rows
    return finish(cmd.cli_ctx, scheduler, rows, allowed_failures, start, stopper)


def _summary(rows) -> str:
    """``2 done, 1 failed``: the rows counted by state."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
