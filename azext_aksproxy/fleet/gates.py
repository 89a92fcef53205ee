"""A Fleet strategy's gates and failure budgets in a run of the plan, decided from the plan and the clusters' states
read from Azure, never from local memory.

Gates (Fleet: ``beforeGates``/``afterGates`` of a stage or a group) stand at a point, addressed as
``STAGE:before``, ``STAGE:after``, ``STAGE/GROUP:before`` or ``STAGE/GROUP:after``. A gate guards starting work:
    - a stage's or group's before-point guards starting its clusters;
    - a stage's or group's after-point guards starting any cluster of a later stage; the after-points of the plan's
      last stage guard the end of the rollout (it is not done until they are passed).
An Approval gate is passed only by naming its point on the command line of the run that goes on (``--approve``);
a ScheduledStart gate once the time the plan fixed has come. A point is behind the run (not asked again) once Azure
shows work it guards begun: a cluster behind it already carries the planned config (done, running, or failed after
the write). So a re-run with the same command line passes the same gates, and a stage already done is not gated
again.

Budgets: a stage's and a group's ``maxAllowedFailures`` count the failed and drifted clusters in it, failures of
earlier runs (read from Azure as failed) included; the command's ``--allowed-failures`` is the whole run's budget.
Every budget holds on its own: a failure beyond any one of them halts the run.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .plan_file import CHANGE, Plan, PlannedCluster
from .strategy import AFTER, APPROVAL, BEFORE, GateConfig, gate_time

EXIT_GATE = 7  # apply stopped before a gate that is not passed: approve it, or apply again at its time


class GateError(ValueError):
    """An --approve value names no Approval gate of the plan."""


@dataclass(frozen=True)
class Point:
    """Where gates stand: before or after a stage (``group`` None) or one of its groups."""

    stage: int
    group: str | None
    timing: str  # BEFORE | AFTER
    gates: tuple[GateConfig, ...]
    address: str  # STAGE[/GROUP]:before|after, as --approve names it

    def where(self) -> str:
        place = f"group {self.group} of stage {self.address.split('/')[0]}" if self.group else \
            f"stage {self.address.split(':')[0]}"
        return f"{self.timing} {place}"


@dataclass(frozen=True)
class Hold:
    """A gate that stops a cluster from starting: an Approval not given, or a ScheduledStart not yet due."""

    point: Point
    gate: GateConfig
    until: float | None = None  # a ScheduledStart gate's time (epoch seconds); None for an Approval

    def describe(self) -> str:
        return f"gate {self.gate.describe()} {self.point.where()} ({self.point.address})"


def points(plan: Plan) -> list[Point]:
    """Every point of the plan that holds gates, in the order a run meets them."""
    out = []
    for index, stage in enumerate(plan.stages):
        out.append(Point(index, None, BEFORE, stage.before_gates, f"{stage.name}:{BEFORE}"))
        for group in stage.groups:
            out.append(Point(index, group.name, BEFORE, group.before_gates, f"{stage.name}/{group.name}:{BEFORE}"))
        for group in stage.groups:
            out.append(Point(index, group.name, AFTER, group.after_gates, f"{stage.name}/{group.name}:{AFTER}"))
        out.append(Point(index, None, AFTER, stage.after_gates, f"{stage.name}:{AFTER}"))
    return [p for p in out if p.gates]


def approvals(plan: Plan, given: Iterable[str]) -> frozenset[str]:
    """The points (lower-case addresses) passed with --approve; GateError for one that holds no Approval gate."""
    by_address = {p.address.lower(): p for p in points(plan) if any(g.type == APPROVAL for g in p.gates)}
    out = set()
    for text in given:
        key = text.strip().lower()
        if key not in by_address:
            known = ", ".join(p.address for p in by_address.values()) or "none"
            raise GateError(f"--approve {text}: the plan has no Approval gate there (STAGE[/GROUP]:before|after); "
                            f"its Approval gates: {known}.")
        out.add(key)
    return frozenset(out)


class RunGates:
    """The gates of one run: which points are behind it (from the states read at its start) and which hold a
    cluster now."""

    def __init__(self, plan: Plan, initial: Mapping[str, str], approved: frozenset[str],
                 written_states: frozenset[str]) -> None:
        """``written_states``: the states of a cluster that carries the planned config (done, running, failed)."""
        self.plan, self.approved = plan, approved
        self.points = points(plan)
        written = [c for c in plan.clusters if c.action == CHANGE and initial.get(c.id.lower()) in written_states]
        self.behind = {p.address for p in self.points if _begun(p, written)}

    def holds(self, cluster: PlannedCluster, now: float) -> list[Hold]:
        """The gates not passed that stand before ``cluster`` (``now``: epoch seconds)."""
        return self._holding((p for p in self.points if _guards(p, cluster)), now)

    def final_holds(self, now: float) -> list[Hold]:
        """The gates after the plan's last stage: the rollout is not done until they are passed."""
        last = len(self.plan.stages) - 1
        return self._holding((p for p in self.points if p.stage == last and p.timing == AFTER), now)

    def _holding(self, guarding: Iterable[Point], now: float) -> list[Hold]:
        out = []
        for point in guarding:
            if point.address in self.behind:
                continue
            for gate in point.gates:
                if gate.type == APPROVAL:
                    if point.address.lower() not in self.approved:
                        out.append(Hold(point, gate))
                    continue
                due = gate_time(gate)
                until = due.timestamp() if due else float("inf")  # a plan always fixes the time
                if now < until:
                    out.append(Hold(point, gate, until))
        return out


def _guards(point: Point, cluster: PlannedCluster) -> bool:
    if point.timing == AFTER:
        return point.stage < cluster.stage
    return point.stage == cluster.stage and (point.group is None or point.group.lower() == cluster.group.lower())


def _begun(point: Point, written: Sequence[PlannedCluster]) -> bool:
    """Whether Azure shows work behind ``point`` begun."""
    if point.timing == AFTER:
        return any(c.stage > point.stage for c in written)
    return any(_guards(point, c) for c in written)


class Budgets:
    """The stages' and groups' maxAllowedFailures (the run's --allowed-failures is the Scheduler's own)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.limits: list[tuple[str, int, int, str | None]] = []  # (label, limit, stage, group or None)
        for index, stage in enumerate(plan.stages):
            if stage.max_allowed_failures is not None:
                self.limits.append((f"stage {stage.name}", stage.max_allowed_failures, index, None))
            for group in stage.groups:
                if group.max_allowed_failures is not None:
                    self.limits.append((f"group {group.name} of stage {stage.name}", group.max_allowed_failures,
                                        index, group.name.lower()))

    def exceeded(self, failed: Iterable[str]) -> str:
        """Why a budget is exceeded by the ``failed`` cluster ids (lower-case), or ''."""
        failed = set(failed)
        for label, limit, stage, group in self.limits:
            count = sum(1 for c in self.plan.clusters if c.id.lower() in failed and c.stage == stage
                        and (group is None or c.group.lower() == group))
            if count > limit:
                return f"{label} holds {count} failed cluster(s); its maxAllowedFailures is {limit}"
        return ""


def summary(plan: Plan) -> list[str]:
    """One line per point with gates and per budget, for the plan's and apply's output."""
    lines = [f"{p.address}: {', '.join(g.describe() + _due(g) for g in p.gates)}" for p in points(plan)]
    lines += [f"{label}: maxAllowedFailures {limit}" for label, limit, _, _ in Budgets(plan).limits]
    lines += [f"stage {s.name}: maxConcurrency {s.max_concurrency} across its groups" for s in plan.stages
              if s.max_concurrency is not None]
    return lines


def _due(gate: GateConfig) -> str:
    due = gate_time(gate)
    return f" not before {due.isoformat()}" if due else ""
