"""The rollout plan file: what `rollout apply` will write, cluster by cluster, decided and reviewed beforehand.

JSON with a ``schemaVersion``; read back strictly: another version, a missing or mistyped field, or a stage that
names no cluster is a clear error before anything is written. Per cluster it holds the eTag read at plan time (the
apply refuses a cluster that changed since, and its PUT carries ``If-Match``), the user config before (proxy URLs
masked) and after (written verbatim: validate's rules refuse credentials in proxy URLs, and trustedCa holds public
certificates only), the fields that change, the pools and nodes AKS will reimage, the disruption verdict and the
stage and group it runs in. Version 2 also holds the strategy's gates (a ScheduledStart gate with the time this plan
fixed, ``notBefore``), failure budgets and stage concurrency; a plan without them is written as version 1, and both
are read (an older aksproxy refuses version 2 rather than roll past gates it cannot see).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..cluster.pools import node_count
from ..cluster.resource_id import ResourceId
from ..config.findings import mask_secrets
from .strategy import (
    Group,
    Stage,
    StrategyError,
    fix_schedules,
    read_group,
    read_stage_extras,
)

SCHEMA_VERSION = 2  # the newest this aksproxy writes and reads
PLAIN_SCHEMA_VERSION = 1  # written when no stage carries gates, budgets or a stage concurrency
READ_VERSIONS = (PLAIN_SCHEMA_VERSION, SCHEMA_VERSION)
KIND = "aksproxy.httpProxyRolloutPlan"
CHANGE, UNCHANGED, HELD = "change", "unchanged", "held"
ACTIONS = (CHANGE, UNCHANGED, HELD)
# Selected clusters the plan leaves out, listed with the reason and never written by any edit.
OUT_OF_SCOPE = "out-of-scope"  # no HTTP proxy: an edit changes proxies, it never turns one on
SKIPPED = "skipped"  # the edited config would be invalid there, or a pool cannot run behind a proxy
EXCLUDED = "excluded"  # named by --exclude
LEFT_OUT_ACTIONS = (OUT_OF_SCOPE, SKIPPED, EXCLUDED)


class PlanError(ValueError):
    """The plan file cannot be used; nothing was written."""


class _ClusterOfPlan:
    """Where a cluster of the plan is, from its ARM id and the subscription name read at plan time."""

    id: str
    subscription_name: str

    @property
    def subscription(self) -> str:
        return ResourceId.parse(self.id).subscription

    @property
    def resource_group(self) -> str:
        return ResourceId.parse(self.id).resource_group

    @property
    def name(self) -> str:
        return ResourceId.parse(self.id).name

    @property
    def label(self) -> str:
        return cluster_label(self.id, self.subscription_name)


@dataclass(frozen=True)
class PlannedCluster(_ClusterOfPlan):
    id: str  # the ARM id as listed
    etag: str
    stage: int  # index into Plan.stages
    group: str
    action: str  # CHANGE | UNCHANGED | HELD
    before: Mapping[str, Any] | None  # the user config at plan time
    after: Mapping[str, Any]  # the user config to write
    changed_fields: tuple[str, ...] = ()
    pools: tuple[Mapping[str, Any], ...] = ()  # {"name", "nodes"} per pool AKS reimages
    disruption: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""  # why held (or unchanged)
    subscription_name: str = ""  # the subscription's display name as read at plan time ("" when unknown)

    @property
    def nodes(self) -> int:
        return node_count(self.pools) if self.action == CHANGE else 0

    def to_dict(self, stage_name: str) -> dict[str, Any]:
        return {"id": self.id, "subscriptionId": self.subscription, "subscription": self.subscription_name,
                "resourceGroup": self.resource_group,
                "name": self.name, "eTag": self.etag, "stage": stage_name, "group": self.group,
                "action": self.action, "reason": self.reason, "changedFields": list(self.changed_fields),
                "before": masked(self.before), "after": dict(self.after), "pools": [dict(p) for p in self.pools],
                "nodes": self.nodes, "disruption": dict(self.disruption)}


@dataclass(frozen=True)
class LeftOut(_ClusterOfPlan):
    """A selected cluster the plan leaves out (OUT_OF_SCOPE, SKIPPED or EXCLUDED), with why and, for a skipped
    one, the findings of its edited config."""

    id: str
    action: str
    reason: str
    subscription_name: str = ""
    findings: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "subscriptionId": self.subscription, "subscription": self.subscription_name,
                "resourceGroup": self.resource_group, "name": self.name, "action": self.action,
                "reason": self.reason, "findings": [dict(f) for f in self.findings]}


def cluster_label(cluster_id: str, subscription_name: str = "") -> str:
    """``rg/name (subscription)``: the same rg/name in two subscriptions reads as two clusters. The subscription's
    name when known, else its id."""
    resource_id = ResourceId.parse(cluster_id)
    if not resource_id.label:
        return cluster_id
    return f"{resource_id.label} ({subscription_name or resource_id.subscription})"


def masked(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if config is None:
        return None
    return {k: mask_secrets(v) if k in ("httpProxy", "httpsProxy") and isinstance(v, str) else v
            for k, v in config.items()}


@dataclass(frozen=True)
class Plan:
    stages: tuple[Stage, ...]
    clusters: tuple[PlannedCluster, ...]
    edit: tuple[str, ...] = ()
    created: str = ""
    left_out: tuple[LeftOut, ...] = ()  # selected clusters not in the plan, each with why

    def totals(self) -> dict[str, int]:
        count = {a: sum(1 for c in self.clusters if c.action == a) for a in ACTIONS}
        return {"clusters": len(self.clusters), "changed": count[CHANGE], "unchanged": count[UNCHANGED],
                "held": count[HELD], "nodes": sum(c.nodes for c in self.clusters)}

    def stage_index(self, name: str) -> int:
        for i, stage in enumerate(self.stages):
            if stage.name.lower() == name.lower():
                return i
        raise PlanError(f"the plan has no stage {name!r}; its stages: {', '.join(s.name for s in self.stages)}.")

    def to_document(self) -> dict[str, Any]:
        version = SCHEMA_VERSION if any(s.has_extras() for s in self.stages) else PLAIN_SCHEMA_VERSION
        return {"schemaVersion": version, "kind": KIND, "created": self.created, "edit": list(self.edit),
                "stages": [s.to_dict() for s in self.stages], "totals": self.totals(),
                "clusters": [c.to_dict(self.stages[c.stage].name) for c in self.clusters],
                "leftOut": [c.to_dict() for c in self.left_out]}

    def dumps(self) -> str:
        return json.dumps(self.to_document(), indent=2) + "\n"

    def summary(self) -> str:
        t = self.totals()
        text = (f"{t['clusters']} cluster(s) in {len(self.stages)} stage(s): {t['changed']} to change "
                f"({t['nodes']} node(s) reimaged), {t['unchanged']} unchanged, {t['held']} held.")
        if self.left_out:
            counts = {a: sum(1 for c in self.left_out if c.action == a) for a in LEFT_OUT_ACTIONS}
            text += f" Left out: {', '.join(f'{n} {a}' for a, n in counts.items() if n)}."
        return text


def _need(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PlanError(f"{where}.{key} is missing or not a {names}.")
    return value


def parse_plan(text: str, source: str = "the plan file") -> Plan:
    """A Plan from its JSON text; PlanError naming the first problem (the plan is all or nothing)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PlanError(f"{source} is not JSON ({exc}); write a new one with `az aks http-proxy rollout plan`.") \
            from None
    if not isinstance(doc, Mapping):
        raise PlanError(f"{source} is not a rollout plan (a JSON object).")
    if doc.get("kind") != KIND:
        raise PlanError(f"{source} is not an aksproxy rollout plan (kind {doc.get('kind')!r}).")
    if doc.get("schemaVersion") not in READ_VERSIONS:
        raise PlanError(f"{source} has schemaVersion {doc.get('schemaVersion')!r}; this aksproxy reads version "
                        f"{' or '.join(map(str, READ_VERSIONS))}. Plan again with this version.")
    stages = [_stage(raw, f"$.stages[{i}]") for i, raw in enumerate(_need(doc, "stages", list, "$"))]
    if not stages:
        raise PlanError(f"{source} has no stage.")
    stage_of = {s.name.lower(): i for i, s in enumerate(stages)}
    clusters = []
    seen: set[str] = set()
    for i, raw in enumerate(_need(doc, "clusters", list, "$")):
        where = f"$.clusters[{i}]"
        if not isinstance(raw, Mapping):
            raise PlanError(f"{where} is not an object.")
        cid = _need(raw, "id", str, where)
        if cid.lower() in seen:
            raise PlanError(f"{where}: cluster {cid} is listed twice.")
        seen.add(cid.lower())
        stage_name = _need(raw, "stage", str, where)
        if stage_name.lower() not in stage_of:
            raise PlanError(f"{where}: stage {stage_name!r} is not one of the plan's stages.")
        stage = stage_of[stage_name.lower()]
        group = _need(raw, "group", str, where)
        if group.lower() not in {g.name.lower() for g in stages[stage].groups}:
            raise PlanError(f"{where}: group {group!r} is not in stage {stage_name!r}.")
        action = _need(raw, "action", str, where)
        if action not in ACTIONS:
            raise PlanError(f"{where}.action {action!r} is not one of {', '.join(ACTIONS)}.")
        before = raw.get("before")
        if before is not None and not isinstance(before, Mapping):
            raise PlanError(f"{where}.before is not an object or null.")
        pools = _need(raw, "pools", list, where)
        if not all(isinstance(p, Mapping) for p in pools):
            raise PlanError(f"{where}.pools must be a list of objects.")
        fields = _need(raw, "changedFields", list, where)
        clusters.append(PlannedCluster(
            cid, _need(raw, "eTag", str, where), stage, group, action, before, _need(raw, "after", dict, where),
            tuple(str(f) for f in fields), tuple(pools), _need(raw, "disruption", dict, where),
            str(raw.get("reason") or ""), str(raw.get("subscription") or "")))
    edit = doc.get("edit") or []
    return Plan(tuple(stages), tuple(clusters), tuple(str(e) for e in edit), str(doc.get("created") or ""),
                _parse_left_out(doc.get("leftOut") or [], seen))


def _parse_left_out(raw_list: Any, planned: set[str]) -> tuple[LeftOut, ...]:
    """The plan's left-out clusters; one also planned would be a hand edit that could smuggle a write in."""
    if not isinstance(raw_list, list):
        raise PlanError("$.leftOut is not a list.")
    out = []
    for i, raw in enumerate(raw_list):
        where = f"$.leftOut[{i}]"
        if not isinstance(raw, Mapping):
            raise PlanError(f"{where} is not an object.")
        cid, action = _need(raw, "id", str, where), _need(raw, "action", str, where)
        if action not in LEFT_OUT_ACTIONS:
            raise PlanError(f"{where}.action {action!r} is not one of {', '.join(LEFT_OUT_ACTIONS)}.")
        if cid.lower() in planned:
            raise PlanError(f"{where}: cluster {cid} is both planned and left out.")
        findings = raw.get("findings") or []
        out.append(LeftOut(cid, action, str(raw.get("reason") or ""), str(raw.get("subscription") or ""),
                           tuple(f for f in findings if isinstance(f, Mapping))))
    return tuple(out)


def _stage(raw: Any, where: str) -> Stage:
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where} is not an object.")
    groups: list[Group] = []
    for j, g in enumerate(_need(raw, "groups", list, where)):
        if not isinstance(g, Mapping):
            raise PlanError(f"{where}.groups[{j}] is not an object.")
        _need(g, "name", str, f"{where}.groups[{j}]")
        if "maxConcurrency" not in g:
            raise PlanError(f"{where}.groups[{j}].maxConcurrency is missing.")
        try:
            groups.append(read_group(g, f"{where}.groups[{j}]", in_plan=True))
        except StrategyError as exc:
            raise PlanError(str(exc)) from None
    wait = _need(raw, "afterStageWaitInSeconds", int, where)
    stage = Stage(_need(raw, "name", str, where), tuple(groups), max(0, wait))
    try:
        return read_stage_extras(raw, where, stage, in_plan=True)
    except StrategyError as exc:
        raise PlanError(str(exc)) from None


def build_plan(stages: Sequence[Stage], clusters: Sequence[PlannedCluster], edit: Sequence[str],
               created: str, left_out: Sequence[LeftOut] = ()) -> Plan:
    """The plan, clusters in stage order (then as given), stages that got no cluster dropped, ScheduledStart gates
    fixed to their first time at or after ``created``."""
    used = sorted({c.stage for c in clusters})
    renumber = {old: new for new, old in enumerate(used)}
    ordered = sorted(clusters, key=lambda c: c.stage)
    kept = [stages[i] for i in used]
    if any(s.has_extras() for s in kept):
        moment = datetime.fromisoformat(created) if created else None
        if moment is None or moment.tzinfo is None:
            raise PlanError("a plan with gates needs its creation time (with a UTC offset).")
        kept = [fix_schedules(s, moment) for s in kept]
    return Plan(tuple(kept), tuple(replace(c, stage=renumber[c.stage]) for c in ordered), tuple(edit), created,
                tuple(left_out))
