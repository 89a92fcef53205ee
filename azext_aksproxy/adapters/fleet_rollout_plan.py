"""`az aks http-proxy rollout plan`: the edit, the selected clusters read (adapters/fleet_reads.py), each one planned
or left out with why, the stages, and the plan file. The decisions (the edit on each cluster's stored config, what
it reimages, the stages) are the pure core's (fleet/edits.py, fleet/scope.py, cluster/pools.py, fleet/strategy.py,
fleet/plan_file.py); this module reads, writes the file and reports.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import json
from dataclasses import replace

from knack.log import get_logger

from azext_aksproxy.adapters.azure_reads import ArmReader, VnetCache, disruption_gate
from azext_aksproxy.adapters.fleet_reads import (
    every_cluster,
    fleet_members,
    subscription_names,
    subscription_targets,
)
from azext_aksproxy.adapters.progress import outcome

logger = get_logger(__name__)

DEFAULT_GROUP_TAG = "aksproxy-rollout-group"  # the cluster tag that names a cluster's update group
# rollout plan: every selected cluster was left out, so no plan was written; az's "not found", as for a selection
# that matches no cluster.
EXIT_NOTHING_PLANNED = 3
SKIPPED_LISTED = 10  # skipped clusters named in the plan's warning (the rows list every one)


def _edit(config, http_proxy, https_proxy, add_no_proxy, remove_no_proxy, add_trusted_ca, remove_trusted_ca):
    from azure.cli.core.azclierror import (
        FileOperationError,
        InvalidArgumentValueError,
        RequiredArgumentMissingError,
    )

    from azext_aksproxy.adapters.findings_to_az import reference_config
    from azext_aksproxy.fleet.edits import EditError, make_edit

    reference = reference_config(config, "no plan was written") if config else None
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


def http_proxy_rollout_plan(cmd, plan_file, subscriptions=None, all_subscriptions=False, resource_group_name=None,
                            cluster_names=None, tags=None, config=None, http_proxy=None, https_proxy=None,
                            add_no_proxy=None, remove_no_proxy=None, add_trusted_ca=None, remove_trusted_ca=None,
                            stages=None, strategy_file=None, group_tag=DEFAULT_GROUP_TAG, max_concurrency="1",
                            soak_seconds=0, fleet_name=None, fleet_resource_group=None, fleet_strategy=None,
                            exclude=None):
    """The arguments' combinations are checked before this runs (_validators.py: validate_rollout_plan)."""
    from azext_aksproxy.config.x509ext import aware_now
    from azext_aksproxy.fleet import plan_file as plans
    from azext_aksproxy.fleet.scope import Exclusion

    edit = _edit(config, http_proxy, https_proxy, add_no_proxy, remove_no_proxy, add_trusted_ca, remove_trusted_ca)
    file_stages = _read_strategy_file(strategy_file) if strategy_file else None
    arm = ArmReader(cmd.cli_ctx)
    if fleet_name:
        listed, names, member_groups, fleet_stages = _fleet_clusters(cmd, arm, fleet_name, fleet_resource_group,
                                                                     fleet_strategy, resource_group_name)
    else:
        targets = subscription_targets(cmd, arm, subscriptions, all_subscriptions)
        (listed, names), member_groups, fleet_stages = every_cluster(arm, targets, resource_group_name), None, None
    exclusions = [Exclusion(e) for e in exclude or []]
    selected = _selected(listed, cluster_names, tags, exclusions)
    now = aware_now()
    entries, left_out = _plan_entries(cmd, arm, selected, edit, now, names, exclusions)
    if not entries:
        return _nothing_planned(cmd, left_out)
    placed_stages, placed = _staged(entries, fleet_stages or file_stages, member_groups, group_tag, stages,
                                    max_concurrency, soak_seconds)
    plan = plans.build_plan(placed_stages, placed, edit.describe(), now.isoformat(), left_out)
    _write_plan(plan_file, plan)
    _say_skipped(plan)
    outcome(cmd.cli_ctx, "Plan", f"written to {plan_file}: {plan.summary()}")
    _say_gates(plan)
    return [_plan_row(plan, c) for c in plan.clusters] + [_left_out_row(c) for c in plan.left_out]


def _read_strategy_file(strategy_file):
    """--strategy-file: a Fleet update strategy's JSON, its stages parsed (fleet/strategy.py)."""
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    from azext_aksproxy.fleet.strategy import StrategyError, parse_strategy

    try:
        with open(strategy_file, encoding="utf-8") as handle:
            return parse_strategy(json.load(handle))
    except StrategyError as exc:
        raise InvalidArgumentValueError(f"--strategy-file {strategy_file}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise FileOperationError(f"--strategy-file {strategy_file}: {exc}") from None


def _fleet_clusters(cmd, arm: ArmReader, fleet_name, fleet_resource_group, fleet_strategy, resource_group_name):
    """(a fleet's member clusters, {subscription id lower: name}, {member id lower: its update group}, the fleet
    strategy's stages or None); a member that is not found is left out with a warning."""
    from azext_aksproxy.cluster.resource_id import ResourceId

    member_groups, fleet_stages = fleet_members(cmd, arm, fleet_name, fleet_resource_group, fleet_strategy)
    subs = sorted({ResourceId.parse(cid).subscription for cid in member_groups})
    listed, _ = every_cluster(arm, [(sub, None, None) for sub in subs], resource_group_name)
    listed = [c for c in listed if c["id"].lower() in member_groups]
    for cid in sorted(set(member_groups) - {c["id"].lower() for c in listed}):
        logger.warning("Fleet %s: member cluster %s was not found; it is left out.", fleet_name, cid)
    return listed, subscription_names(arm), member_groups, fleet_stages


def _selected(listed, cluster_names, tags, exclusions) -> list:
    """The clusters --names and --tags select (--exclude is applied when they are planned); none is an error."""
    from azure.cli.core.azclierror import ResourceNotFoundError

    from azext_aksproxy.fleet.scope import unused_exclusions

    wanted = {n.lower() for n in cluster_names or []}
    has_tags = _tag_filter(tags)
    selected = [c for c in listed if (not wanted or str(c.get("name", "")).lower() in wanted) and has_tags(c)]
    if not selected:
        raise ResourceNotFoundError("The selection matches no cluster (subscriptions, --resource-group, --names, "
                                    "--tags); no plan was written.")
    for text in unused_exclusions(exclusions, selected):
        logger.warning("--exclude %s matches no selected cluster.", text)
    return selected


def _staged(entries, fleet_stages, member_groups, group_tag, stages, max_concurrency, soak_seconds):
    """(the stages, every planned cluster with its stage and group)."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.fleet.strategy import StrategyError

    try:
        assignment = _assign(entries, fleet_stages, member_groups, group_tag, stages, max_concurrency, soak_seconds)
    except StrategyError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    last = len(assignment.stages) - 1
    placed = []
    for _, e in entries:
        stage, group = assignment.of.get(e.id.lower(), (last, assignment.stages[last].groups[0].name))
        placed.append(replace(e, stage=stage, group=group))
    return assignment.stages, placed


def _write_plan(plan_file, plan) -> None:
    from azure.cli.core.azclierror import FileOperationError

    try:
        with open(plan_file, "w", encoding="utf-8") as handle:
            handle.write(plan.dumps())
    except OSError as exc:
        raise FileOperationError(f"--plan-file {plan_file}: {exc}") from None


def _say_skipped(plan) -> None:
    """Skipped clusters need a look; out-of-scope and excluded ones are as asked, in the rows and the summary."""
    from azext_aksproxy.fleet.plan_file import SKIPPED

    skipped = [c for c in plan.left_out if c.action == SKIPPED]
    if skipped:
        listed = "; ".join(f"{c.label}: {c.reason}" for c in skipped[:SKIPPED_LISTED])
        more = f"; and {len(skipped) - SKIPPED_LISTED} more" if len(skipped) > SKIPPED_LISTED else ""
        logger.warning("Skipped %d cluster(s), the plan covers the others (the rows say why): %s%s.", len(skipped),
                       listed, more)


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
    from azext_aksproxy.cluster.resource_id import ResourceId
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
        sub_name = str(names.get(ResourceId.parse(cluster["id"]).subscription.lower()) or "")
        excluded = exclusion_of(exclusions, cluster)
        if excluded:
            left_out.append(plans.LeftOut(cluster["id"], plans.EXCLUDED, excluded, sub_name))
        elif not ClusterModel(cluster).has_proxy:  # no VNet of such a cluster is read
            left_out.append(plans.LeftOut(cluster["id"], plans.OUT_OF_SCOPE, NO_PROXY_REASON, sub_name))
        else:
            in_scope.append((cluster, sub_name))
    checked: dict = {}  # validate's findings per distinct user config: a fleet shares a few
    vnets = VnetCache(cmd.cli_ctx, arm)  # only the VNets an answer depends on, each once, concurrently
    vnets.read([c for c, _ in in_scope if needs_vnet_spaces(ClusterModel(c), edit)])
    for cluster, sub_name in in_scope:
        model = vnets.model(cluster, read=False)
        edited = edit_cluster(model, edit, now, plans.cluster_label(cluster["id"], sub_name), checked)
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
                       key=lambda e: (e.nodes, e.id))
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
