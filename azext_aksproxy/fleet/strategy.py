"""Stages in Azure Kubernetes Fleet Manager's vocabulary: an update strategy has ordered ``stages``, each with
``groups`` run side by side, and ``afterStageWaitInSeconds``, the soak time before the next stage (Fleet REST spec,
update strategies; members carry an update ``group`` label). Every field of a strategy is honoured or refused by
name, never skipped: a stage's and a group's ``maxConcurrency`` and ``maxAllowedFailures``, their ``beforeGates``
and ``afterGates`` (gates.py); ``memberSelector`` is refused. Two ways in:

- the simple form ``1,10%,rest``: stage sizes over the selected clusters in their order (a count, a percentage of
  all of them, rounded up, or ``rest``), each stage one group;
- a strategy file in the shape of a Fleet update strategy (``{"stages": [...]}`` or a Fleet UpdateStrategy resource,
  ``properties.strategy``), clusters matched to groups by their update-group label.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ..config.x509ext import UTC

DEFAULT_STAGES = "1,10%,rest"
REST = "rest"
_CONCURRENCY = re.compile(r"^\s*(\d+)\s*(%?)\s*$")
APPROVAL, SCHEDULED_START = "Approval", "ScheduledStart"  # Fleet's GateType
BEFORE, AFTER = "before", "after"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # datetime.weekday() order
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^([+-])(\d\d):([0-5]\d)$")
# The fields aksproxy reads (Fleet TypeSpec update/common.tsp, gate.tsp); any other is refused by name.
_STAGE_FIELDS = ("name", "groups", "afterStageWaitInSeconds", "maxConcurrency", "maxAllowedFailures", "beforeGates",
                 "afterGates")
_GROUP_FIELDS = ("name", "maxConcurrency", "maxAllowedFailures", "beforeGates", "afterGates")
_GATE_FIELDS = ("displayName", "type", "scheduledStartConfiguration")
_SCHEDULE_FIELDS = ("startDay", "startTime", "utcOffset")
_RESOURCE_FIELDS = ("id", "name", "type", "systemData", "eTag", "etag", "properties")  # an UpdateStrategy resource
_NOT_HONOURED = {"memberSelector": "selecting members by label is not supported; give the members an update group "
                                   "(a Fleet member's group, or the --group-tag tag) and name the groups instead"}


class StrategyError(ValueError):
    """The stages cannot be read or do not fit the clusters; the message says which and why."""


@dataclass(frozen=True)
class ScheduledStart:
    """A ScheduledStart gate's ``scheduledStartConfiguration``: a day of the week and a local time at an offset."""

    start_day: str  # one of DAYS
    start_time: str  # "HH:MM", 24-hour
    utc_offset: str  # "+HH:MM" or "-HH:MM"

    def first_at_or_after(self, moment: datetime) -> datetime:
        """The first occurrence of the day and time at or after ``moment`` (an aware datetime), in UTC."""
        sign, hours, minutes = _OFFSET.match(self.utc_offset).groups()  # type: ignore[union-attr]
        zone = timezone((-1 if sign == "-" else 1) * timedelta(hours=int(hours), minutes=int(minutes)))
        local = moment.astimezone(zone)
        hour, minute = (int(p) for p in self.start_time.split(":"))
        at = local.replace(hour=hour, minute=minute, second=0, microsecond=0) + \
            timedelta(days=(DAYS.index(self.start_day) - local.weekday()) % 7)
        if at < local:
            at += timedelta(days=7)
        return at.astimezone(UTC)

    def to_dict(self) -> dict[str, str]:
        return {"startDay": self.start_day, "startTime": self.start_time, "utcOffset": self.utc_offset}


@dataclass(frozen=True)
class GateConfig:
    """One of Fleet's gates: Approval (passed by the user, `--approve`) or ScheduledStart (passed at its time,
    ``not_before``, fixed when the plan is written)."""

    type: str  # APPROVAL | SCHEDULED_START
    display_name: str = ""
    schedule: ScheduledStart | None = None
    not_before: str = ""  # ISO 8601 UTC, in the plan only

    def describe(self) -> str:
        name = f"{self.display_name!r} " if self.display_name else ""
        return f"{name}({self.type})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.display_name:
            out["displayName"] = self.display_name
        if self.schedule is not None:
            out["scheduledStartConfiguration"] = self.schedule.to_dict()
        if self.not_before:
            out["notBefore"] = self.not_before
        return out


@dataclass(frozen=True)
class Group:
    name: str
    max_concurrency: str = "1"  # Fleet's form: "3" or "25%" of the group's clusters
    max_allowed_failures: int | None = None  # None: only the stage's and the run's budgets
    before_gates: tuple[GateConfig, ...] = ()
    after_gates: tuple[GateConfig, ...] = ()

    def limit(self, size: int) -> int:
        """How many of the group's ``size`` clusters may run at once (at least 1)."""
        return _limit(self.max_concurrency, size)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "maxConcurrency": self.max_concurrency, **_extras(self)}


@dataclass(frozen=True)
class Stage:
    name: str
    groups: tuple[Group, ...]
    after_wait_seconds: int = 0
    max_concurrency: str | None = None  # across all its groups; None: only the groups' own limits
    max_allowed_failures: int | None = None
    before_gates: tuple[GateConfig, ...] = ()
    after_gates: tuple[GateConfig, ...] = ()

    def limit(self, size: int) -> int | None:
        """How many of the stage's ``size`` clusters may run at once across its groups (None: no stage cap)."""
        return None if self.max_concurrency is None else _limit(self.max_concurrency, size)

    def has_extras(self) -> bool:
        """Whether it carries what a version-1 plan cannot hold (gates, budgets, a stage concurrency)."""
        return bool(_extras(self)) or any(_extras(g) for g in self.groups) or self.max_concurrency is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "groups": [g.to_dict() for g in self.groups],
                               "afterStageWaitInSeconds": self.after_wait_seconds}
        if self.max_concurrency is not None:
            out["maxConcurrency"] = self.max_concurrency
        return {**out, **_extras(self)}


def _extras(item: Group | Stage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if item.max_allowed_failures is not None:
        out["maxAllowedFailures"] = item.max_allowed_failures
    if item.before_gates:
        out["beforeGates"] = [g.to_dict() for g in item.before_gates]
    if item.after_gates:
        out["afterGates"] = [g.to_dict() for g in item.after_gates]
    return out


def _limit(concurrency: str, size: int) -> int:
    """Fleet's maxConcurrency of ``size`` clusters: a count, or a percentage rounded up; at least 1."""
    number, percent = parse_concurrency(concurrency)
    return max(1, math.ceil(size * number / 100) if percent else number)


def parse_concurrency(value: Any) -> tuple[int, bool]:
    match = _CONCURRENCY.match(str(value))
    if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(1)) > 100):
        raise StrategyError(f"maxConcurrency {value!r} must be a whole number of clusters (1 or more) or a "
                            "percentage (1% to 100%).")
    return int(match.group(1)), bool(match.group(2))


@dataclass(frozen=True)
class Assignment:
    """Where each cluster runs: stage index and group name, by cluster id (lower-case)."""

    stages: tuple[Stage, ...]
    of: Mapping[str, tuple[int, str]]


def simple_stages(spec: str, cluster_ids: Sequence[str], max_concurrency: str = "1",
                  soak_seconds: int = 0) -> Assignment:
    """``1,10%,rest`` over ``cluster_ids`` (in order). Stages that get no cluster are dropped; clusters left over
    after the last stage are an error unless it is ``rest``."""
    parse_concurrency(max_concurrency)
    if soak_seconds < 0:
        raise StrategyError("the soak time must be 0 or more seconds.")
    parts = [p.strip().lower() for p in spec.split(",")]
    if not parts or any(not p for p in parts):
        raise StrategyError(f"--stages {spec!r}: give stage sizes separated by commas, e.g. {DEFAULT_STAGES}.")
    total, start = len(cluster_ids), 0
    stages: list[Stage] = []
    of: dict[str, tuple[int, str]] = {}
    for index, part in enumerate(parts):
        if part == REST:
            if index != len(parts) - 1:
                raise StrategyError(f"--stages {spec!r}: {REST!r} can only be the last stage.")
            size = total - start
        else:
            match = _CONCURRENCY.match(part)
            if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(1)) > 100):
                raise StrategyError(f"--stages {spec!r}: {part!r} is not a count, a percentage or {REST!r}.")
            size = math.ceil(total * int(match.group(1)) / 100) if match.group(2) else int(match.group(1))
        chunk = cluster_ids[start:start + size]
        start += len(chunk)
        if not chunk:
            continue
        name = f"stage-{len(stages) + 1}"
        stages.append(Stage(name, (Group(name, max_concurrency),), soak_seconds))
        of.update({cid.lower(): (len(stages) - 1, name) for cid in chunk})
    if start < total:
        raise StrategyError(f"--stages {spec!r} covers {start} of the {total} selected clusters; end it with "
                            f"{REST!r}.")
    return Assignment(tuple(stages), of)


def parse_strategy(doc: Any) -> tuple[Stage, ...]:
    """The stages of a Fleet update strategy document; StrategyError naming the first field it cannot honour."""
    if isinstance(doc, Mapping) and isinstance(doc.get("properties"), Mapping):  # an UpdateStrategy resource
        _only(doc, _RESOURCE_FIELDS, "$")
        props = doc["properties"]
        if "strategy" in props:
            _only(props, ("provisioningState", "strategy"), "properties")
            doc = props["strategy"]
        else:
            doc = props
    if not isinstance(doc, Mapping) or not isinstance(doc.get("stages"), list) or not doc["stages"]:
        raise StrategyError('the strategy file must hold {"stages": [{"name", "groups": [{"name", '
                            '"maxConcurrency"}], "afterStageWaitInSeconds"}]} with at least one stage.')
    _only(doc, ("stages", "provisioningState"), "strategy")
    stages: list[Stage] = []
    seen_groups: set[str] = set()
    for i, raw in enumerate(doc["stages"]):
        where = f"stages[{i}]"
        if not isinstance(raw, Mapping) or not str(raw.get("name") or "").strip():
            raise StrategyError(f"{where} needs a name.")
        where = f"{where} ({raw['name']})"
        _only(raw, _STAGE_FIELDS, where)
        _name(raw["name"], where)
        groups_raw = raw.get("groups")
        if not isinstance(groups_raw, list) or not groups_raw:
            raise StrategyError(f"{where} needs at least one group.")
        groups = []
        for j, g in enumerate(groups_raw):
            if not isinstance(g, Mapping) or not str(g.get("name") or "").strip():
                raise StrategyError(f"{where}.groups[{j}] needs a name.")
            key = str(g["name"]).lower()
            if key in seen_groups:
                raise StrategyError(f"group {g['name']!r} appears twice; a cluster belongs to one group.")
            seen_groups.add(key)
            groups.append(read_group(g, f"{where}.groups[{j}] ({g['name']})"))
        wait = raw.get("afterStageWaitInSeconds", 0)
        if not isinstance(wait, int) or isinstance(wait, bool) or wait < 0:
            raise StrategyError(f"{where}.afterStageWaitInSeconds must be 0 or more seconds.")
        stages.append(read_stage_extras(raw, where, Stage(str(raw["name"]), tuple(groups), wait)))
    return tuple(stages)


def read_group(raw: Mapping[str, Any], where: str, in_plan: bool = False) -> Group:
    """A group of a strategy (or of a plan, ``in_plan``); StrategyError naming the field."""
    _only(raw, _GROUP_FIELDS, where)
    _name(raw["name"], where)
    concurrency = str(raw.get("maxConcurrency", "1"))
    try:
        parse_concurrency(concurrency)
    except StrategyError as exc:
        raise StrategyError(f"{where}: {exc}") from None
    return Group(str(raw["name"]), concurrency, _budget(raw, where), _gates(raw, "beforeGates", where, in_plan),
                 _gates(raw, "afterGates", where, in_plan))


def read_stage_extras(raw: Mapping[str, Any], where: str, stage: Stage, in_plan: bool = False) -> Stage:
    """``stage`` with the stage's own maxConcurrency, maxAllowedFailures and gates read from ``raw``."""
    concurrency = raw.get("maxConcurrency")
    if concurrency is not None:
        try:
            parse_concurrency(concurrency)
        except StrategyError as exc:
            raise StrategyError(f"{where}: {exc}") from None
    return replace(stage, max_concurrency=None if concurrency is None else str(concurrency),
                   max_allowed_failures=_budget(raw, where), before_gates=_gates(raw, "beforeGates", where, in_plan),
                   after_gates=_gates(raw, "afterGates", where, in_plan))


def _only(raw: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    """Refuse, by name, a field aksproxy does not honour: never skipped."""
    for key in raw:
        if key in _NOT_HONOURED:
            raise StrategyError(f"{where}.{key}: {_NOT_HONOURED[key]}.")
        if key not in known:
            raise StrategyError(f"{where}.{key}: unknown field; aksproxy honours {', '.join(known)} here and "
                                "refuses what it cannot honour.")


def _name(value: Any, where: str) -> None:
    # Fleet's names are [a-z0-9-]; "/" and ":" would make a gate's address (stage/group:before) ambiguous.
    if not isinstance(value, str) or any(c in value for c in "/: "):
        raise StrategyError(f"{where}.name {value!r} must be a name without '/', ':' or spaces.")


def _budget(raw: Mapping[str, Any], where: str) -> int | None:
    value = raw.get("maxAllowedFailures")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise StrategyError(f"{where}.maxAllowedFailures {value!r} must be a whole number of clusters, 0 or more.")
    return value


def _gates(raw: Mapping[str, Any], key: str, where: str, in_plan: bool) -> tuple[GateConfig, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise StrategyError(f"{where}.{key} must be a list of gates.")
    return tuple(read_gate(g, f"{where}.{key}[{i}]", BEFORE if key == "beforeGates" else AFTER, in_plan)
                 for i, g in enumerate(value))


def read_gate(raw: Any, where: str, timing: str, in_plan: bool = False) -> GateConfig:
    """One gate (Fleet's GateConfiguration); a plan's ScheduledStart gate also holds its ``notBefore``."""
    if not isinstance(raw, Mapping):
        raise StrategyError(f"{where} must be an object.")
    _only(raw, _GATE_FIELDS + (("notBefore",) if in_plan else ()), where)
    kind, name = raw.get("type"), raw.get("displayName", "")
    if kind not in (APPROVAL, SCHEDULED_START):
        raise StrategyError(f"{where}.type {kind!r} must be {APPROVAL} or {SCHEDULED_START}.")
    if not isinstance(name, str) or len(name) > 100:
        raise StrategyError(f"{where}.displayName must be text of at most 100 characters.")
    config = raw.get("scheduledStartConfiguration")
    if kind == APPROVAL:
        if config is not None:
            raise StrategyError(f"{where}.scheduledStartConfiguration belongs to a {SCHEDULED_START} gate only.")
        return GateConfig(kind, name)
    if timing == AFTER:  # Fleet docs, scheduled start gates: "only before a stage or group"
        raise StrategyError(f"{where}: a {SCHEDULED_START} gate can only stand in beforeGates.")
    not_before = raw.get("notBefore", "")
    if in_plan and (not isinstance(not_before, str) or not _instant(not_before)):
        raise StrategyError(f"{where}.notBefore must be the ISO 8601 time the plan fixed.")
    return GateConfig(kind, name, _schedule(config, f"{where}.scheduledStartConfiguration"), not_before)


def _schedule(raw: Any, where: str) -> ScheduledStart:
    if not isinstance(raw, Mapping):
        raise StrategyError(f"{where} is required: {{startDay, startTime, utcOffset}}.")
    _only(raw, _SCHEDULE_FIELDS, where)
    day = next((d for d in DAYS if d.lower() == str(raw.get("startDay", "")).lower()), None)
    if day is None:
        raise StrategyError(f"{where}.startDay {raw.get('startDay')!r} must be one of {', '.join(DAYS)}.")
    start = raw.get("startTime")
    if not isinstance(start, str) or not _TIME.match(start):
        raise StrategyError(f"{where}.startTime {start!r} must be HH:MM (24-hour).")
    offset = raw.get("utcOffset")
    match = _OFFSET.match(offset) if isinstance(offset, str) else None
    if not match or int(match.group(2)) * 60 + int(match.group(3)) > 14 * 60:
        raise StrategyError(f"{where}.utcOffset {offset!r} must be +HH:MM or -HH:MM, from -14:00 to +14:00.")
    return ScheduledStart(day, start, offset)  # type: ignore[arg-type]


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def fix_schedules(stage: Stage, created: datetime) -> Stage:
    """``stage`` with each ScheduledStart gate's time fixed: its first occurrence at or after ``created`` (the plan's
    creation; aksproxy keeps no state between runs, so the plan holds the time every run compares with)."""
    def fixed(gates: tuple[GateConfig, ...]) -> tuple[GateConfig, ...]:
        return tuple(replace(g, not_before=g.schedule.first_at_or_after(created).isoformat())
                     if g.schedule is not None and not g.not_before else g for g in gates)

    return replace(stage, before_gates=fixed(stage.before_gates),
                   groups=tuple(replace(g, before_gates=fixed(g.before_gates)) for g in stage.groups))


def gate_time(gate: GateConfig) -> datetime | None:
    """When a ScheduledStart gate opens (as the plan fixed it); None for an Approval."""
    return _instant(gate.not_before) if gate.type == SCHEDULED_START else None


def assign_groups(stages: Sequence[Stage], labels: Mapping[str, str | None]) -> Assignment:
    """Each cluster (id -> its update-group label) to the stage of its group. A cluster with no label, or one no
    group names, is an error listing them all: Fleet would not update it either, and a rollout that silently leaves
    clusters behind is not the one asked for."""
    where = {g.name.lower(): (i, g.name) for i, s in enumerate(stages) for g in s.groups}
    of: dict[str, tuple[int, str]] = {}
    missing = []
    for cid, label in labels.items():
        hit = where.get(str(label or "").lower())
        if hit is None:
            missing.append(f"{cid} ({'no group label' if not label else f'group {label!r}'})")
        else:
            of[cid.lower()] = hit
    if missing:
        raise StrategyError(f"{len(missing)} selected cluster(s) are in no group of the strategy: "
                            f"{'; '.join(missing)}. Label them, or narrow the selection.")
    return Assignment(tuple(stages), of)
