"""The pure decisions that make a rollout safe to run again: failures carried between runs (counted, holding later
stages, accepted by name or retried), done only when the nodes run the new config, drift one outcome, a stopped
run, and --stop-after's durations."""
from __future__ import annotations

import pytest

from azext_aksproxy.cluster.pools import NodeModel
from azext_aksproxy.fleet import plan_file, resume, strategy
from azext_aksproxy.fleet import states as run
from tests.unit.fleet.test_rollout import IDS, planned

THREE_STAGES = (strategy.Stage("canary", (strategy.Group("canary", "1"),), 0),
                strategy.Stage("ten", (strategy.Group("ten", "2"),), 0),
                strategy.Stage("rest", (strategy.Group("rest", "2"),), 0))


def fleet() -> plan_file.Plan:
    """c0 the canary; c1, c2 stage two; c3, c4 stage three."""
    return plan_file.build_plan(THREE_STAGES, [planned(0, 0, group="canary"), planned(1, 1, group="ten"),
                                          planned(2, 1, group="ten"), planned(3, 2, group="rest"),
                                          planned(4, 2, group="rest")], [], "")


def states(**given) -> dict[str, str]:
    out = {IDS[i].lower(): run.PENDING for i in range(5)}
    out.update({IDS[int(k[1:])].lower(): v for k, v in given.items()})
    return out


def scheduler_for(p, start: resume.RunStart, stages=(0, 1, 2), allowed=0) -> run.Scheduler:
    return run.Scheduler(p, dict(start.states), tuple(stages), allowed, failures=start.failures,
                         holding=dict(start.holding))


def drive(s: run.Scheduler, outcome=run.DONE) -> list[str]:
    """Every cluster the scheduler starts, each ending with ``outcome``."""
    started = []
    while True:
        step = s.next(0)
        if step.finished:
            return started
        assert step.start, step
        for cid in step.start:
            started.append(cid)
            s.ended(cid, outcome)


# ---- failures carried between runs --------------------------------------------------------------------------


@pytest.mark.parametrize("state", [run.FAILED, run.UNVERIFIED])
def test_a_failed_or_unverified_canary_holds_every_later_stage(state):
    p = fleet()
    start = resume.start_run(p, states(c0=state), (0, 1, 2))
    assert [c.id for c in start.carried] == [IDS[0]] and start.holding == {IDS[0].lower(): state}
    assert start.failures == (1 if state == run.FAILED else 0)
    s = scheduler_for(p, start, allowed=5)  # even within the budget
    assert drive(s) == [] and s.blocked
    assert s.exit_code() == (run.EXIT_HALTED if state == run.FAILED else run.EXIT_HELD)


def test_a_carried_failure_counts_against_the_budget():
    p = fleet()
    start = resume.start_run(p, states(c3=run.FAILED), (0, 1, 2))  # in the last stage: holds nothing later
    s = scheduler_for(p, start)
    assert s.halted and drive(s) == [] and s.exit_code() == run.EXIT_HALTED
    s = scheduler_for(p, start, allowed=1)
    assert drive(s) == [IDS[0], IDS[1], IDS[2], IDS[4]] and s.exit_code() == run.EXIT_HELD
    s = scheduler_for(p, start, allowed=1)
    s.next(0)
    s.ended(IDS[0], run.FAILED)  # a second failure in this run: beyond the budget of 1
    assert s.halted and s.next(0).finished


def test_a_failure_within_a_stage_lets_the_rest_of_that_stage_run_but_no_later_stage():
    p = fleet()
    start = resume.start_run(p, states(c0=run.DONE, c1=run.FAILED), (0, 1, 2))
    s = scheduler_for(p, start, allowed=1)
    assert drive(s) == [IDS[2]] and s.blocked and s.exit_code() == run.EXIT_HALTED
    assert s.states[IDS[3].lower()] == run.PENDING


def test_nothing_to_do_later_is_not_blocked():
    p = fleet()
    done = {f"c{i}": run.DONE for i in (1, 2, 3, 4)}
    start = resume.start_run(p, states(c0=run.FAILED, **done), (0, 1, 2))
    s = scheduler_for(p, start, allowed=1)
    assert drive(s) == [] and not s.blocked and s.exit_code() == run.EXIT_HELD


def test_accepted_failures_pass_and_count_nothing():
    p = fleet()
    start = resume.start_run(p, states(c0=run.FAILED), (0, 1, 2), accepted=[IDS[0].lower()])
    assert start.failures == 0 and not start.holding and not start.carried
    s = scheduler_for(p, start)
    assert drive(s) == IDS[1:5] and s.exit_code() == run.EXIT_HELD  # c0 still failed: not done
    with pytest.raises(resume.ResumeError, match=r"not failed, drifted or unverified: .*c1 \(pending\)"):
        resume.start_run(p, states(c0=run.FAILED), (0, 1, 2), accepted=[IDS[1].lower()])


def test_accepted_failures_let_a_stage_run_on_its_own():
    p = fleet()
    initial = states(c0=run.FAILED)
    assert [c.id for c in run.earlier_stages_open(p, initial, 1)] == [IDS[0]]
    assert run.earlier_stages_open(p, initial, 1, accepted=[IDS[0].lower()]) == []


def test_retry_failed_writes_the_failed_clusters_of_the_stages_run_again():
    p = fleet()
    start = resume.start_run(p, states(c0=run.FAILED, c1=run.DRIFTED), (0, 1, 2), retry_failed=True)
    assert start.retry == {IDS[0].lower()}  # drifted: never retried (someone else's change), counted
    assert start.states[IDS[0].lower()] == run.PENDING and start.failures == 1 and not start.holding
    s = scheduler_for(p, start, allowed=1)
    assert drive(s) == [IDS[0], IDS[2], IDS[3], IDS[4]]
    only_rest = resume.start_run(p, states(c0=run.FAILED), (2,), retry_failed=True)
    assert not only_rest.retry and only_rest.holding  # the canary's stage is not run: not retried, still holds
    accepted = resume.start_run(p, states(c0=run.FAILED), (0, 1, 2), accepted=[IDS[0].lower()], retry_failed=True)
    assert not accepted.retry  # accepted as it is


def test_resolve_clusters_by_id_or_subscription_group_name():
    p = fleet()
    assert resume.resolve_clusters(p, [IDS[0].upper(), "s/rg/c1", "/s/rg/c1/"]) == [IDS[0].lower(), IDS[1].lower()]
    assert resume.resolve_clusters(p, [IDS[1].lstrip("/") + "/", f" {IDS[0]} "]) == [IDS[1].lower(), IDS[0].lower()]
    with pytest.raises(resume.ResumeError, match="not a cluster of the plan: s/rg/nope, c2"):
        resume.resolve_clusters(p, ["s/rg/c0", "s/rg/nope", "c2"])


# ---- drift: one outcome -------------------------------------------------------------------------------------


def test_drift_read_before_the_run_and_drift_answered_during_it_are_alike():
    p = fleet()
    before = scheduler_for(p, resume.start_run(p, states(c0=run.DRIFTED), (0, 1, 2)))
    during = scheduler_for(p, resume.start_run(p, states(), (0, 1, 2)))
    assert during.next(0).start == (IDS[0],)
    during.ended(IDS[0], run.DRIFTED)  # a 412 on its write
    for s in (before, during):
        assert s.failures == 1 and s.halted and s.next(0).finished and s.exit_code() == run.EXIT_HALTED
    lenient = [scheduler_for(p, resume.start_run(p, states(c0=run.DRIFTED), (0, 1, 2)), allowed=1),
               scheduler_for(p, resume.start_run(p, states(), (0, 1, 2)), allowed=1)]
    lenient[1].next(0)
    lenient[1].ended(IDS[0], run.DRIFTED)
    for s in lenient:
        assert drive(s) == IDS[1:5] and s.exit_code() == run.EXIT_HELD


# ---- done means the nodes run it ----------------------------------------------------------------------------


def test_verified_state_done_failed_unverified():
    pools = [("np1", 3), ("np2", 2), ("off", 0)]
    on = {"np1": NodeModel(3, 3), "np2": NodeModel(2, 2)}
    assert resume.verified_state(pools, on)[0] == run.DONE
    state, why = resume.verified_state(pools, {**on, "np2": NodeModel(2, 0)})
    assert state == run.FAILED and "np2 (0 of 2 nodes on it)" in why and "np1" not in why
    state, why = resume.verified_state(pools, None, "MC_rg_c_westus2: (AuthorizationFailed) no")
    assert state == run.UNVERIFIED and "AuthorizationFailed" in why
    state, why = resume.verified_state(pools, {"np1": NodeModel(3, 3)})
    assert state == run.UNVERIFIED and "no scale set of np2" in why


def test_unverified_in_this_run_holds_later_stages_and_never_counts_as_done():
    p = fleet()
    s = scheduler_for(p, resume.start_run(p, states(), (0, 1, 2)))
    assert drive(s, run.UNVERIFIED) == [IDS[0]]
    assert s.blocked and not s.halted and s.exit_code() == run.EXIT_HELD


# ---- stopping -----------------------------------------------------------------------------------------------


def test_a_stopped_run_starts_nothing_more_and_exits_resumable():
    p = fleet()
    s = scheduler_for(p, resume.start_run(p, states(), (0, 1, 2)))
    s.next(0)
    s.ended(IDS[0], run.DONE)
    assert s.next(0).start == (IDS[1], IDS[2])
    s.stop()
    assert s.next(0) == run.Step()  # the running ones are still reported
    s.ended(IDS[1], run.RUNNING)
    s.ended(IDS[2], run.PENDING)
    assert s.next(0).finished and s.exit_code() == run.EXIT_STOPPED
    late = scheduler_for(p, resume.start_run(p, states(c0=run.DONE, c1=run.DONE, c2=run.DONE, c3=run.DONE),
                                             (0, 1, 2)))
    assert late.next(0).start == (IDS[4],)
    late.stop()  # the stop comes as the last cluster ends: nothing left to resume
    late.ended(IDS[4], run.DONE)
    assert late.next(0).finished and late.exit_code() == run.EXIT_DONE
    halted = scheduler_for(p, resume.start_run(p, states(c3=run.FAILED), (0, 1, 2)))
    halted.stop()
    assert halted.exit_code() == run.EXIT_HALTED  # a halt says more than a stop


@pytest.mark.parametrize("text, seconds", [("90m", 5400), ("5h30m", 19800), ("45s", 45), ("1h2m3s", 3723),
                                           ("3600", 3600), ("2.5", 2.5), (" 2H ", 7200)])
def test_parse_duration(text, seconds):
    assert resume.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0m", "m", "90x", "-5", "1d", "5m30h"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        resume.parse_duration(text)
