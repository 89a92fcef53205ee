"""`az aks http-proxy rollout apply`: the plan file checked, every planned cluster's state read, the run's start
decided (fleet/resume.py), the confirmation, then the run (adapters/fleet_rollout_run.py) and its outcome."""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from datetime import datetime

from azext_aksproxy.adapters.azure_reads import ArmReader, VnetCache
from azext_aksproxy.adapters.fleet_rollout import (
    RolloutProgress,
    load_plan,
    read_states,
    summary,
)
from azext_aksproxy.adapters.fleet_rollout_cluster import ClusterRun

DEFAULT_TIMEOUT_SECONDS = 3 * 3600  # per cluster: check, write, reimage


def _approvals(plan, approve):
    """--approve values as the plan's gate points; an unknown one is refused before anything is read."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.fleet.gates import GateError, approvals

    try:
        return approvals(plan, approve or [])
    except GateError as exc:
        raise InvalidArgumentValueError(f"{exc} Nothing was written.") from None


def _gate_message(holds, summary: str) -> str:
    """What the run stopped at, and how each gate is passed."""
    from azext_aksproxy.config.x509ext import UTC

    lines = [f"Rollout waiting at {len(holds)} gate(s), nothing behind them started: {summary}."]
    for hold in holds:
        if hold.until is None:
            lines.append(f"  {hold.describe()}: approve it by applying again with --approve {hold.point.address}")
        else:
            due = datetime.fromtimestamp(hold.until, UTC).isoformat()
            lines.append(f"  {hold.describe()}: not before {due}; apply again then")
    return "\n".join(lines)


def http_proxy_rollout_apply(cmd, plan_file, stage=None, yes=False, skip_check=False, allowed_failures=0,
                             timeout=DEFAULT_TIMEOUT_SECONDS, approve=None, accept_failed=None, retry_failed=False,
                             stop_after=None):
    """The arguments are checked before this runs (_validators.py: validate_rollout_apply)."""
    from azext_aksproxy.adapters.fleet_rollout_resume import Stopper
    from azext_aksproxy.adapters.fleet_rollout_run import finish, result_rows, run_start
    from azext_aksproxy.fleet import states
    from azext_aksproxy.fleet.gates import EXIT_GATE
    from azext_aksproxy.fleet.resume import parse_duration

    stopper = Stopper(parse_duration(stop_after) if stop_after is not None else None,
                      str(stop_after or ""))  # the time counts from the command's start
    plan = load_plan(plan_file)
    _refuse_invalid_configs(plan)
    approved = _approvals(plan, approve)
    run_stages = _run_stages(plan, stage)
    arm = ArmReader(cmd.cli_ctx)
    vnets = VnetCache(cmd.cli_ctx, arm)
    read = read_states(arm, vnets, plan)
    start = run_start(plan, read, run_stages, stage, accept_failed, retry_failed)
    if not yes and not _confirmed(plan, start, run_stages):
        return []
    scheduler = states.Scheduler(plan, dict(start.states), run_stages, allowed_failures, approved=approved,
                                 failures=start.failures, holding=dict(start.holding), accepted=start.accepted)
    etags = {key: got[2] for key, got in read.items() if key in start.retry}

    def make_run(entry, progress):
        return ClusterRun(cmd, arm, vnets, entry, skip_check, float(timeout), progress, stopper.event,
                          etags.get(entry.id.lower()))

    results, unfinished = _run(cmd, plan, scheduler, make_run, stopper)
    rows = result_rows(plan, read, results, unfinished, run_stages, scheduler)
    if scheduler.exit_code() == EXIT_GATE:
        from azext_aksproxy.adapters.findings_to_az import exit_after_output

        exit_after_output(cmd.cli_ctx, _gate_message(scheduler.waiting_at, summary(rows)), EXIT_GATE)
        return rows
    return finish(cmd.cli_ctx, scheduler, rows, allowed_failures, start, stopper)


def _refuse_invalid_configs(plan) -> None:
    """A hand edit of the plan file must not smuggle in what the plan's validation refused."""
    from azure.cli.core.azclierror import ValidationError

    from azext_aksproxy.adapters.findings_to_az import format_findings
    from azext_aksproxy.config import check_document

    problems = []
    for c in plan.clusters:
        errors = [f for f in check_document(dict(c.after), source=c.id).findings if f.is_error]
        if errors:
            problems.append(format_findings(errors, f"{c.label}: the plan's after-config is invalid"))
    if problems:
        raise ValidationError("The plan file holds invalid configs; nothing was written.\n" + "\n".join(problems))


def _run_stages(plan, stage) -> tuple[int, ...]:
    """--stage: that stage only; else every stage, in order."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.fleet.plan_file import PlanError

    if not stage:
        return tuple(range(len(plan.stages)))
    try:
        return (plan.stage_index(stage),)
    except PlanError as exc:
        raise InvalidArgumentValueError(str(exc)) from None


def _confirmed(plan, start, run_stages) -> bool:
    """The user is told what will be disrupted before any write, and asked (--yes answers in a pipeline)."""
    from azure.cli.core.azclierror import ValidationError
    from knack.prompting import NoTTYException, prompt_y_n

    from azext_aksproxy.fleet import states
    from azext_aksproxy.fleet.plan_file import CHANGE

    to_write = [c for c in plan.clusters if c.stage in run_stages and c.action == CHANGE
                and start.states[c.id.lower()] in (states.PENDING, states.RUNNING)]
    if not to_write:
        return True
    message = (f"Write the proxy config of {len(to_write)} cluster(s) ({sum(c.nodes for c in to_write)} node(s) "
               "reimaged, each cordoned, drained and recreated)?")
    try:
        return prompt_y_n(message, default="n")
    except NoTTYException:
        raise ValidationError(f"{message} Add --yes to confirm when not run from a terminal.") from None


def _run(cmd, plan, scheduler, make_run, stopper):
    """The run (adapters/fleet_rollout_run.py) under the rollout's progress and the stop on SIGTERM."""
    from azext_aksproxy.adapters.fleet_rollout_run import run_steps

    progress = RolloutProgress(cmd.cli_ctx)
    try:
        with stopper:
            return run_steps(plan, scheduler, make_run, stopper, progress)
    finally:
        progress.end()
