"""`rollout apply`'s per-cluster decision: from what the run read and did, the next step, for every state a
cluster can be found in or brought to. ``walk`` plays the adapter: it answers each step from a script and records
the steps, so each test reads as the cluster's story."""
from __future__ import annotations

from dataclasses import replace

import pytest

from azext_aksproxy.fleet import cluster_step as cs
from azext_aksproxy.fleet.states import (
    DONE,
    DRIFTED,
    FAILED,
    GONE,
    HELD,
    PENDING,
    RUNNING,
    UNCHANGED,
    UNVERIFIED,
)

PLANNED = '"etag-1"'  # as ARM quotes it: compared without the quotes


def facts(**kw) -> cs.Facts:
    return replace(cs.Facts(plan_etag=PLANNED, timeout=600.0), **kw)


def walk(start: cs.Facts, answers: dict, limit: int = 30) -> tuple[list[str], cs.Step]:
    """The steps decide() asks for, each answered by ``answers[kind]`` (a dict of Facts fields, or a list of them
    used in turn), until END."""
    seen, now = [], start
    queues = {k: list(v) if isinstance(v, list) else None for k, v in answers.items()}
    for _ in range(limit):
        step = cs.decide(now)
        if step.kind == cs.END:
            return seen, step
        seen.append(step.kind)
        answer = queues[step.kind].pop(0) if queues.get(step.kind) is not None else answers[step.kind]
        if step.kind == cs.READ:
            answer = {"reads": now.reads + 1, "start": now.start or answer["read"][0], **answer}
        if step.kind == cs.WAIT:
            answer = {"refused": None, "etag_at_write": None, "waits": now.waits + 1, **answer}
        now = replace(now, **answer)
    raise AssertionError(f"no END after {limit} steps: {seen}")


READ_PENDING = {"read": (PENDING, "as planned"), "etag": "etag-1"}
ALLOWED = {"gate": (False, "")}
PASSED = {"check": ""}
UNMOVED = {"etag_at_write": "etag-1"}
NODES_DONE = {"nodes": (DONE, "every pool's nodes run the new model")}


def test_a_pending_cluster_is_gated_checked_written_over_the_planned_etag_followed_and_verified():
    steps, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.CHECK: PASSED, cs.PREPARE: UNMOVED,
                                cs.WRITE: {"sent": True}, cs.AWAIT: [{}, {"rolled": ""}], cs.VERIFY: NODES_DONE})
    assert steps == [cs.READ, cs.GATE, cs.CHECK, cs.PREPARE, cs.WRITE, cs.AWAIT, cs.AWAIT, cs.VERIFY]
    assert (end.state, end.why) == NODES_DONE["nodes"]
    assert cs.decide(facts(read=READ_PENDING["read"], gate=(False, ""), check="", etag_at_write="etag-1")).etag \
        == "etag-1"


def test_skip_check_writes_without_the_node_check():
    steps, _ = walk(facts(skip_check=True), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.PREPARE: UNMOVED,
                                             cs.WRITE: {"sent": True}, cs.AWAIT: {"rolled": ""},
                                             cs.VERIFY: NODES_DONE})
    assert cs.CHECK not in steps and cs.WRITE in steps


@pytest.mark.parametrize("verdict", [(DONE, "ok"), (FAILED, "2 of 3 nodes on the old model"),
                                     (UNVERIFIED, "the scale sets could not be read")])
def test_done_is_what_the_nodes_say_after_the_write(verdict):
    _, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.CHECK: PASSED, cs.PREPARE: UNMOVED,
                            cs.WRITE: {"sent": True}, cs.AWAIT: {"rolled": ""}, cs.VERIFY: {"nodes": verdict}})
    assert (end.state, end.why) == verdict


def test_a_refused_gate_holds_the_cluster_before_any_check_or_write():
    steps, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: {"gate": (True, "maintenance window closed")}})
    assert steps == [cs.READ, cs.GATE]
    assert (end.state, end.why) == (HELD, "maintenance window closed")


def test_a_failed_node_check_fails_the_cluster_and_nothing_is_written():
    steps, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.CHECK: {"check": "403 from proxy"}})
    assert cs.WRITE not in steps and cs.PREPARE not in steps
    assert end.state == FAILED and "nothing was written: 403 from proxy" in end.why


def test_an_etag_moved_since_the_plan_is_drift_never_overwritten():
    steps, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.CHECK: PASSED,
                                cs.PREPARE: {"etag_at_write": '"etag-2"'}})
    assert cs.WRITE not in steps
    assert end.state == DRIFTED and "etag-1 -> etag-2" in end.why


def test_a_412_is_drift():
    _, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.CHECK: PASSED, cs.PREPARE: UNMOVED,
                            cs.WRITE: {"refused": cs.Refusal(412, "Precondition Failed")}})
    assert end.state == DRIFTED and "412" in end.why


def test_a_409_is_waited_out_doubling_then_written_again_over_a_fresh_read():
    steps, end = walk(facts(), {cs.READ: READ_PENDING, cs.GATE: ALLOWED, cs.CHECK: PASSED, cs.PREPARE: UNMOVED,
                                cs.WRITE: [{"refused": cs.Refusal(409, "busy")}, {"refused": cs.Refusal(409, "busy")},
                                           {"sent": True}],
                                cs.WAIT: {}, cs.AWAIT: {"rolled": ""}, cs.VERIFY: NODES_DONE})
    assert steps == [cs.READ, cs.GATE, cs.CHECK, cs.PREPARE, cs.WRITE, cs.WAIT, cs.PREPARE, cs.WRITE, cs.WAIT,
                     cs.PREPARE, cs.WRITE, cs.AWAIT, cs.VERIFY]
    assert end.state == DONE
    assert [cs.conflict_wait(n) for n in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    waiting = cs.decide(facts(read=READ_PENDING["read"], gate=(False, ""), check="",
                              refused=cs.Refusal(409, "busy", retry_after=7.0)))
    assert (waiting.kind, waiting.seconds, waiting.phase) == (cs.WAIT, 7.0, "waiting")


@pytest.mark.parametrize("late", [{"out_of_time": True}, {"stopping": True}])
def test_a_409_past_the_timeout_or_during_a_stop_fails_the_write(late):
    step = cs.decide(facts(read=READ_PENDING["read"], gate=(False, ""), check="", refused=cs.Refusal(409, "busy"),
                           **late))
    assert (step.kind, step.state) == (cs.END, FAILED) and "refused: busy" in step.why


def test_other_refusals_and_errors_fail_the_cluster():
    base = facts(read=READ_PENDING["read"], gate=(False, ""), check="")
    assert cs.decide(replace(base, refused=cs.Refusal(400, "(BadRequest) no"))).why == \
        "the write was refused: (BadRequest) no"
    assert cs.decide(replace(base, refused=cs.Refusal(None, "connection reset"))).why == \
        "the write failed: connection reset"


def test_a_stop_before_the_check_or_the_write_writes_nothing():
    gated = facts(read=READ_PENDING["read"], gate=(False, ""), stopping=True)
    assert (cs.decide(gated).state, cs.decide(gated).why) == (PENDING, "not written: the run stopped before its check")
    ready = replace(gated, check="", etag_at_write="etag-1")
    assert (cs.decide(ready).state, cs.decide(ready).why) == (PENDING, "not written: the run stopped before its write")


def test_a_stop_after_the_write_leaves_it_rolling_in_azure():
    step = cs.decide(facts(read=READ_PENDING["read"], sent=True, stopping=True))
    assert (step.state, step.why) == (RUNNING, cs.STOPPED_WHILE_ROLLING)


def test_a_written_cluster_past_its_timeout_or_whose_operation_failed_is_failed():
    assert cs.decide(facts(sent=True, out_of_time=True)).why == \
        "still rolling after 600 s; apply the plan again to follow it"
    assert cs.decide(facts(sent=True, rolled="(ReimageFailed) node 2")).why == "the rollout failed: (ReimageFailed) node 2"


def test_a_cluster_an_earlier_run_wrote_is_followed_never_written_again():
    steps, end = walk(facts(), {cs.READ: [{"read": (RUNNING, "rolling"), "etag": "etag-2"},
                                          {"read": (RUNNING, "rolling"), "etag": "etag-2"},
                                          {"read": (DONE, "runs it"), "etag": "etag-3"}],
                                cs.VERIFY: NODES_DONE})
    assert steps == [cs.READ, cs.READ, cs.READ, cs.VERIFY]
    assert end.state == DONE
    first = cs.decide(facts(reads=1, start=RUNNING, read=(RUNNING, "rolling")))
    assert (first.kind, first.seconds, first.phase) == (cs.READ, 0.0, "reimaging")
    assert cs.decide(facts(reads=2, start=RUNNING, read=(RUNNING, "rolling"))).seconds == cs.POLL_SECONDS


def test_following_ends_as_the_cluster_ends_or_when_the_run_stops_or_times_out():
    rolling = facts(reads=2, start=RUNNING, read=(RUNNING, "rolling"))
    assert cs.decide(replace(rolling, read=(FAILED, "last operation failed"))).state == FAILED
    assert cs.decide(replace(rolling, stopping=True)).why == cs.STOPPED_WHILE_ROLLING
    assert cs.decide(replace(rolling, out_of_time=True)).state == FAILED
    assert cs.decide(replace(rolling, read_error="HTTP 500")).why == "could not be read while following it: HTTP 500"


@pytest.mark.parametrize("found", [(DONE, "runs the planned config")])
def test_a_cluster_found_done_has_its_nodes_read(found):
    steps, end = walk(facts(), {cs.READ: {"read": found, "etag": "etag-9"},
                                cs.VERIFY: {"nodes": (FAILED, "nodes behind")}})
    assert steps == [cs.READ, cs.VERIFY] and end.state == FAILED


@pytest.mark.parametrize("found", [(FAILED, "its last operation failed"), (HELD, "policy"), (DRIFTED, "changed"),
                                   (UNCHANGED, "changes nothing"), (GONE, "no longer exists")])
def test_a_cluster_found_in_any_other_state_ends_as_found_unwritten(found):
    steps, end = walk(facts(), {cs.READ: {"read": found, "etag": "etag-9"}})
    assert steps == [cs.READ] and (end.state, end.why) == found


def test_an_unreadable_cluster_fails():
    assert cs.decide(facts(read_error="HTTP 503")).why == "could not be read: HTTP 503"


def test_retry_failed_writes_again_over_the_etag_this_run_read():
    steps, end = walk(facts(retry_etag="etag-5"), {
        cs.READ: {"read": (FAILED, "failed"), "etag": "etag-5"}, cs.GATE: ALLOWED, cs.CHECK: PASSED,
        cs.PREPARE: {"etag_at_write": "etag-5"}, cs.WRITE: {"sent": True}, cs.AWAIT: {"rolled": ""},
        cs.VERIFY: NODES_DONE})
    assert steps == [cs.READ, cs.GATE, cs.CHECK, cs.PREPARE, cs.WRITE, cs.AWAIT, cs.VERIFY] and end.state == DONE
    gate = cs.decide(facts(retry_etag="etag-5", reads=1, start=FAILED, read=(FAILED, "failed"), etag="etag-5"))
    assert (gate.kind, gate.phase) == (cs.GATE, "retrying")
    write = cs.decide(facts(retry_etag="etag-5", start=FAILED, read=(FAILED, ""), etag="etag-5", gate=(False, ""),
                            check="", etag_at_write="etag-5"))
    assert (write.kind, write.etag) == (cs.WRITE, "etag-5")


def test_retry_failed_never_overwrites_a_cluster_changed_since_this_run_read_it():
    _, end = walk(facts(retry_etag="etag-5"), {cs.READ: {"read": (FAILED, "failed"), "etag": "etag-6"}})
    assert end.state == DRIFTED and "etag-5 -> etag-6" in end.why


def test_retry_failed_on_a_done_cluster_writes_only_when_its_nodes_are_still_behind():
    caught_up = {cs.READ: {"read": (DONE, "runs it"), "etag": "etag-5"}, cs.VERIFY: NODES_DONE}
    steps, end = walk(facts(retry_etag="etag-5"), caught_up)
    assert steps == [cs.READ, cs.VERIFY] and end.state == DONE
    behind = {**caught_up, cs.VERIFY: {"nodes": (FAILED, "behind")}, cs.GATE: {"gate": (True, "window closed")}}
    steps, end = walk(facts(retry_etag="etag-5"), behind)
    assert steps == [cs.READ, cs.VERIFY, cs.GATE] and end.state == HELD


def test_a_retry_etag_leaves_pending_and_running_clusters_to_the_plain_path():
    _, end = walk(facts(retry_etag="etag-5"), {cs.READ: {"read": (HELD, "policy"), "etag": "etag-1"}})
    assert end.state == HELD
    write = cs.decide(facts(retry_etag="etag-5", start=PENDING, read=(PENDING, ""), etag="etag-1",
                            gate=(False, ""), check="", etag_at_write="etag-1"))
    assert (write.kind, write.etag) == (cs.WRITE, "etag-1")
