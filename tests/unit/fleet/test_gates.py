"""A Fleet update strategy honoured whole: every field read (or refused by name), the plan carrying gates and
budgets, and the scheduler's stage concurrency, failure budgets and gates (Approval, ScheduledStart)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from azext_aksproxy.fleet import gates, strategy
from azext_aksproxy.fleet import plan_file as plan
from azext_aksproxy.fleet import states as run
from azext_aksproxy.fleet.plan_file import PlanError, PlannedCluster
from azext_aksproxy.fleet.strategy import StrategyError

IDS = [f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c{i}"
       for i in range(8)]
CREATED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday
APPROVAL = {"displayName": "ops sign-off", "type": "Approval"}
FRIDAY = {"displayName": "friday evening", "type": "ScheduledStart",
          "scheduledStartConfiguration": {"startDay": "Friday", "startTime": "18:00", "utcOffset": "-05:00"}}


def full_strategy() -> dict:
    """Every field aksproxy honours, on stages and groups."""
    return {"stages": [
        {"name": "canary", "groups": [{"name": "canary", "maxConcurrency": "1", "maxAllowedFailures": 0}],
         "afterGates": [APPROVAL], "afterStageWaitInSeconds": 60},
        {"name": "prod", "maxConcurrency": "50%", "maxAllowedFailures": 1, "beforeGates": [FRIDAY],
         "groups": [{"name": "eu", "maxConcurrency": "100%", "beforeGates": [{"type": "Approval"}],
                     "afterGates": [{"type": "Approval", "displayName": "eu checked"}]},
                    {"name": "us", "maxAllowedFailures": 2}]}]}


# ---- parsing ----------------------------------------------------------------------------------------------------


def test_every_field_is_read():
    canary, prod = strategy.parse_strategy({"properties": {"provisioningState": "Succeeded",
                                                           "strategy": full_strategy()}, "name": "safe"})
    assert canary.groups[0].max_allowed_failures == 0 and canary.after_gates == (strategy.GateConfig(
        "Approval", "ops sign-off"),) and canary.after_wait_seconds == 60 and canary.max_concurrency is None
    assert prod.max_concurrency == "50%" and prod.limit(5) == 3 and prod.max_allowed_failures == 1
    assert prod.before_gates[0].schedule == strategy.ScheduledStart("Friday", "18:00", "-05:00")
    eu, us = prod.groups
    assert eu.limit(4) == 4 and eu.before_gates[0].type == "Approval" and eu.after_gates[0].display_name == \
        "eu checked"
    assert us.max_allowed_failures == 2 and us.max_concurrency == "1" and not us.before_gates


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["stages"][0].update(memberSelector={"byLabel": "env=prod"}),
     r"stages\[0\] \(canary\)\.memberSelector: selecting members by label is not supported"),
    (lambda d: d["stages"][1]["groups"][1].update(memberSelector={"byLabel": "x=y"}),
     r"groups\[1\] \(us\)\.memberSelector"),
    (lambda d: d["stages"][0].update(rollbackOnFailure=True), r"stages\[0\] \(canary\)\.rollbackOnFailure: unknown field"),
    (lambda d: d["stages"][0]["groups"][0].update(weight=2), r"groups\[0\] \(canary\)\.weight: unknown field"),
    (lambda d: d.update(mode="fast"), r"strategy\.mode: unknown field"),
    (lambda d: d["stages"][0]["afterGates"][0].update(timeout=3), r"afterGates\[0\]\.timeout: unknown field"),
    (lambda d: d["stages"][0]["afterGates"][0].update(type="Manual"), r"afterGates\[0\]\.type 'Manual' must be"),
    (lambda d: d["stages"][0].update(afterGates=[FRIDAY]), "can only stand in beforeGates"),
    (lambda d: d["stages"][0].update(beforeGates=[{"type": "ScheduledStart"}]), "scheduledStartConfiguration is"),
    (lambda d: d["stages"][0].update(beforeGates=[{**APPROVAL, "scheduledStartConfiguration": {}}]),
     "belongs to a ScheduledStart gate only"),
    (lambda d: d["stages"][1]["beforeGates"][0]["scheduledStartConfiguration"].update(startDay="Fri"), "startDay"),
    (lambda d: d["stages"][1]["beforeGates"][0]["scheduledStartConfiguration"].update(startTime="6pm"), "startTime"),
    (lambda d: d["stages"][1]["beforeGates"][0]["scheduledStartConfiguration"].update(utcOffset="-15:00"),
     "utcOffset"),
    (lambda d: d["stages"][1]["beforeGates"][0]["scheduledStartConfiguration"].update(tz="EST"), r"\.tz: unknown"),
    (lambda d: d["stages"][1].update(maxAllowedFailures="10%"), r"\(prod\)\.maxAllowedFailures '10%'"),
    (lambda d: d["stages"][1].update(maxAllowedFailures=-1), "maxAllowedFailures -1"),
    (lambda d: d["stages"][1].update(maxConcurrency="0"), r"\(prod\): maxConcurrency '0'"),
    (lambda d: d["stages"][1].update(beforeGates={"type": "Approval"}), "beforeGates must be a list"),
    (lambda d: d["stages"][1].update(name="prod:eu"), "without '/', ':'"),
])
def test_what_cannot_be_honoured_is_refused_by_name(mutate, message):
    doc = json.loads(json.dumps(full_strategy()))
    mutate(doc)
    with pytest.raises(StrategyError, match=message):
        strategy.parse_strategy(doc)


def test_an_unknown_field_of_the_resource_is_refused():
    with pytest.raises(StrategyError, match=r"\$\.location: unknown field"):
        strategy.parse_strategy({"location": "westus", "properties": {"strategy": full_strategy()}})
    with pytest.raises(StrategyError, match=r"properties\.updateRunId: unknown field"):
        strategy.parse_strategy({"properties": {"strategy": full_strategy(), "updateRunId": "x"}})


def test_scheduled_start_first_occurrence():
    friday = strategy.ScheduledStart("Friday", "18:00", "-05:00")
    assert friday.first_at_or_after(CREATED) == datetime(2026, 6, 5, 23, 0, tzinfo=UTC)
    at = datetime(2026, 6, 5, 23, 0, tzinfo=UTC)
    assert friday.first_at_or_after(at) == at  # at the time itself: now
    assert friday.first_at_or_after(at + timedelta(minutes=1)) == at + timedelta(days=7)  # just past: next week
    monday = strategy.ScheduledStart("Monday", "02:00", "+14:00")  # Sunday 12:00 UTC
    assert monday.first_at_or_after(CREATED) == datetime(2026, 6, 7, 12, 0, tzinfo=UTC)


# ---- the plan file ----------------------------------------------------------------------------------------------


def planned(i: int, stage: int, group: str, action: str = plan.CHANGE) -> PlannedCluster:
    return PlannedCluster(IDS[i], "e1", stage, group, action, {}, {"httpProxy": "http://new:3128/"}, ("httpProxy",),
                          ({"name": "np1", "nodes": 1},), {}, "")


def gated_plan(stages=None, clusters=None) -> plan.Plan:
    stages = stages or strategy.parse_strategy(full_strategy())
    clusters = clusters or [planned(0, 0, "canary"), planned(1, 1, "eu"), planned(2, 1, "eu"), planned(3, 1, "us"),
                            planned(4, 1, "us")]
    return plan.build_plan(stages, clusters, ["httpProxy = http://new:3128/"], CREATED.isoformat())


def test_the_plan_carries_gates_budgets_and_the_fixed_time():
    p = gated_plan()
    doc = p.to_document()
    assert doc["schemaVersion"] == 2
    prod = doc["stages"][1]
    assert prod["maxConcurrency"] == "50%" and prod["maxAllowedFailures"] == 1
    assert prod["beforeGates"][0]["notBefore"] == "2026-06-05T23:00:00+00:00"
    assert prod["groups"][0]["afterGates"] == [{"type": "Approval", "displayName": "eu checked"}]
    again = plan.parse_plan(p.dumps())
    assert again.stages == p.stages
    assert gates.summary(again)[:2] == ["canary:after: 'ops sign-off' (Approval)",
                                        ("prod:before: 'friday evening' (ScheduledStart) not before "
                                         "2026-06-05T23:00:00+00:00")]


def test_a_plan_without_gates_stays_version_1_and_old_plans_load():
    stages = (strategy.Stage("s1", (strategy.Group("g1"),)),)
    p = plan.build_plan(stages, [planned(0, 0, "g1")], [], "")
    doc = p.to_document()
    assert doc["schemaVersion"] == 1 and set(doc["stages"][0]) == {"name", "groups", "afterStageWaitInSeconds"}
    assert plan.parse_plan(json.dumps(doc)).stages == stages


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["stages"][1]["beforeGates"][0].pop("notBefore"), r"\$\.stages\[1\]\.beforeGates\[0\]\.notBefore"),
    (lambda d: d["stages"][1]["beforeGates"][0].update(notBefore="friday"), "notBefore must be"),
    (lambda d: d["stages"][0]["afterGates"][0].update(type="Manual"), "type 'Manual'"),
    (lambda d: d["stages"][1]["groups"][0].update(memberSelector={}), "memberSelector"),
])
def test_a_plans_gates_are_read_strictly(mutate, message):
    doc = gated_plan().to_document()
    mutate(doc)
    with pytest.raises(PlanError, match=message):
        plan.parse_plan(json.dumps(doc))


def test_approve_names_a_point_with_an_approval_gate():
    p = gated_plan()
    assert gates.approvals(p, ["Canary:After", "prod/eu:before"]) == {"canary:after", "prod/eu:before"}
    with pytest.raises(gates.GateError, match=r"--approve prod:before: .*Approval gates: canary:after, "
                                              r"prod/eu:before, prod/eu:after"):
        gates.approvals(p, ["prod:before"])  # a ScheduledStart gate only: passed by its time, never by hand


# ---- the scheduler ----------------------------------------------------------------------------------------------


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now


def scheduler(p, states=None, stages=None, allowed=0, approved=(), at=CREATED):
    states = {c.id.lower(): (states or {}).get(c.id, run.PENDING) for c in p.clusters}
    return run.Scheduler(p, states, tuple(stages or range(len(p.stages))), allowed,
                         approved=gates.approvals(p, approved), clock=Clock(at))


def simple(stage_extras=None, group_extras=None, n=4) -> plan.Plan:
    group = strategy.Group("g", "100%", **(group_extras or {}))
    stages = (strategy.Stage("s1", (group,), **(stage_extras or {})), strategy.Stage("s2", (strategy.Group("h"),)))
    return plan.build_plan(stages, [planned(i, 0, "g") for i in range(n)] + [planned(n, 1, "h")], [],
                           CREATED.isoformat())


def test_stage_concurrency_caps_its_groups_together():
    stages = (strategy.Stage("s", (strategy.Group("a", "100%"), strategy.Group("b", "100%")), max_concurrency="3"),)
    p = plan.build_plan(stages, [planned(i, 0, "a" if i < 3 else "b") for i in range(6)], [], CREATED.isoformat())
    s = scheduler(p)
    assert s.next(0).start == (IDS[0], IDS[1], IDS[2])  # 3 across both groups, not 3 + 3
    s.ended(IDS[0], run.DONE)
    assert s.next(0).start == (IDS[3],)


def test_an_approval_gate_stops_before_what_it_guards_until_passed():
    p = gated_plan()
    s = scheduler(p)
    assert s.next(0).start == (IDS[0],)
    s.ended(IDS[0], run.DONE)
    assert s.next(1) == run.Step(wait_until=61)  # the stage's soak comes first
    step = s.next(61)
    assert step.finished and s.exit_code() == gates.EXIT_GATE == 7
    # Every gate in the way is named at once: the approval after the canary, prod's time, eu's approval.
    assert [h.point.address for h in s.waiting_at] == ["canary:after", "prod:before", "prod/eu:before"]
    assert s.waiting_at[0].until is None and s.waiting_at[1].until == datetime(2026, 6, 5, 23, tzinfo=UTC).timestamp()
    assert all(s.states[i.lower()] == run.PENDING for i in IDS[1:5])  # nothing behind the gate started


def test_a_rerun_passes_only_what_its_command_line_approves():
    p = gated_plan()
    after_canary = {IDS[0]: run.DONE}
    friday = datetime(2026, 6, 5, 23, 0, tzinfo=UTC)
    s = scheduler(p, after_canary, approved=["canary:after"], at=friday)
    assert s.next(0).start == (IDS[3],)  # prod's time has come; group us has no gate of its own
    s.ended(IDS[3], run.DONE)
    assert s.next(0).start == (IDS[4],)
    s.ended(IDS[4], run.DONE)
    assert s.next(0).finished and s.exit_code() == 7
    assert [h.point.address for h in s.waiting_at] == ["prod/eu:before"]  # eu's approval was not given
    assert s.states[IDS[1].lower()] == s.states[IDS[2].lower()] == run.PENDING
    s = scheduler(p, after_canary, approved=["canary:after", "prod/eu:before"], at=friday)
    assert s.next(0).start == (IDS[1], IDS[2])  # the stage's 50% of 4 caps eu's 100% and us's 1 together
    assert s.next(0) == run.Step()


def test_a_scheduled_start_is_not_passed_before_its_time_and_waited_for_when_near():
    p = gated_plan()
    before = datetime(2026, 6, 5, 22, 0, tzinfo=UTC)
    s = scheduler(p, {IDS[0]: run.DONE}, approved=["canary:after", "prod/eu:before"], at=before)
    assert s.next(0).finished and s.exit_code() == 7
    assert [(h.point.address, h.until) for h in s.waiting_at] == [("prod:before", before.timestamp() + 3600)]
    near = before + timedelta(minutes=50)  # 10 minutes to go: within the wait
    clock = Clock(near)
    s = scheduler(p, {IDS[0]: run.DONE}, approved=["canary:after", "prod/eu:before"], at=near)
    s.clock = clock
    step = s.next(100)
    assert step.wait_until == 100 + 600 and "friday evening" in step.why and not step.start
    clock.now += 600
    assert s.next(700).start == (IDS[1], IDS[2])


def test_a_stage_already_begun_is_not_gated_again():
    p = gated_plan()
    # prod began in an earlier run (one of its clusters carries the planned config): its gates are behind it.
    s = scheduler(p, {IDS[0]: run.DONE, IDS[1]: run.DONE}, at=CREATED)
    assert s.next(0).start == (IDS[2], IDS[3])
    s.ended(IDS[3], run.DONE)
    assert s.next(0).start == (IDS[4],)
    for i in (2, 4):
        s.ended(IDS[i], run.DONE)
    assert s.next(0).finished
    # The gates after the last stage hold the rollout's end: not done until passed.
    assert [h.point.address for h in s.waiting_at] == ["prod/eu:after"] and s.exit_code() == 7
    done = scheduler(p, {i: run.DONE for i in IDS[:5]}, approved=["prod/eu:after"])
    assert done.next(0).finished and done.exit_code() == run.EXIT_DONE


def test_gates_of_a_stage_with_nothing_to_start_stop_nothing():
    p = gated_plan(clusters=[planned(0, 0, "canary"), planned(1, 1, "eu", plan.UNCHANGED)])
    s = scheduler(p, {IDS[0]: run.DONE, IDS[1]: run.UNCHANGED}, stages=[0])
    assert s.next(0).finished and s.exit_code() == run.EXIT_DONE  # canary:after guards prod, which writes nothing


def test_stage_and_group_budgets_each_hold_beside_the_runs():
    p = simple({"max_allowed_failures": 1}, n=4)
    s = scheduler(p, allowed=5)
    assert s.next(0).start == tuple(IDS[:4])
    s.ended(IDS[0], run.FAILED)
    assert not s.halted
    s.ended(IDS[1], run.DRIFTED)
    assert s.halted and s.halt_reason == "stage s1 holds 2 failed cluster(s); its maxAllowedFailures is 1"
    s.ended(IDS[2], run.DONE)
    s.ended(IDS[3], run.DONE)
    assert s.next(0).finished and s.exit_code() == run.EXIT_HALTED
    assert s.states[IDS[4].lower()] == run.PENDING  # the next stage never started
    g = scheduler(simple(group_extras={"max_allowed_failures": 0}), allowed=5)
    g.next(0)
    g.ended(IDS[0], run.FAILED)
    assert g.halted and "group g of stage s1" in g.halt_reason
    loose = scheduler(simple({"max_allowed_failures": 3}), allowed=0)  # the run's own budget still holds
    loose.next(0)
    loose.ended(IDS[0], run.FAILED)
    assert loose.halted and not loose.halt_reason


def test_a_failure_of_an_earlier_run_counts_against_the_stage_budget():
    p = simple({"max_allowed_failures": 0})
    s = scheduler(p, {IDS[0]: run.FAILED}, allowed=5)
    assert s.halted and "stage s1 holds 1 failed" in s.halt_reason
    assert s.next(0).finished and s.exit_code() == run.EXIT_HALTED


def test_a_group_due_soon_is_waited_for_while_another_waits_for_its_approval():
    ten_past = {"type": "ScheduledStart",
                "scheduledStartConfiguration": {"startDay": "Monday", "startTime": "12:10", "utcOffset": "+00:00"}}
    stages = strategy.parse_strategy({"stages": [{"name": "s", "groups": [
        {"name": "a", "beforeGates": [APPROVAL]}, {"name": "b", "beforeGates": [ten_past]}]}]})
    p = gated_plan(stages, [planned(0, 0, "a"), planned(1, 0, "b")])
    clock = Clock(CREATED)
    s = scheduler(p)
    s.clock = clock
    step = s.next(5)
    assert step.wait_until == 605 and "before group b of stage s (s/b:before)" in step.why
    clock.now += 600
    assert s.next(605).start == (IDS[1],)
    s.ended(IDS[1], run.DONE)
    assert s.next(700).finished and [h.point.address for h in s.waiting_at] == ["s/a:before"]
    assert s.exit_code() == 7
