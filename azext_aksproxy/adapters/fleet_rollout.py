"""What `rollout plan`, `apply` and `status` share: the plan file read back, every planned cluster's state read
now (in its own subscription, its nodes too), the rows, and the rollout's progress reporter.

Reads go through az's ARM pipeline (adapters/azure_reads.py); the states are the pure core's (fleet/states.py,
fleet/resume.py). Each command's handler lives in the module named after it: fleet_rollout_plan.py,
fleet_rollout_apply.py (its run: fleet_rollout_run.py, one cluster: fleet_rollout_cluster.py) and
fleet_rollout_status.py.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from concurrent.futures import ThreadPoolExecutor

from azext_aksproxy.adapters.azure_reads import ArmReader, ReadError, VnetCache
from azext_aksproxy.adapters.progress import ProgressReporter

PARALLEL_READS = 8  # cluster GETs at once when reading a plan's clusters back (apply, status)
READ_CHUNK = 64  # clusters whose JSON is held at once while their states are worked out
# The node check's loggers: inside a rollout their warnings are the check's progress (adapters/progress.py).
NODE_CHECK_LOGGERS = ("cli.azext_aksproxy.adapters.check",)


def load_plan(plan_file):
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    from azext_aksproxy.fleet.plan_file import PlanError, parse_plan

    try:
        with open(plan_file, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileOperationError(f"--plan-file {plan_file}: {exc}") from None
    try:
        plan = parse_plan(text, plan_file)
    except PlanError as exc:
        raise InvalidArgumentValueError(f"{exc} Nothing was written.") from None
    return plan


def read_states(arm: ArmReader, vnets: VnetCache, plan):
    """{cluster id lower: (state, why, its eTag now or "")}, every planned cluster read now, READ_CHUNK at a
    time (PARALLEL_READS GETs at once), each distinct VNet once; a cluster's JSON is dropped once its state is
    known, so the memory of a read stays flat in the number of clusters."""
    from azure.cli.core.azclierror import AzureResponseError

    from azext_aksproxy.adapters.fleet_rollout_resume import verify_done
    from azext_aksproxy.fleet.states import etag_text, observed_state

    def one(entry):
        try:
            return entry, arm.get(entry.id, arm.clusters_api_version, missing_ok=True), ""
        except ReadError as exc:
            return entry, None, str(exc)

    states, broken = {}, []
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        for first in range(0, len(plan.clusters), READ_CHUNK):
            results = list(pool.map(one, plan.clusters[first:first + READ_CHUNK]))
            broken += [f"{e.label}: {err}" for e, _, err in results if err]
            if broken:
                continue  # the rest is read only to name every cluster that cannot be
            vnets.read([c for _, c, _ in results if c])
            chunk = {}
            for entry, cluster, _ in results:
                left = vnets.model(cluster).changed_fields(dict(entry.after)) if cluster else []
                chunk[entry.id.lower()] = (*observed_state(entry, cluster, left), cluster)
            verify_done(arm.cli_ctx, chunk)  # done means the nodes run it: read in the cluster's own subscription
            states.update({key: (state, why, etag_text(cluster.get("eTag")) if cluster else "")
                           for key, (state, why, cluster) in chunk.items()})
    if broken:
        raise AzureResponseError("Could not read every planned cluster; nothing was written:\n  " + "\n  ".join(broken))
    return states


def state_row(plan, entry, state, detail, seconds=None) -> dict:
    row = {"stage": plan.stages[entry.stage].name, "group": entry.group, "subscription": entry.subscription_name,
           "subscriptionId": entry.subscription, "resourceGroup": entry.resource_group, "name": entry.name,
           "state": state, "detail": detail}
    if seconds is not None:
        row["seconds"] = round(seconds, 1)
    return row


def summary(rows) -> str:
    """``2 done, 1 failed``: the rows counted by state."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


class RolloutProgress(ProgressReporter):
    """The rollout's progress (adapters/progress.py): a plain stderr line per event, a live line on a terminal
    naming each running cluster; the node check run inside draws on it, not over it."""

    def __init__(self, cli_ctx) -> None:
        super().__init__(cli_ctx, "Rollout", adopt=NODE_CHECK_LOGGERS)
        self.__enter__()
