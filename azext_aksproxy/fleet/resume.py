"""Starting a run over a plan part of which earlier runs already wrote: what the states read from Azure mean for
this run, whether a cluster's nodes run the new config, and how long a run may go on.

A failure is never forgotten between runs: a cluster found failed (its config written and its operation failed,
or its nodes on the old model) or drifted when a run starts counts against this run's failure budget, and a
failed or unverified one holds every later stage, until the user names it (``--accept-failed``) or has the run
write it again (``--retry-failed``: failed clusters of the stages run, checked again and written with If-Match on
the eTag this run read, so a cluster someone else changed in between is never overwritten).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..cluster.pools import NodeModel
from ..cluster.resource_id import ResourceId
from .plan_file import Plan, PlannedCluster
from .states import DONE, DRIFTED, FAILED, FAILURES, PENDING, UNVERIFIED

ACCEPTABLE = frozenset({FAILED, UNVERIFIED, DRIFTED})  # what --accept-failed may name
HOLDING = frozenset({FAILED, UNVERIFIED})  # what holds later stages when found at the start


class ResumeError(ValueError):
    """What the user named cannot be used; nothing was written."""


def resolve_clusters(plan: Plan, names: Iterable[str]) -> list[str]:
    """The planned cluster ids (lower case) that ``names`` give, each an ARM id or subscription/resource group/name;
    ResumeError naming every name that is no cluster of the plan."""
    by_key: dict[str, str] = {}
    for c in plan.clusters:
        by_key[ResourceId.parse(c.id).key] = c.id.lower()
        by_key[f"{c.subscription}/{c.resource_group}/{c.name}".lower()] = c.id.lower()
    found, unknown = [], []
    for name in names:
        key = name.strip().strip("/").lower()
        key = ResourceId.parse(key).key if key.startswith("subscriptions/") else key
        if key in by_key:
            found.append(by_key[key])
        else:
            unknown.append(name)
    if unknown:
        raise ResumeError(f"--accept-failed: not a cluster of the plan: {', '.join(unknown)} (give an ARM id or "
                          "SUBSCRIPTION_ID/RESOURCE_GROUP/NAME as the plan lists them).")
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class RunStart:
    """The scheduler's starting point: the states (retried clusters pending again), the failures carried in, the
    clusters that hold later stages, and the clusters written again with the eTag this run read."""

    states: Mapping[str, str]
    failures: int
    holding: Mapping[str, str]
    retry: frozenset[str]
    carried: tuple[PlannedCluster, ...]  # failed, drifted or unverified at the start, not accepted, not retried
    accepted: frozenset[str] = frozenset()  # named with --accept-failed: in no budget, holding nothing


def start_run(plan: Plan, initial: Mapping[str, str], stages: Sequence[int], accepted: Iterable[str] = (),
              retry_failed: bool = False) -> RunStart:
    """``initial``: cluster id lower -> state read now. ResumeError when an accepted cluster is not failed, drifted
    or unverified (there is nothing to accept: say so rather than ignore the name)."""
    ok = set(accepted)
    wrong = [f"{c.id} ({initial[c.id.lower()]})" for c in plan.clusters
             if c.id.lower() in ok and initial[c.id.lower()] not in ACCEPTABLE]
    if wrong:
        raise ResumeError("--accept-failed names clusters that are not failed, drifted or unverified: "
                          + ", ".join(wrong) + ". Nothing was written.")
    last = max(stages, default=-1)
    states = dict(initial)
    retry, carried, holding = set(), [], {}
    for c in plan.clusters:
        key = c.id.lower()
        state = initial[key]
        if c.stage > last or key in ok or state not in ACCEPTABLE:
            continue
        if retry_failed and state == FAILED and c.stage in stages:
            retry.add(key)
            states[key] = PENDING
            continue
        carried.append(c)
        if state in HOLDING:
            holding[key] = state
    failures = sum(1 for c in carried if initial[c.id.lower()] in FAILURES)
    return RunStart(states, failures, holding, frozenset(retry), tuple(carried), frozenset(ok))


def verified_state(pools: Sequence[tuple[str, int]], models: Mapping[str, NodeModel] | None,
                   unreadable: str = "") -> tuple[str, str]:
    """(done | failed | unverified, why) of a cluster whose new config AKS reports rolled out: done only when every
    pool with nodes (``pools``: lower-case name, node count) runs the scale set's latest model. ``models``: pool
    name lower -> its instances (None: the scale sets could not be read, ``unreadable`` says why)."""
    if models is None:
        return UNVERIFIED, f"cannot tell whether the nodes run the new config: {unreadable or 'scale sets unread'}"
    behind = [f"{name} ({models[name].on_latest} of {models[name].nodes} nodes on it)" for name, _ in pools
              if name in models and models[name].on_latest < models[name].nodes]
    if behind:
        return FAILED, f"AKS's operation succeeded but pools still run the old model: {', '.join(behind)}"
    missing = [name for name, nodes in pools if nodes and name not in models]
    if missing:
        return UNVERIFIED, f"cannot tell whether the nodes run the new config: no scale set of {', '.join(missing)}"
    return DONE, "runs the planned config; every pool's nodes run it (latestModelApplied)"


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> float:
    """Seconds in ``90m``, ``5h30m``, ``45s``, ``1h2m3s`` or plain seconds (``3600``); ValueError otherwise."""
    value = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(value)
        if not value or not match:
            raise ValueError(f"{text!r} is not a duration (e.g. 90m, 5h30m, 45s or seconds)")
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = float(hours * 3600 + minutes * 60 + secs)
    if seconds <= 0:
        raise ValueError(f"{text!r}: the duration must be more than 0")
    return seconds

