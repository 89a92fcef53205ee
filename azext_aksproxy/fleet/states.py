"""Running a plan: each cluster's state read from Azure against the plan, and the scheduler that decides which
cluster starts next.

State of a planned cluster, from what Azure says now (never from local memory, so a resumed or second machine's
apply sees the same):
    done       its user config is the plan's after-config and its last operation succeeded
    running    its user config is the after-config and AKS is still working on it (reimaging): followed, not
               written again
    pending    still as planned (same eTag): to be written
    failed     the after-config is in place but its last operation failed or its nodes still run the old model
               (scale sets' latestModelApplied), or this run's check or write failed
    unverified the after-config is in place and AKS's operation succeeded, but the scale sets could not be read:
               cannot tell, never counted as done
    held       the node disruption policy or a closed maintenance window refuses the reimage: never written
    drifted    changed by someone else since the plan (another eTag, another config): never overwritten
    unchanged  the edit changes nothing here: never written
    gone       the cluster no longer exists

Scheduling follows Fleet's update runs: stages one after the other, the groups of a stage side by side, at most
maxConcurrency clusters of a group at once, afterStageWaitInSeconds (soak) after a stage in which something was
written. A failure beyond the allowed-failures budget halts the run: running clusters are followed to their end,
no new cluster starts, no later stage starts. A strategy's own rules come from gates.py: a stage's maxConcurrency
caps its groups together, its and its groups' maxAllowedFailures are budgets of their own, and a gate not passed
stops the run before what it guards (exit 7). A drifted cluster is a failure whether the drift is read
before the run or answered by a 412 during it. Failed and unverified clusters found at the start of a run hold
every later stage (fleet/resume.py decides which); a stopped run (SIGTERM, --stop-after) starts nothing
more.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .gates import EXIT_GATE, Budgets, Hold, RunGates
from .plan_file import HELD as PLANNED_HELD
from .plan_file import UNCHANGED as PLANNED_UNCHANGED
from .plan_file import Plan, PlannedCluster

DONE, RUNNING, PENDING, FAILED = "done", "running", "pending", "failed"
HELD, DRIFTED, UNCHANGED, GONE = "held", "drifted", "unchanged", "gone"
UNVERIFIED = "unverified"
STATES = (DONE, RUNNING, PENDING, FAILED, UNVERIFIED, HELD, DRIFTED, GONE, UNCHANGED)  # in the reports' order
FINAL = frozenset({DONE, FAILED, UNVERIFIED, HELD, DRIFTED, UNCHANGED, GONE})
# What counts against the allowed-failures budget: drift too, found at the read or by a 412 alike.
FAILURES = frozenset({FAILED, DRIFTED})

# Exit codes a pipeline can branch on; 1, 2 and 3 are az's own (an error before anything ran, a usage error, a
# resource not found).
EXIT_DONE = 0  # every cluster of the stages run is done or unchanged
EXIT_HALTED = 4  # a failure beyond the budget halted the run
EXIT_HELD = 5  # nothing halted, but clusters were held, gone, unverified, or failed within the budget
EXIT_STOPPED = 6  # stopped by SIGTERM or --stop-after before the end: apply the same plan again to resume
# EXIT_GATE (7, gates.py): stopped before a gate not passed.
# A ScheduledStart gate due within this many seconds is waited for; a later one stops the run (exit 7).
GATE_WAIT_SECONDS = 900.0

_BUSY = ("updating", "upgrading", "creating", "scaling", "starting", "stopping", "upgradingnodeimageversion")


def etag_text(value: Any) -> str:
    """An eTag as compared: without the quotes (and weak prefix) an HTTP header puts around it."""
    text = str(value or "").strip()
    text = text.removeprefix("W/")
    return text.strip('"')


def observed_state(entry: PlannedCluster, cluster: Mapping[str, Any] | None, fields_left: Iterable[str]
                   ) -> tuple[str, str]:
    """(state, why) of a planned cluster; ``cluster`` is its ARM JSON now (None: not found), ``fields_left`` the
    proxy fields in which its user config still differs from the plan's after-config."""
    if cluster is None:
        return GONE, "the cluster no longer exists"
    left = list(fields_left)
    props = cluster.get("properties") or {}
    busy = str(props.get("provisioningState") or "").lower()
    etag_now = etag_text(cluster.get("eTag"))
    if entry.action == PLANNED_UNCHANGED:
        return (UNCHANGED, "the edit changes nothing here") if not left else \
            (DRIFTED, f"changed since the plan ({', '.join(left)}); plan again")
    if entry.action == PLANNED_HELD:
        return HELD, entry.reason or "held at plan time"
    if not left:
        if busy in _BUSY:
            return RUNNING, f"the new config is written; AKS is rolling it out (provisioningState {busy})"
        if busy == "failed":
            return FAILED, "the new config is written but the cluster's last operation failed"
        return DONE, "runs the planned config"
    if etag_text(entry.etag) == etag_now:
        return PENDING, "as planned"
    return DRIFTED, (f"changed since the plan (eTag {etag_text(entry.etag)} -> {etag_now or 'none'}; "
                     f"{', '.join(left)} differ from the plan); never overwritten: plan again")


@dataclass(frozen=True)
class Step:
    """What to do now: start these clusters; or wait (until ``wait_until``, or for a running cluster to end
    when None); or stop (``finished``)."""

    start: tuple[str, ...] = ()
    wait_until: float | None = None
    finished: bool = False
    why: str = ""  # why it waits, when not for a running cluster or a soak


@dataclass
class Scheduler:
    plan: Plan
    states: dict[str, str]  # cluster id lower -> state (STATES) at the start of the run
    stages: tuple[int, ...]  # the stage indexes this run covers, in order
    allowed_failures: int = 0
    running: set[str] = field(default_factory=set)
    failures: int = 0  # failures so far, those carried in from earlier runs included
    halted: bool = False
    # Clusters that hold every later stage (id lower -> state): failed or unverified, at the start or in this run.
    holding: dict[str, str] = field(default_factory=dict)
    stopped: bool = False  # SIGTERM or --stop-after: nothing more starts
    blocked: bool = False  # a later stage was not started because an earlier one holds a cluster
    _stage_pos: int = 0
    _wrote_in_stage: bool = False
    _soak_until: float | None = None
    approved: frozenset[str] = frozenset()  # gate points passed on the command line (gates.approvals)
    clock: Callable[[], float] = time.time  # wall clock for ScheduledStart gates (next()'s ``now`` is monotonic)
    waiting_at: list[Hold] = field(default_factory=list)  # the gates that stopped the run (exit 7)
    halt_reason: str = ""  # a stage's or group's budget that halted it
    accepted: frozenset[str] = frozenset()  # failures named with --accept-failed: in no budget

    def __post_init__(self) -> None:
        self._gates = RunGates(self.plan, self.states, self.approved, frozenset({DONE, RUNNING, FAILED}))
        self._budgets = Budgets(self.plan)
        # failed in an earlier run, unless accepted by name (--accept-failed)
        self._failed = {k for k, s in self.states.items() if s == FAILED and k not in self.accepted}
        self._check_budgets()
        self._by_id = {c.id.lower(): c for c in self.plan.clusters}
        self._limits: dict[tuple[int, str], int] = {}
        for index, stage in enumerate(self.plan.stages):
            for group in stage.groups:
                size = sum(1 for c in self.plan.clusters if c.stage == index and c.group.lower() ==
                           group.name.lower())
                self._limits[(index, group.name.lower())] = group.limit(size)
        if self.failures > self.allowed_failures:
            self.halted = True

    def stop(self) -> None:
        """Start nothing more; the running clusters are still reported through ended()."""
        self.stopped = True

    def _held_before(self, stage: int) -> list[str]:
        return [state for key, state in self.holding.items() if self._by_id[key].stage < stage]

    def _waiting(self, stage: int) -> list[PlannedCluster]:
        return [c for c in self.plan.clusters if c.stage == stage and self.states[c.id.lower()] in (PENDING, RUNNING)
                and c.id.lower() not in self.running]

    def next(self, now: float) -> Step:
        if self._soak_until is not None:
            if now < self._soak_until:
                return Step(wait_until=self._soak_until)
            self._soak_until = None
        while self._stage_pos < len(self.stages):
            stage = self.stages[self._stage_pos]
            holding = self._held_before(stage)
            if holding and any(self._waiting(s) for s in self.stages[self._stage_pos:]):
                self.blocked = True  # entering this stage would pass a failed or unverified cluster
                self.halted = self.halted or FAILED in holding
                return Step(finished=True)
            waiting = [] if self.halted or self.stopped else self._waiting(stage)
            start = []
            busy = {key: sum(1 for r in self.running if (self._by_id[r].stage, self._by_id[r].group.lower()) == key)
                    for key in self._limits}
            stage_room, held = self._stage_room(stage), []
            for c in waiting:
                key = (c.stage, c.group.lower())
                if busy[key] < self._limits[key] and stage_room > 0:
                    holds = self._gates.holds(c, self.clock())
                    if holds:
                        held.append(holds)
                        continue
                    busy[key] += 1
                    stage_room -= 1
                    start.append(c.id)
            if start:
                self.running.update(s.lower() for s in start)
                self._wrote_in_stage = True
                return Step(start=tuple(start))
            if self.running:
                return Step()  # wait for one to end
            if self.halted or self.stopped:
                return Step(finished=True)
            if waiting:  # nothing runs, so a slot is free: gates hold what waits
                if not held:
                    raise AssertionError("scheduler stuck")
                return self._at_gates(now, held)
            self._stage_pos += 1
            soak = self.plan.stages[stage].after_wait_seconds
            if self._wrote_in_stage and soak and self._stage_pos < len(self.stages) \
                    and not self._held_before(self.stages[self._stage_pos]):
                self._wrote_in_stage = False
                self._soak_until = now + soak
                return Step(wait_until=self._soak_until)
            self._wrote_in_stage = False
        if not self.halted and len(self.plan.stages) - 1 in self.stages:
            self.waiting_at = _distinct(self._gates.final_holds(self.clock()))
        return Step(finished=True)

    def _stage_room(self, stage: int) -> int:
        """How many more clusters the stage's own maxConcurrency lets start (across its groups)."""
        size = sum(1 for c in self.plan.clusters if c.stage == stage)
        limit = self.plan.stages[stage].limit(size)
        return size if limit is None else limit - sum(1 for r in self.running if self._by_id[r].stage == stage)

    def _at_gates(self, now: float, held: list[list[Hold]]) -> Step:
        """``held``: the gates holding each waiting cluster. Wait when a cluster held only by ScheduledStart gates
        can start soon; else stop before the gates (exit 7)."""
        wall = self.clock()
        opens = [max(h.until or 0.0 for h in holds) for holds in held if all(h.until is not None for h in holds)]
        soonest = min(opens, default=None)
        if soonest is not None and soonest - wall <= GATE_WAIT_SECONDS:
            gate = next(h for holds in held for h in holds if h.until == soonest)
            return Step(wait_until=now + max(0.0, soonest - wall), why=f"waiting for {gate.describe()}")
        self.waiting_at = _distinct(h for holds in held for h in holds)
        return Step(finished=True)

    def _check_budgets(self) -> None:
        reason = self._budgets.exceeded(self._failed)
        if reason:
            self.halted, self.halt_reason = True, reason

    def ended(self, cluster_id: str, state: str) -> None:
        """A started cluster reached ``state`` (one of FINAL)."""
        key = cluster_id.lower()
        self.running.discard(key)
        self.states[key] = state
        if state in (FAILED, UNVERIFIED):  # a budget lets the stage go on, never a later stage pass a failure
            self.holding[key] = state
        if state in FAILURES:
            self.failures += 1
            if self.failures > self.allowed_failures:
                self.halted = True
            self._failed.add(key)
            self._check_budgets()

    def exit_code(self) -> int:
        covered = [self.states[c.id.lower()] for c in self.plan.clusters if c.stage in self.stages]
        if self.halted:
            return EXIT_HALTED
        if self.stopped and any(s in (PENDING, RUNNING) for s in covered):
            return EXIT_STOPPED
        if self.waiting_at:
            return EXIT_GATE
        if any(s not in (DONE, UNCHANGED) for s in covered):
            return EXIT_HELD
        return EXIT_DONE


def _distinct(holds: Iterable[Hold]) -> list[Hold]:
    out: list[Hold] = []
    for hold in holds:
        if hold not in out:
            out.append(hold)
    return out


def earlier_stages_open(plan: Plan, states: Mapping[str, str], stage: int,
                        accepted: Iterable[str] = ()) -> list[PlannedCluster]:
    """Clusters of stages before ``stage`` that are not finished well (done, unchanged or held) and whose failure
    was not accepted by name: a stage run on its own (one pipeline stage per rollout stage) does not start while
    an earlier one is incomplete."""
    ok = {c.lower() for c in accepted}
    return [c for c in plan.clusters if c.stage < stage and states[c.id.lower()] not in (DONE, UNCHANGED, HELD)
            and c.id.lower() not in ok]
