"""Fleet Manager update strategies as Fleet stores and serves them: validated when seeded, answered in the
api-version asked for.

Rests on the Fleet TypeSpec (azure-rest-api-specs, specification/containerservice/Fleet.Management,
update/common.tsp and gate.tsp) and Fleet's docs ("update orchestration", "scheduled start gates"):
    - stage and group ``name``: ``^[a-z0-9]([-a-z0-9]*[a-z0-9])?$``, 1-50 characters; stage names unique; a group
      in one stage only (the strategy's doc: "no duplicate groups within or across stages");
    - ``maxConcurrency`` (stage and group): ``^(?:([1-9]\\d*)|([1-9]\\d?|100)%)$``, added in 2025-10-01-preview;
    - ``beforeGates``/``afterGates`` (stage and group): ``[{displayName?: 1-100 chars, type: Approval}]``, added in
      2025-04-01-preview;
    - ``type: ScheduledStart`` with ``scheduledStartConfiguration: {startDay: Sunday..Saturday, startTime: "HH:MM",
      utcOffset: "+HH:MM"|"-HH:MM" (-14:00 to +14:00)}``, before a stage or group only (docs); ``memberSelector:
      {byLabel: "key=value"}`` and ``maxAllowedFailures`` (stage and group): in the Python SDK's 4.1.0b1 and the
      2026-06-02-preview samples. A guess: all three arrive in 2026-06-02-preview, and ``maxAllowedFailures`` is a
      whole number, 0 or more (the SDK's UpdateStageStatus reports it beside a ``failure_count``).
A field unknown to the spec is refused at seeding (the emulator stores only what Fleet would). Served: a GET in an
api-version before a field's drops that field, and a ScheduledStart gate as a whole (a guess: ARM answers in the
version asked for; what Fleet does with a gate type the version lacks is not documented).
"""
from __future__ import annotations

import copy
import re
from typing import Any

GATES_SINCE = "2025-04-01-preview"
CONCURRENCY_SINCE = "2025-10-01-preview"
SELECTORS_SINCE = "2026-06-02-preview"  # memberSelector, maxAllowedFailures, ScheduledStart gates (a guess, above)
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CONCURRENCY = re.compile(r"^(?:([1-9]\d*)|([1-9]\d?|100)%)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_OFFSET = re.compile(r"^[+-]((0\d|1[0-3]):[0-5]\d|14:00)$")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_STAGE = {"name", "groups", "afterStageWaitInSeconds", "maxConcurrency", "beforeGates", "afterGates",
          "memberSelector", "maxAllowedFailures"}
_GROUP = {"name", "maxConcurrency", "beforeGates", "afterGates", "memberSelector", "maxAllowedFailures"}
_SINCE = {"beforeGates": GATES_SINCE, "afterGates": GATES_SINCE, "maxConcurrency": CONCURRENCY_SINCE,
          "memberSelector": SELECTORS_SINCE, "maxAllowedFailures": SELECTORS_SINCE}


def validate(strategy: Any) -> None:
    """ValueError naming the first field Fleet would refuse."""
    if not isinstance(strategy, dict) or set(strategy) != {"stages"} or not strategy["stages"]:
        raise ValueError('a strategy is {"stages": [...]} with at least one stage')
    stage_names, group_names = set(), set()
    for i, stage in enumerate(strategy["stages"]):
        where = f"stages[{i}]"
        _fields(stage, _STAGE, where)
        _name(stage.get("name"), where, stage_names)
        _common(stage, where)
        wait = stage.get("afterStageWaitInSeconds", 0)
        if not isinstance(wait, int) or isinstance(wait, bool) or wait < 0:
            raise ValueError(f"{where}.afterStageWaitInSeconds must be an int32, 0 or more")
        for j, group in enumerate(stage.get("groups") or []):
            _fields(group, _GROUP, f"{where}.groups[{j}]")
            _name(group.get("name"), f"{where}.groups[{j}]", group_names)
            _common(group, f"{where}.groups[{j}]")
        if not stage.get("groups") and "memberSelector" not in stage:
            raise ValueError(f"{where} needs groups or a memberSelector")


def project(strategy: dict, api_version: str) -> dict:
    """The strategy as a GET in ``api_version`` answers it: fields added later left out."""
    out = copy.deepcopy(strategy)
    for stage in out["stages"]:
        for item in (stage, *(stage.get("groups") or [])):
            for key, since in _SINCE.items():
                if key in item and api_version < since:
                    del item[key]
            for key in ("beforeGates", "afterGates"):
                if key in item and api_version < SELECTORS_SINCE:
                    item[key] = [g for g in item[key] if g["type"] != "ScheduledStart"]
    return out


def _fields(item: Any, known: set, where: str) -> None:
    if not isinstance(item, dict):
        raise TypeError(f"{where} must be an object")
    unknown = sorted(set(item) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _name(name: Any, where: str, seen: set) -> None:
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 50:
        raise ValueError(f"{where}.name {name!r} must match {_NAME.pattern}, at most 50 characters")
    if name in seen:
        raise ValueError(f"{where}.name {name!r} appears twice")
    seen.add(name)


def _common(item: dict, where: str) -> None:
    if "maxConcurrency" in item and not (isinstance(item["maxConcurrency"], str)
                                         and _CONCURRENCY.match(item["maxConcurrency"])):
        raise ValueError(f"{where}.maxConcurrency {item['maxConcurrency']!r} must match {_CONCURRENCY.pattern}")
    budget = item.get("maxAllowedFailures", 0)
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
        raise ValueError(f"{where}.maxAllowedFailures must be a whole number, 0 or more")
    selector = item.get("memberSelector")
    if selector is not None and (not isinstance(selector, dict) or set(selector) != {"byLabel"}):
        raise ValueError(f"{where}.memberSelector must be {{byLabel}}")
    for key in ("beforeGates", "afterGates"):
        for k, gate in enumerate(item.get(key) or []):
            _gate(gate, f"{where}.{key}[{k}]", key == "beforeGates")


def _gate(gate: Any, where: str, before: bool) -> None:
    _fields(gate, {"displayName", "type", "scheduledStartConfiguration"}, where)
    name = gate.get("displayName", "x")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise ValueError(f"{where}.displayName must be 1 to 100 characters")
    if gate.get("type") == "Approval" and "scheduledStartConfiguration" not in gate:
        return
    if gate.get("type") != "ScheduledStart":
        raise ValueError(f"{where}.type must be Approval or ScheduledStart (configuration only for ScheduledStart)")
    if not before:
        raise ValueError(f"{where}: a ScheduledStart gate can only be placed before a stage or group")
    config = gate.get("scheduledStartConfiguration")
    _fields(config, {"startDay", "startTime", "utcOffset"}, f"{where}.scheduledStartConfiguration")
    if config.get("startDay") not in DAYS or not _TIME.match(str(config.get("startTime"))) or \
            not _OFFSET.match(str(config.get("utcOffset"))):
        raise ValueError(f"{where}.scheduledStartConfiguration needs startDay (Sunday..Saturday), startTime "
                         "HH:MM and utcOffset +HH:MM/-HH:MM")
