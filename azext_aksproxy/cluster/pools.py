"""How a proxy change reaches the nodes on today's AKS, and what each pool still needs.

Today's AKS reimages every node pool as part of an `az aks update` that changes httpProxy, httpsProxy, noProxy or
trustedCa, or enables, disables or re-enables the proxy (AKS release notes 2025-10-12; the HTTP proxy docs' caution
box; the "Node Disruption Policy (preview)" docs list those triggers). The cluster property
``nodeDisruptionProfile.nodeDisruptionPolicy`` (Allow | AllowDuringMaintenanceWindow | Block) makes the service
refuse such an update under Block, or outside the ``aksManagedNodeOSUpgradeSchedule`` window (no window configured =
allowed); node image upgrades are not held back by it.

Whether a pool's nodes run the cluster's current proxy config is read from its scale set's instances:
``latestModelApplied`` (Microsoft.Compute VirtualMachineScaleSetVM, read-only) is true once a node runs the scale
set's latest model, which carries the proxy settings. A newer node image says nothing about that.

Pure: ARM REST JSON in, decisions out; no azure-cli import.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config.arm import agent_pools, properties
from ..config.x509ext import UTC
from .model import ClusterModel, model_of

# The one rule's actions for a pool.
START = "start"  # POST upgradeNodeImageVersion, then follow the operation
FOLLOW = "follow"  # an upgrade already runs: poll the pool, never POST (that would 409 or restart it)
SKIP = "skip"  # nothing to do, or the pool cannot take it; reported with the reason
REFUSE = "refuse"  # the whole command stops before anything starts

# Does a pool's every node run the cluster's current proxy config?
YES, NO, UNKNOWN = "yes", "no", "unknown"

UPGRADING = "UpgradingNodeImageVersion"
NODE_OS_WINDOW = "aksManagedNodeOSUpgradeSchedule"
ALLOW, IN_WINDOW, BLOCK = "Allow", "AllowDuringMaintenanceWindow", "Block"
BLOCKED_CODE = "OperationBlockedByNodeDisruptionPolicy"
OUTSIDE_WINDOW_CODE = "OperationOutsideNodeDisruptionWindow"
WHAT_A_REIMAGE_DOES = ("each node is cordoned, drained (respecting PodDisruptionBudgets) and recreated; emptyDir and "
                       "other node-local data is lost")



def _lower(value: Any) -> str:
    return str(value or "").lower()


def pool_name(pool: Mapping[str, Any]) -> str:
    return str(pool.get("name") or properties(pool).get("name") or "")


# ---- does an update reimage, and may it ------------------------------------------------------------------------


def reimage_fields(cluster: Mapping[str, Any] | ClusterModel, new: Mapping[str, Any] | None) -> list[str]:
    """The httpProxyConfig fields whose change makes AKS reimage every pool (empty: no reimage): what the user set
    changes (``ClusterModel.changed_fields``). ``new`` is the config the update sends (None: the update leaves the
    proxy config alone)."""
    return model_of(cluster).changed_fields(new)


def _utc_offset(text: str) -> datetime.timedelta:
    sign = -1 if text.strip().startswith("-") else 1
    hours, _, minutes = text.strip().lstrip("+-").partition(":")
    return sign * datetime.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEK_INDEX = {"first": 0, "second": 1, "third": 2, "fourth": 3}


def _fires_on(schedule: Mapping[str, Any], day: datetime.date, start: datetime.date) -> bool | None:
    """Whether the window opens on ``day``; None for a schedule this rule does not know."""
    if "daily" in schedule:
        return (day - start).days % int(schedule["daily"].get("intervalDays") or 1) == 0
    if "weekly" in schedule:
        weekly = schedule["weekly"]
        return (_WEEKDAYS[day.weekday()] == _lower(weekly.get("dayOfWeek"))
                and ((day - start).days // 7) % int(weekly.get("intervalWeeks") or 1) == 0)
    months = (day.year - start.year) * 12 + day.month - start.month
    if "absoluteMonthly" in schedule:
        monthly = schedule["absoluteMonthly"]
        return (day.day == int(monthly.get("dayOfMonth") or 0)
                and months % int(monthly.get("intervalMonths") or 1) == 0)
    if "relativeMonthly" in schedule:
        monthly = schedule["relativeMonthly"]
        if _WEEKDAYS[day.weekday()] != _lower(monthly.get("dayOfWeek")) or months % int(
                monthly.get("intervalMonths") or 1):
            return False
        index = _lower(monthly.get("weekIndex"))
        if index == "last":
            return (day + datetime.timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 == _WEEK_INDEX.get(index, -1)
    return None


def window_open(window: Mapping[str, Any], now: datetime.datetime) -> bool | None:
    """Whether a maintenanceWindow (MaintenanceConfiguration.properties.maintenanceWindow) is open at ``now``
    (aware); None when it cannot be told (an unknown schedule or a malformed field)."""
    try:
        local = now.astimezone(UTC) + _utc_offset(str(window.get("utcOffset") or "+00:00"))
        for blocked in window.get("notAllowedDates") or []:
            if str(blocked.get("start")) <= local.date().isoformat() <= str(blocked.get("end")):
                return False
        start = datetime.date.fromisoformat(str(window.get("startDate") or "2000-01-03")[:10])
        hour, _, minute = str(window.get("startTime") or "00:00").partition(":")
        opens_at = datetime.time(int(hour), int(minute or 0))
        duration = datetime.timedelta(hours=float(window.get("durationHours") or 4))
        schedule = window.get("schedule") or {}
        for back in range(int(duration.total_seconds() // 86400) + 2):
            day = local.date() - datetime.timedelta(days=back)
            if day < start:
                continue
            fires = _fires_on(schedule, day, start)
            if fires is None:
                return None
            opens = datetime.datetime.combine(day, opens_at, local.tzinfo)
            if fires and opens <= local < opens + duration:
                return True
        return False
    except (TypeError, ValueError, AttributeError, KeyError):
        return None


@dataclass(frozen=True)
class DisruptionGate:
    """What the cluster's node disruption policy says about a reimage now."""

    policy: str  # the policy as the cluster states it; "Allow" when it states none (the service default)
    allowed: bool | None  # None: the window could not be read or evaluated, the service decides
    code: str = ""  # the service's error code when it will refuse
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"nodeDisruptionPolicy": self.policy, "allowed": self.allowed, "reason": self.reason}


def disruption_gate(cluster: Mapping[str, Any], window_config: Mapping[str, Any] | None, now: datetime.datetime,
                    window_unreadable: str = "") -> DisruptionGate:
    """Whether AKS will let a reimage run now. ``window_config`` is the aksManagedNodeOSUpgradeSchedule maintenance
    configuration (None: there is none); ``window_unreadable`` says why it could not be read, if so."""
    stated = (properties(cluster).get("nodeDisruptionProfile") or {}).get("nodeDisruptionPolicy")
    policy = str(stated or ALLOW)
    if _lower(policy) == BLOCK.lower():
        return DisruptionGate(policy, False, BLOCKED_CODE, "the node disruption policy Block refuses every update "
                                                          "that reimages nodes")
    if _lower(policy) != IN_WINDOW.lower():
        return DisruptionGate(policy, True, reason="the node disruption policy allows reimages at any time")
    if window_unreadable:
        return DisruptionGate(policy, None, reason=f"the {NODE_OS_WINDOW} maintenance window could not be read "
                                                   f"({window_unreadable}); the service decides")
    if window_config is None:
        return DisruptionGate(policy, True, reason=f"no {NODE_OS_WINDOW} maintenance window is configured, so "
                                                   "AllowDuringMaintenanceWindow allows reimages at any time")
    window = properties(window_config).get("maintenanceWindow") or {}
    is_open = window_open(window, now)
    if is_open is None:
        return DisruptionGate(policy, None, reason=f"the {NODE_OS_WINDOW} window's schedule could not be "
                                                   "evaluated here; the service decides")
    if not is_open:
        return DisruptionGate(policy, False, OUTSIDE_WINDOW_CODE,
                              f"AllowDuringMaintenanceWindow allows reimages only inside the {NODE_OS_WINDOW} window "
                              f"({describe_window(window)}), and it is closed now")
    return DisruptionGate(policy, True, reason=f"the {NODE_OS_WINDOW} window ({describe_window(window)}) is open now")


# ---- the one disruption rule: aks update and the fleet rollout ---------------------------------------------------

NO_REIMAGE = "none"  # nothing the user set changes: AKS reimages nothing
MAY_REIMAGE = "may"  # only CIDRs that may be an unread VNet's space go: announced, sent, the service decides
REIMAGE = "reimage"  # AKS reimages every pool, and the disruption policy lets it (or cannot be told: the service)
REFUSED = "refused"  # AKS reimages every pool, and the disruption policy would make the service refuse it


@dataclass(frozen=True)
class ReimageDecision:
    verdict: str  # NO_REIMAGE | MAY_REIMAGE | REIMAGE | REFUSED
    fields: tuple[str, ...]  # the fields the update changes
    gate: DisruptionGate | None = None  # None: the policy was not consulted (nothing or maybe nothing reimages)


def reimage_decision(cluster: Mapping[str, Any] | ClusterModel, sent: Mapping[str, Any] | None,
                     gate: Callable[[], DisruptionGate]) -> ReimageDecision:
    """What sending ``sent`` does to the nodes, and whether to send it: the one rule of `aks update` and the
    rollout. ``gate`` reads the disruption gate, called only when a reimage is certain: where the change itself is
    uncertain the policy is left to the service (never stricter than AKS), so neither refuses nor holds it."""
    model = model_of(cluster)
    fields = tuple(model.changed_fields(sent))
    if not fields:
        return ReimageDecision(NO_REIMAGE, fields)
    if not model.certain_fields(sent):
        return ReimageDecision(MAY_REIMAGE, fields)
    verdict = gate()
    return ReimageDecision(REFUSED if verdict.allowed is False else REIMAGE, fields, verdict)


def describe_window(window: Mapping[str, Any]) -> str:
    schedule = window.get("schedule") or {}
    kind = next(iter(schedule), "schedule")
    details = ", ".join(f"{k} {v}" for k, v in (schedule.get(kind) or {}).items())
    return (f"{kind} ({details}) from {window.get('startTime', '00:00')} {window.get('utcOffset') or '+00:00'} "
            f"for {window.get('durationHours')} h")


def disruption_fix(gate: DisruptionGate, resource_group: str, name: str) -> str:
    where = f"-g {resource_group} -n {name}"
    if gate.code == OUTSIDE_WINDOW_CODE:
        return (f"Run the update inside the window (az aks maintenanceconfiguration show -g {resource_group} "
                f"--cluster-name {name} -n {NODE_OS_WINDOW}), or allow it now with `az aks update {where} "
                "--node-disruption-policy Allow` (aks-preview) and restore the policy afterwards.")
    return (f"Allow it for this change with `az aks update {where} --node-disruption-policy Allow` (aks-preview), "
            f"run the update, then restore the policy with `--node-disruption-policy {gate.policy}`.")


# ---- which pools roll ----------------------------------------------------------------------------------------


def reimaged_pools(cluster: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pools a proxy change reimages, each with its node count and surge settings (None: not stated)."""
    rows = []
    for pool in agent_pools(cluster):
        props = properties(pool)
        stopped = _lower((props.get("powerState") or {}).get("code")) == "stopped"
        settings = props.get("upgradeSettings") or {}
        rows.append({"name": pool_name(pool), "nodes": 0 if stopped else props.get("count"),
                     "maxSurge": settings.get("maxSurge"), "maxUnavailable": settings.get("maxUnavailable"),
                     "stopped": stopped})
    return rows


def node_count(rows: Iterable[Mapping[str, Any]]) -> int:
    """The nodes of these pool rows (reimaged_pools' rows, or a plan's ``{"name", "nodes"}``): a stopped pool, or
    one whose count is not stated, adds none."""
    return sum(int(row.get("nodes") or 0) for row in rows)


def describe_pools(rows: Sequence[Mapping[str, Any]]) -> str:
    """``sys (3 nodes, maxSurge 10%), np1 (stopped)``: one phrase per pool for warnings and tables."""
    parts = []
    for row in rows:
        if row["stopped"]:
            parts.append(f"{row['name']} (stopped)")
            continue
        nodes = "? nodes" if row["nodes"] is None else f"{row['nodes']} node{'s' if row['nodes'] != 1 else ''}"
        surge = f"maxSurge {row['maxSurge']}" if row["maxSurge"] else "maxSurge not set (service default)"
        unavailable = f", maxUnavailable {row['maxUnavailable']}" if row.get("maxUnavailable") else ""
        parts.append(f"{row['name']} ({nodes}, {surge}{unavailable})")
    return ", ".join(parts)


# ---- does a pool run the current proxy config ----------------------------------------------------------------


@dataclass(frozen=True)
class NodeModel:
    """A pool's scale set instances: how many there are and how many run the scale set's latest model."""

    nodes: int
    on_latest: int


def proxy_config_state(pool: Mapping[str, Any], models: Mapping[str, NodeModel] | None,
                       unreadable: str = "") -> tuple[str, str]:
    """(yes | no | unknown, why) for "do this pool's nodes run the cluster's current proxy config". ``models`` maps
    lower-case pool names to their scale set's instances (None: they could not be read, ``unreadable`` says why)."""
    props = properties(pool)
    if _lower(props.get("type")) == "availabilityset":
        return UNKNOWN, "availability-set pools have no scale set to read"
    if _lower((props.get("powerState") or {}).get("code")) == "stopped":
        return UNKNOWN, "the pool is stopped: it has no running nodes to check"
    if models is None:
        return UNKNOWN, f"the node resource group's scale sets could not be read ({unreadable or 'no access'})"
    model = models.get(pool_name(pool).lower())
    if model is None:
        return UNKNOWN, "no scale set tagged aks-managed-poolName for this pool in the node resource group"
    if model.nodes == 0:
        return UNKNOWN, "the pool's scale set has no instances"
    if model.on_latest == model.nodes:
        return YES, f"all {model.nodes} nodes run the scale set's latest model (latestModelApplied)"
    behind = model.nodes - model.on_latest
    rolling = _lower(props.get("provisioningState")) in ("updating", UPGRADING.lower())
    return NO, (f"{behind} of {model.nodes} nodes still run an older model"
                + (f" (provisioningState {props.get('provisioningState')}: being rolled now)" if rolling else ""))


# ---- the one rule: what a pool still needs -------------------------------------------------------------------


@dataclass(frozen=True)
class PoolNeed:
    action: str  # START | FOLLOW | SKIP | REFUSE
    reason: str


def pool_need(pool: Mapping[str, Any], latest_image: str | None, proxy_state: str = UNKNOWN,
              newer_image_wanted: bool = True) -> PoolNeed:
    """What ``pool`` still needs; the order of the checks is the order of precedence. Shared by `show`, `diff`,
    `upgrade-nodes` and `aks update --upgrade-node-image`.

    ``proxy_state`` is proxy_config_state()'s answer. With ``newer_image_wanted`` (upgrade-nodes, an explicit ask)
    a pool is started when a newer node image exists or its nodes do not run the current proxy config; without it
    (carrying a proxy change) only the latter starts it, and a pool whose state is unknown is not rolled again.
    """
    props = properties(pool)
    current = props.get("nodeImageVersion")
    state = _lower(props.get("provisioningState"))
    if _lower(props.get("osType")) == "windows":
        return PoolNeed(REFUSE, "Windows pools are not supported behind an HTTP proxy; their upgrade would fail")
    if _lower(props.get("type")) == "availabilityset":
        return PoolNeed(REFUSE, "availability-set (VMAS) pools do not support node image upgrades")
    if _lower(props.get("mode")) == "machines":
        return PoolNeed(SKIP, "Machines mode pools do not support node image upgrades")
    if state == UPGRADING.lower():
        return PoolNeed(FOLLOW, "an upgrade is already running; following it")
    if _lower((props.get("powerState") or {}).get("code")) == "stopped":
        return PoolNeed(SKIP, "the pool is stopped; start it with az aks nodepool start, then re-run")
    if proxy_state == NO and state == "updating":  # e.g. the update's own reimage: a second roll would follow it
        return PoolNeed(SKIP, "a running operation is rolling its nodes now (provisioningState Updating); check "
                              "again when it ends (az aks wait --updated)")
    if proxy_state == NO:
        return PoolNeed(START, "its nodes do not run the cluster's current proxy config")
    if not newer_image_wanted:
        if proxy_state == YES:
            return PoolNeed(SKIP, "its nodes run the cluster's current proxy config")
        return PoolNeed(SKIP, "cannot tell whether its nodes run the current proxy config, so it is not rolled "
                              "again; roll it explicitly with az aks http-proxy upgrade-nodes if needed")
    if latest_image and current == latest_image and state != "failed":
        return PoolNeed(SKIP, f"already on {latest_image}")
    if state == "failed":
        return PoolNeed(START, "the last operation on the pool failed; retrying")
    return PoolNeed(START, "")
