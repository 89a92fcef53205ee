"""`rollout apply`'s run: the scheduler's steps (fleet/states.py) with one thread per running cluster, the
stop on SIGTERM or --stop-after, a row per cluster, and the exit code a pipeline branches on."""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import threading
import time

from knack.log import get_logger

from azext_aksproxy.adapters.fleet_rollout import state_row, summary
from azext_aksproxy.adapters.progress import outcome

logger = get_logger(__name__)

WAKE_SECONDS = 0.5  # the run looks at SIGTERM and --stop-after at least this often


def run_start(plan, read, run_stages, stage, accept_failed, retry_failed):
    """The run's starting point from the states read (fleet/resume.py); refused with nothing written
    when --accept-failed names what it cannot, or --stage comes before its earlier stages are finished."""
    from azure.cli.core.azclierror import InvalidArgumentValueError, ValidationError

    from azext_aksproxy.fleet import states
    from azext_aksproxy.fleet.resume import (
        ResumeError,
        resolve_clusters,
        start_run,
    )

    initial = {key: got[0] for key, got in read.items()}
    try:
        accepted = resolve_clusters(plan, accept_failed or [])
        start = start_run(plan, initial, run_stages, accepted, bool(retry_failed))
    except ResumeError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    if stage:
        open_before = states.earlier_stages_open(plan, initial, run_stages[0], accepted)
        if open_before:
            listed = ", ".join(f"{c.label} ({initial[c.id.lower()]})" for c in open_before)
            raise ValidationError(f"Stage {stage} waits for the stages before it; not finished: {listed}. Nothing "
                                  "was written.")
    for c in start.carried:
        state, why, _ = read[c.id.lower()]
        logger.warning("Rollout: %s was %s before this run (%s): it counts against --allowed-failures%s.",
                       c.label, state, why,
                       " and holds every later stage" if c.id.lower() in start.holding else "")
    if retry_failed:
        logger.warning("Rollout: --retry-failed: %d failed cluster(s) checked and written again.", len(start.retry))
    return start


def run_steps(plan, scheduler, make_run, stopper, progress):
    """The scheduler's steps, one daemon thread per running cluster; ({id lower: (state, detail, seconds)}, {id
    lower: the ClusterRun still running when a stop's grace ran out})."""
    run = _Run(plan, scheduler, make_run, stopper, progress)
    try:
        run.steps()
    except KeyboardInterrupt:
        stopper.event.set()  # the clusters' threads live on while the process ends: none may start a write now
        logger.warning("Rollout interrupted: clusters already written go on rolling in Azure; apply the same plan "
                       "again to follow them and continue.")
        raise
    with run.wake:
        return dict(run.results), {k: v for k, v in run.runs.items() if k not in run.results}


class _Run:
    """The loop of run_steps: clusters' ends recorded as their threads report them, the stop, the next step."""

    def __init__(self, plan, scheduler, make_run, stopper, progress) -> None:
        self.plan, self.scheduler, self.make_run, self.stopper, self.progress = \
            plan, scheduler, make_run, stopper, progress
        self.results: dict[str, tuple[str, str, float]] = {}
        self.runs: dict = {}
        self.ended: list[tuple[str, str, str, float]] = []
        self.wake = threading.Condition()
        self.by_id = {c.id.lower(): c for c in plan.clusters}
        self.grace_end: float | None = None
        self.soak_said: float | None = None

    def steps(self) -> None:
        while True:
            with self.wake:
                self._record_ended()
                now = time.monotonic()
                self._stop_if_tripped(now)
                step = self.scheduler.next(now)
                if step.finished or (self.grace_end is not None and now >= self.grace_end):
                    return
                if not step.start:
                    self._wait(step, now)
                    continue
            for cid in step.start:
                self._start(self.by_id[cid.lower()])

    def _record_ended(self) -> None:
        for cid, state, detail, seconds in self.ended:
            self.scheduler.ended(cid, state)
            self.results[cid.lower()] = (state, detail, seconds)
            self.runs.pop(cid.lower(), None)
            self.progress.say(self.by_id[cid.lower()].label, f"{state} ({detail})")
        self.ended.clear()

    def _stop_if_tripped(self, now: float) -> None:
        if self.stopper.tripped(now) and not self.scheduler.stopped:
            from azext_aksproxy.adapters.fleet_rollout_resume import STOP_GRACE_SECONDS

            self.scheduler.stop()
            self.grace_end = now + STOP_GRACE_SECONDS
            logger.warning("Rollout: stopping (%s): no cluster starts; %d running recorded as they stand.",
                           self.stopper.reason, len(self.runs))

    def _wait(self, step, now: float) -> None:
        """Nothing to start: wait for a cluster to end, the soak or a gate's time, or the stop's grace."""
        if step.wait_until is not None and step.wait_until != self.soak_said:
            self.soak_said = step.wait_until
            self.progress.line(f"{step.why or 'soaking until the next stage'} ({step.wait_until - now:.0f} s)")
        until = step.wait_until if self.grace_end is None else min(step.wait_until or self.grace_end, self.grace_end)
        self.wake.wait(timeout=min(WAKE_SECONDS, max(0.0, until - now)) if until else WAKE_SECONDS)

    def _start(self, entry) -> None:
        one = self.runs[entry.id.lower()] = self.make_run(entry, self.progress)
        self.progress.say(entry.label, f"starting (stage {self.plan.stages[entry.stage].name})", "starting")
        # One daemon thread per running cluster (the scheduler bounds them): on Ctrl-C the command ends at once;
        # what Azure already accepted goes on there, and applying the plan again follows it.
        threading.Thread(target=self._work, args=(one,), name=f"rollout-{entry.name}", daemon=True).start()

    def _work(self, one) -> None:
        from azext_aksproxy.fleet.states import FAILED

        t0 = time.monotonic()
        try:
            state, detail = one.run()
        except Exception as exc:  # noqa: BLE001 - one cluster's surprise is its failure, never the others'
            state, detail = FAILED, f"{type(exc).__name__}: {exc}"
        with self.wake:
            self.ended.append((one.entry.id, state, detail, time.monotonic() - t0))
            self.wake.notify()


def result_rows(plan, read, results, unfinished, run_stages, scheduler) -> list[dict]:
    from azext_aksproxy.fleet import states

    rows = []
    for c in plan.clusters:
        key = c.id.lower()
        if key in results:
            rows.append(state_row(plan, c, *results[key]))
            continue
        if key in unfinished:  # stopped: recorded as far as it got; the next apply reads it again
            written = unfinished[key].phase != "reading"
            rows.append(state_row(plan, c, states.RUNNING if written else states.PENDING,
                             "its write was sent as the run stopped: apply the same plan again to follow it"
                             if written else "not written: the run stopped during its check"))
            continue
        state, why, _ = read[key]
        if c.stage in run_stages and state in (states.PENDING, states.RUNNING):
            if scheduler.stopped:
                why = "not started: the run stopped"
            elif scheduler.blocked:
                why = "not started: an earlier stage holds a failed or unverified cluster"
            elif scheduler.halted:
                why = "not started: the rollout halted"
            elif scheduler.waiting_at:
                why = f"not started: waiting at {scheduler.waiting_at[0].describe()}"
        elif c.stage not in run_stages:
            why = f"{why} (stage not run)"
        rows.append(state_row(plan, c, state, why))
    return rows


def finish(cli_ctx, scheduler, rows, allowed_failures, start, stopper) -> list[dict]:
    from azext_aksproxy.adapters.findings_to_az import exit_after_output
    from azext_aksproxy.fleet import states

    code = scheduler.exit_code()
    counted = summary(rows)
    holding = ", ".join(c.label for c in start.carried if c.id.lower() in start.holding)
    way_out = (f" Earlier runs left {holding} failed or unverified: name each accepted one with --accept-failed, "
               "or write failed ones again with --retry-failed." if holding else "")
    if code == states.EXIT_HALTED:
        budget = f"; {scheduler.halt_reason}" if scheduler.halt_reason else ""
        exit_after_output(cli_ctx, f"Rollout halted after {scheduler.failures} failure(s) (allowed "
                                   f"{allowed_failures}{budget}): {counted}.{way_out} Fix the cause, then plan again "
                                   "or apply the same plan to continue.", code)
    elif code == states.EXIT_STOPPED:
        exit_after_output(cli_ctx, f"Rollout stopped ({stopper.reason}): {counted}. Apply the same plan again to "
                                   "resume: written clusters are followed, the others written once.", code)
    elif code == states.EXIT_HELD:
        later = " Later stages wait for the unverified clusters: apply again to read their nodes again." \
            if scheduler.blocked else ""
        exit_after_output(cli_ctx, f"Rollout finished with clusters not done: {counted}.{later}", code)
    else:  # a healthy run's outcome: a plain line, not a warning (adapters/progress.py)
        outcome(cli_ctx, "Rollout", f"done: {counted}.")
    return rows
