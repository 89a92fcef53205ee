"""One cluster of `rollout apply`: what happens to it next, given what this run has read and done so far.

The adapter (adapters/fleet_rollout_cluster.py) only reads and writes: it asks :func:`decide` for the next step,
does it, records what it saw in :class:`Facts`, and asks again, until the step is ``END`` with the cluster's state
for this run (fleet/states.py). Every decision of the loop lives here:

- a cluster found ``running`` (written by an earlier run) is followed, never written again; found ``done`` it has
  its nodes read (done means the nodes run the new model); found anything else but ``pending`` it ends as found;
- a pending cluster is written only after the disruption gate allows it and the proxy check from one of its nodes
  passed, with If-Match on the eTag the plan read: an eTag moved since, or a 412, is drift, never overwritten;
- a 409 (another operation in progress) is waited out while time is left and the run is not stopping; any other
  refusal fails the cluster;
- ``--retry-failed`` writes a failed cluster again only over the eTag this run read at its start;
- once the run is stopping (SIGTERM, --stop-after) nothing more is written: a write is sent whole or not at all, a
  cluster already written is left rolling in Azure (``running``), and the next apply follows it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .states import DONE, DRIFTED, FAILED, HELD, PENDING, RUNNING, etag_text

READ, GATE, CHECK, PREPARE, WRITE, AWAIT, VERIFY, WAIT, END = (
    "read", "gate", "check", "prepare", "write", "await", "verify", "wait", "end")
POLL_SECONDS = 2.0  # between reads of a cluster AKS is rolling (written by an earlier run)
# A 409 without Retry-After (azure-core waits out those with one): waits doubling from the first to the last.
CONFLICT_WAITS_SECONDS = (2.0, 30.0)
STOPPED_WHILE_ROLLING = "written; AKS goes on rolling it out after the stop: apply the same plan again to follow it"


@dataclass(frozen=True)
class Step:
    """``kind`` is one of READ (the cluster's GET, after ``seconds``), GATE (the disruption gate), CHECK (the proxy
    check from a node), PREPARE (the GET whose model is written), WRITE (the PUT, If-Match ``etag``), AWAIT (AKS's
    operation, for up to a poll), VERIFY (the nodes' latestModelApplied), WAIT (``seconds``, then write again) and
    END (``state``, ``why``). ``note`` is a progress line to print before the step, with its ``phase``."""

    kind: str
    state: str = ""
    why: str = ""
    seconds: float = 0.0
    etag: str = ""
    note: str = ""
    phase: str = ""


@dataclass(frozen=True)
class Refusal:
    """A write that did not get through: ``status`` is the HTTP status (None: no answer), ``text`` az's words."""

    status: int | None
    text: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Facts:
    """What this run has read and done for one cluster (the adapter records; :func:`decide` reads)."""

    plan_etag: str  # the eTag the plan read: the only one a plain run writes over
    timeout: float  # seconds allowed for the cluster (check, write, reimage)
    retry_etag: str | None = None  # --retry-failed: the eTag this run read at its start
    skip_check: bool = False
    reads: int = 0  # cluster GETs so far
    start: str = ""  # the state of the run's first read (observed_state)
    read: tuple[str, str] | None = None  # (state, why) of the latest read
    read_error: str = ""  # the latest GET failed: why
    etag: str = ""  # the eTag of the latest read
    gate: tuple[bool, str] | None = None  # (refused, why) once the disruption gate was asked
    check: str | None = None  # the node check: "" passed, else why it failed; None: not run
    etag_at_write: str | None = None  # the eTag read just before the write
    refused: Refusal | None = None  # the latest write did not get through
    waits: int = 0  # 409s waited out so far
    sent: bool = False  # AKS accepted this run's write
    rolled: str | None = None  # AKS's operation ended: "" succeeded, else why it failed; None: not yet
    nodes: tuple[str, str] | None = None  # (done | failed | unverified, why) from the scale sets
    stopping: bool = False  # SIGTERM or --stop-after: nothing more is written
    out_of_time: bool = False  # the cluster's timeout has passed


def decide(facts: Facts) -> Step:
    """The next step for one cluster (see the module's docstring)."""
    if facts.sent:
        return _after_write(facts)
    if facts.read_error:
        following = " while following it" if facts.start == RUNNING else ""
        return Step(END, FAILED, f"could not be read{following}: {facts.read_error}")
    if facts.read is None:
        return Step(READ)
    if facts.start == RUNNING:
        return _following(facts)
    if _retrying(facts):
        found = _retry(facts)
        if found is not None:
            return found
    elif facts.nodes is not None:
        return Step(END, *facts.nodes)
    elif facts.read[0] == DONE:
        return Step(VERIFY)
    elif facts.read[0] != PENDING:
        return Step(END, *facts.read)
    return _to_write(facts)


def conflict_wait(waits: int) -> float:
    """Seconds to wait out the next 409 without Retry-After, after ``waits`` of them."""
    first, last = CONFLICT_WAITS_SECONDS
    return float(min(first * 2 ** waits, last))


def _retrying(facts: Facts) -> bool:
    return facts.retry_etag is not None and facts.start in (FAILED, DONE)


def _expected_etag(facts: Facts) -> str:
    return etag_text(facts.retry_etag if _retrying(facts) else facts.plan_etag)


def _retry(facts: Facts) -> Step | None:
    """--retry-failed: a failed (or done, its nodes behind) cluster is written again only as this run read it."""
    if etag_text(facts.etag) != etag_text(facts.retry_etag):
        return Step(END, DRIFTED, f"changed since this run read it (eTag {etag_text(facts.retry_etag)} -> "
                                  f"{etag_text(facts.etag)}); never overwritten: plan again")
    if facts.start == DONE:  # its nodes may have caught up since the start
        if facts.nodes is None:
            return Step(VERIFY)
        if facts.nodes[0] != FAILED:
            return Step(END, *facts.nodes)
    return None


def _following(facts: Facts) -> Step:
    """Written by an earlier run and still rolling: read again until AKS ends, never written again."""
    if facts.nodes is not None:
        return Step(END, *facts.nodes)
    state, why = facts.read or ("", "")
    if state == DONE:
        return Step(VERIFY)
    if state != RUNNING:
        return Step(END, state, why)
    if facts.stopping:
        return Step(END, RUNNING, STOPPED_WHILE_ROLLING)
    if facts.out_of_time:
        return _still_rolling(facts)
    if facts.reads == 1:
        return Step(READ, note="the new config is already written; following AKS's rollout", phase="reimaging")
    return Step(READ, seconds=POLL_SECONDS)


def _to_write(facts: Facts) -> Step:
    """Gate, check, then the write with If-Match; what a refused write means."""
    if facts.gate is None:
        if _retrying(facts):
            return Step(GATE, note="failed before: checking and writing it again", phase="retrying")
        return Step(GATE)
    refused, why = facts.gate
    if refused:
        return Step(END, HELD, why)
    if facts.check is None and facts.etag_at_write is None and facts.refused is None:
        if facts.stopping:
            return Step(END, PENDING, "not written: the run stopped before its check")
        if not facts.skip_check:
            return Step(CHECK)
    if facts.check:
        return Step(END, FAILED, f"the proxy check from a node failed, nothing was written: {facts.check}")
    if facts.refused is not None:
        return _after_refusal(facts, facts.refused)
    expected = _expected_etag(facts)
    if facts.etag_at_write is None:
        return Step(PREPARE)
    if etag_text(facts.etag_at_write) != expected:
        return Step(END, DRIFTED, f"changed since it was read (eTag {expected} -> {etag_text(facts.etag_at_write)}); "
                                  "never overwritten: plan again")
    if facts.stopping:  # a write is sent whole or not at all
        return Step(END, PENDING, "not written: the run stopped before its write")
    return Step(WRITE, etag=expected)


def _after_refusal(facts: Facts, refusal: Refusal) -> Step:
    if refusal.status == 412:
        return Step(END, DRIFTED, "changed by someone else since it was read (412 Precondition Failed); never "
                                  "overwritten: plan again")
    if refusal.status == 409 and not facts.out_of_time and not facts.stopping:
        seconds = refusal.retry_after or conflict_wait(facts.waits)
        return Step(WAIT, seconds=seconds, note=f"another operation is in progress; waiting {seconds:.0f} s",
                    phase="waiting")
    if refusal.status is None:
        return Step(END, FAILED, f"the write failed: {refusal.text}")
    return Step(END, FAILED, f"the write was refused: {refusal.text}")


def _after_write(facts: Facts) -> Step:
    """This run's write was accepted: AKS's operation to its end, then the nodes."""
    if facts.nodes is not None:
        return Step(END, *facts.nodes)
    if facts.rolled:
        return Step(END, FAILED, f"the rollout failed: {facts.rolled}")
    if facts.rolled == "":
        return Step(VERIFY)
    if facts.stopping:
        return Step(END, RUNNING, STOPPED_WHILE_ROLLING)
    if facts.out_of_time:
        return _still_rolling(facts)
    return Step(AWAIT)


def _still_rolling(facts: Facts) -> Step:
    return Step(END, FAILED, f"still rolling after {facts.timeout:.0f} s; apply the plan again to follow it")
