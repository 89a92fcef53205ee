"""Stages in Azure Kubernetes Fleet Manager's vocabulary: an update strategy has ordered ``stages``, each with
``groups`` (``name``, ``maxConcurrency``) run side by side, and ``afterStageWaitInSeconds``, the soak time before
the next stage (Fleet REST spec, update strategies; members carry an update ``group`` label). Two ways in:

- the simple form ``1,10%,rest``: stage sizes over the selected clusters in their order (a count, a percentage of
  all of them, rounded up, or ``rest``), each stage one group;
- a strategy file in the shape of a Fleet update strategy (``{"stages": [...]}`` or a Fleet UpdateStrategy resource,
  ``properties.strategy``), clusters matched to groups by their update-group label.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_STAGES = "1,10%,rest"
REST = "rest"
_CONCURRENCY = re.compile(r"^\s*(\d+)\s*(%?)\s*$")


class StrategyError(ValueError):
    """The stages cannot be read or do not fit the clusters; the message says which and why."""


@dataclass(frozen=True)
class Group:
    name: str
    max_concurrency: str = "1"  # Fleet's form: "3" or "25%" of the group's clusters

    def limit(self, size: int) -> int:
        """How many of the group's ``size`` clusters may run at once (at least 1)."""
        number, percent = parse_concurrency(self.max_concurrency)
        return max(1, math.ceil(size * number / 100) if percent else number)


@dataclass(frozen=True)
class Stage:
    name: str
    groups: tuple[Group, ...]
    after_wait_seconds: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "groups": [{"name": g.name, "maxConcurrency": g.max_concurrency}
                                              for g in self.groups],
                "afterStageWaitInSeconds": self.after_wait_seconds}


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
    """The stages of a Fleet update strategy document; StrategyError naming the first problem."""
    if isinstance(doc, Mapping) and isinstance(doc.get("properties"), Mapping):
        doc = doc["properties"].get("strategy", doc["properties"])  # an UpdateStrategy resource
    if not isinstance(doc, Mapping) or not isinstance(doc.get("stages"), list) or not doc["stages"]:
        raise StrategyError('the strategy file must hold {"stages": [{"name", "groups": [{"name", '
                            '"maxConcurrency"}], "afterStageWaitInSeconds"}]} with at least one stage.')
    stages: list[Stage] = []
    seen_groups: set[str] = set()
    for i, raw in enumerate(doc["stages"]):
        where = f"stages[{i}]"
        if not isinstance(raw, Mapping) or not str(raw.get("name") or "").strip():
            raise StrategyError(f"{where} needs a name.")
        groups_raw = raw.get("groups")
        if not isinstance(groups_raw, list) or not groups_raw:
            raise StrategyError(f"{where} ({raw['name']}) needs at least one group.")
        groups = []
        for j, g in enumerate(groups_raw):
            if not isinstance(g, Mapping) or not str(g.get("name") or "").strip():
                raise StrategyError(f"{where}.groups[{j}] needs a name.")
            key = str(g["name"]).lower()
            if key in seen_groups:
                raise StrategyError(f"group {g['name']!r} appears twice; a cluster belongs to one group.")
            seen_groups.add(key)
            concurrency = str(g.get("maxConcurrency", "1"))
            try:
                parse_concurrency(concurrency)
            except StrategyError as exc:
                raise StrategyError(f"{where}.groups[{j}] ({g['name']}): {exc}") from None
            groups.append(Group(str(g["name"]), concurrency))
        wait = raw.get("afterStageWaitInSeconds", 0)
        if not isinstance(wait, int) or isinstance(wait, bool) or wait < 0:
            raise StrategyError(f"{where}.afterStageWaitInSeconds must be 0 or more seconds.")
        stages.append(Stage(str(raw["name"]), tuple(groups), wait))
    return tuple(stages)


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
