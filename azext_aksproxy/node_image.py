"""Node image upgrades that reach every pool and are followed to the end.

`az aks http-proxy upgrade-nodes`, and the pool phase of `az aks update --upgrade-node-image`. Which pools to start,
follow, skip or refuse is decided in node_image_plan (pure); this module talks to ARM and to the user. Every pool
is driven by its own thread (start, wait out 409s, follow the LRO), so N pools take about as long as the slowest.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from knack.log import get_logger

from azext_aksproxy import node_image_plan as plan_mod
from azext_aksproxy._errors import service_error_text
from azext_aksproxy.node_image_plan import PoolResult, PoolStep, format_duration

logger = get_logger(__name__)

# Following a pool that was already upgrading (no LRO of ours to poll) and waiting out a 409: GET/POST again after
# a growing pause. Node image upgrades take minutes per node, so 15 s between checks costs little and keeps the
# request rate of a many-pool cluster low.
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 15.0
BUSY = "busy with another operation; waiting"
# How often the main thread wakes to refresh the progress spinner and check --timeout.
TICK_SECONDS = 0.5


def http_proxy_upgrade_nodes(cmd, client, resource_group_name, name, nodepool_names=None, no_wait=False,
                             yes=False, timeout=None):  # pylint: disable=unused-argument
    return upgrade_node_images(cmd, resource_group_name, name, no_wait=no_wait, assume_yes=yes,
                               nodepool_names=nodepool_names, timeout=timeout, summary_on_stderr=False)


def upgrade_node_images(cmd, resource_group_name, name, no_wait=False, assume_yes=False, nodepool_names=None,
                        timeout=None, summary_on_stderr=True, after_proxy_update=False, proxy_changed=True):
    """Upgrade the node image of the cluster's pools and return the per-pool rows (list of dicts).

    A pool failing does not stop the others; when any pool did not end well the command exits non-zero after
    its output is printed. With ``summary_on_stderr`` (the `az aks update --upgrade-node-image` case, whose
    output stays the cluster as scripts expect) the rows are logged as a table on stderr instead, and a failure
    to even start is reported the same way, since the cluster update itself has already succeeded. With
    ``no_wait`` az discards the output (its convention for every --no-wait), so the rows go to stderr too.

    ``after_proxy_update`` (`az aks update --upgrade-node-image`): carry the proxy change, roll each node at most
    once. Pools whose nodes already run the current proxy config (today's AKS reimaged them as part of the update)
    get no node image upgrade; pools whose nodes do not (the older service) are upgraded; pools it cannot tell are
    left alone and named. ``proxy_changed``: the update changed the proxy config (else nothing was reimaged for it).
    """
    from azure.cli.core.azclierror import AzCLIError, InvalidArgumentValueError
    from azure.core.exceptions import HttpResponseError

    from azext_aksproxy._reporting import exit_after_output

    if timeout is not None and timeout <= 0:
        raise InvalidArgumentValueError(f"--timeout must be a positive number of seconds; got {timeout}.")
    resume = f"az aks http-proxy upgrade-nodes -g {resource_group_name} -n {name}"
    try:
        results = _upgrade(cmd, resource_group_name, name, no_wait, assume_yes, nodepool_names, timeout, resume,
                           after_proxy_update, proxy_changed)
    except (AzCLIError, HttpResponseError) as ex:
        if not summary_on_stderr:
            raise
        exit_after_output(cmd.cli_ctx, f"The cluster update succeeded, but the node image upgrade could not start: "
                                       f"{service_error_text(ex)} Retry it with `{resume} --yes`.")
        return None
    if results is None:
        return None
    rows = [r.to_dict() for r in results]
    if summary_on_stderr or no_wait:  # az prints no output for --no-wait, as for every az command
        logger.warning("%s:\n%s", "Proxy config rollout" if after_proxy_update else "Node image upgrade",
                       _text_table(rows))
    failure = plan_mod.outcome_message(results, no_wait, resume)
    if failure:
        exit_after_output(cmd.cli_ctx, failure)
    return None if summary_on_stderr else rows


def _upgrade(cmd, resource_group_name, name, no_wait, assume_yes, nodepool_names, timeout, resume,
             after_proxy_update=False, proxy_changed=True):
    from azure.cli.command_modules.acs._client_factory import (
        cf_agent_pools,
        cf_managed_clusters,
    )
    from azure.cli.core.azclierror import InvalidArgumentValueError, ValidationError

    from azext_aksproxy.proxy_config.rollout import proxy_config_state
    from azext_aksproxy.rollout_state import node_models

    client = cf_agent_pools(cmd.cli_ctx)
    pools = [p.as_dict() for p in client.list(resource_group_name, name)]
    cluster = cf_managed_clusters(cmd.cli_ctx).get(resource_group_name, name).as_dict()
    models, unreadable = node_models(cmd.cli_ctx, cluster)
    states = {p["name"].lower(): proxy_config_state(p, models, unreadable) for p in pools}
    latest = {} if after_proxy_update else latest_node_images(
        client, resource_group_name, name, [p["name"] for p in pools if plan_mod.needs_latest_image(p)])
    try:
        plan = plan_mod.plan_upgrade(pools, latest, nodepool_names, {k: v[0] for k, v in states.items()},
                                     newer_image_wanted=not after_proxy_update)
    except plan_mod.UnknownPoolsError as ex:
        raise InvalidArgumentValueError(f"--nodepool-names: {ex} Fix: name existing pools.") from ex
    if after_proxy_update:
        plan = _with_latest_for_started(client, resource_group_name, name, plan)
        unknown = [s.pool for s in plan.steps if states[s.pool.lower()][0] == plan_mod.UNKNOWN
                   and s.action == plan_mod.SKIP]
        if unknown:
            logger.warning("Cannot tell whether the nodes of %s run the new proxy config (%s), so they are not "
                           "rolled again. To roll them anyway: %s --nodepool-names %s --yes", ", ".join(unknown),
                           states[unknown[0].lower()][1], resume, " ".join(unknown))
    refusal = plan.refusal()
    if refusal:
        raise ValidationError(refusal)
    to_start = plan.having(plan_mod.START)
    if to_start and not assume_yes and not _confirm(name, to_start):
        logger.warning("Cancelled: no node image upgrade was started.")
        return None
    deadline = None if timeout is None else time.monotonic() + timeout
    runs = {s.pool: _PoolRun(client, resource_group_name, name, s, no_wait)
            for s in plan.steps if s.action in (plan_mod.START, plan_mod.FOLLOW)}
    if runs:
        _wait_all(cmd.cli_ctx, list(runs.values()), deadline, timeout, resume)
    return [runs[s.pool].result if s.pool in runs
            else _not_run(s, states[s.pool.lower()], after_proxy_update, proxy_changed) for s in plan.steps]


def _not_run(step: PoolStep, state: tuple[str, str], after_proxy_update: bool, proxy_changed: bool) -> PoolResult:
    """The row of a pool nothing was started for: after a proxy update, a pool whose nodes run the new config has
    it (carried by AKS's own reimage when the update changed it), so the change reached it."""
    if after_proxy_update and state[0] == plan_mod.YES and step.action == plan_mod.SKIP:
        how = "reimaged by AKS with the update" if proxy_changed else "the update changed no proxy setting"
        return PoolResult(step.pool, step.current_image, step.current_image, plan_mod.SUCCEEDED, None,
                          f"{how}: {state[1]}; no node image upgrade needed")
    return plan_mod.skipped(step)


def _with_latest_for_started(client, resource_group_name: str, name: str, plan):
    """The latest image of the pools that will be upgraded after all (for their rows), read only for those."""
    started = [s for s in plan.steps if s.action == plan_mod.START]
    if not started:
        return plan
    latest = latest_node_images(client, resource_group_name, name, [s.pool for s in started])
    return plan_mod.Plan(tuple(PoolStep(s.pool, s.action, s.current_image, latest.get(s.pool.lower()), s.reason)
                               if s.action == plan_mod.START else s for s in plan.steps))


def latest_node_images(client, resource_group_name: str, cluster: str, pool_names: list[str]) -> dict:
    """Each pool's latestNodeImageVersion from its upgrade profile, read concurrently (one GET per pool)."""
    from concurrent.futures import ThreadPoolExecutor

    def latest(pool: str):
        return client.get_upgrade_profile(resource_group_name, cluster, pool).latest_node_image_version

    if not pool_names:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(pool_names))) as pool_reads:
        return {n.lower(): image for n, image in zip(pool_names, pool_reads.map(latest, pool_names))}


def _confirm(cluster: str, steps: list[PoolStep]) -> bool:
    from azure.cli.core.azclierror import NoTTYError
    from knack.prompting import NoTTYException, prompt_y_n

    names = ", ".join(s.pool for s in steps)
    try:
        return prompt_y_n(f"Start a node image upgrade of pool(s) {names} of cluster {cluster}? Their nodes are "
                          "reimaged a few at a time (per each pool's upgradeSettings).", default="n")
    except NoTTYException:
        raise NoTTYError(f"Cannot ask for confirmation to upgrade the node image of {names}: stdin is not a "
                         "terminal. Pass --yes to start without asking.") from None


# (note on the Succeeded row, how the upgrade we follow came to be running)
_FOLLOWED_EARLIER = ("followed an upgrade started earlier", "already upgrading")
_ANSWER_LOST = ("the answer to the upgrade request was lost; the pool shows the upgrade it started",
                "started, the answer was lost")


class _PoolRun:
    """Drives one pool to a PoolResult in a daemon thread; ``state`` is a one-line description of where it is."""

    def __init__(self, client, resource_group_name: str, cluster: str, step: PoolStep, no_wait: bool):
        self.client, self.rg, self.cluster, self.step, self.no_wait = client, resource_group_name, cluster, step, no_wait
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.changed: Callable[[_PoolRun], None] = lambda run: None
        self.state = "waiting to start"
        self.phase = "waiting"  # waiting | busy | upgrading | following: the spinner counts pools per phase
        self.started_at: float | None = None  # when our upgrade started, or when we began following one
        self.result: PoolResult | None = None
        self.thread = threading.Thread(target=self._run, name=f"node-image-{step.pool}", daemon=True)

    def _set_state(self, text: str, phase: str | None = None) -> None:
        self.state, self.phase = text, phase or self.phase
        self.changed(self)

    def _row(self, status: str, detail: str = "", to_image: str | None = None, timed: bool = True) -> PoolResult:
        duration = None if self.started_at is None or not timed else time.monotonic() - self.started_at
        return PoolResult(self.step.pool, self.step.current_image, to_image or self.step.latest_image, status,
                          duration, detail)

    def _run(self) -> None:
        try:
            result = self._drive()
        except Exception as ex:  # noqa: BLE001  pylint: disable=broad-except
            # One pool's failure (service error, network) is that pool's row; the others go on.
            result = self._row(plan_mod.FAILED, service_error_text(ex))
        if result is not None:
            self.finish(result)

    def finish(self, result: PoolResult, announce: bool = True) -> None:
        """Record the pool's row once: the thread and the --timeout path may both try."""
        with self.lock:
            if self.result is not None:
                return
            self.result = result
        if announce:
            took = f" after {format_duration(result.duration_seconds)}" if result.duration_seconds is not None else ""
            self._set_state(f"{result.status}{took}" + (f": {result.detail}" if result.detail else ""))

    def _drive(self) -> PoolResult | None:
        if self.step.action == plan_mod.FOLLOW:
            return self._follow(*_FOLLOWED_EARLIER)
        poller = self._begin()
        if poller is None or isinstance(poller, PoolResult):  # --timeout, or the pool's row: nothing to poll
            return poller
        if self.no_wait:
            return self._row(plan_mod.IN_PROGRESS, "started (--no-wait)", timed=False)
        poller.result()  # blocks until the LRO ends (azure-core honours Retry-After); raises when it failed
        return self._finished(self._get_pool())

    def _begin(self):
        """POST the upgrade, waiting out 409s (pool busy). Returns the poller; the pool's row when the pool changed
        while we waited or the POST's answer was lost (an upgrade seen running is followed to its end); None when
        --timeout hit."""
        from azure.core.exceptions import (
            HttpResponseError,
            IncompleteReadError,
            ServiceResponseError,
        )

        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                poller = self.client.begin_upgrade_node_image_version(self.rg, self.cluster, self.step.pool,
                                                                      polling=not self.no_wait)
            except (ServiceResponseError, IncompleteReadError) as ex:
                return self._after_lost_answer(ex)
            except HttpResponseError as ex:
                if ex.status_code != 409:
                    raise
                _, now = self._read_step()
                if now.action == plan_mod.FOLLOW:  # someone else started it meanwhile
                    return self._follow(*_FOLLOWED_EARLIER)
                if now.action == plan_mod.SKIP:
                    return plan_mod.skipped(now)
                if self.state != BUSY:
                    self._set_state(BUSY, "busy")
                    logger.info("%s: %s", self.step.pool, service_error_text(ex))
                if self.stop.wait(_retry_after(ex) or pause):
                    return None
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
                continue
            self.started_at = time.monotonic()
            self._set_state(f"upgrading {self.step.current_image} -> {self.step.latest_image or 'latest'}",
                            "upgrading")
            return poller

    def _after_lost_answer(self, ex: Exception):
        """The POST went out but its answer was lost, so the upgrade may have started: look at the pool rather than
        POST again (azure-core does not resend a POST either; a second one would 409 or restart the upgrade)."""
        logger.info("%s: the answer to the upgrade request was lost (%s)", self.step.pool, service_error_text(ex))
        pool, now = self._read_step()
        if now.action == plan_mod.FOLLOW:
            return self._follow(*_ANSWER_LOST)
        if self.step.latest_image and now.current_image == self.step.latest_image:
            return self._finished(pool, _ANSWER_LOST[0])
        raise RuntimeError(f"the answer to the upgrade request was lost ({service_error_text(ex)}) and the pool shows no "
                           "upgrade running") from ex

    def _follow(self, note: str, why: str) -> PoolResult | None:
        """Poll an upgrade already running until it ends; ``note`` goes on a Succeeded row, ``why`` says how the
        upgrade came to be running."""
        if self.no_wait:
            return self._row(plan_mod.IN_PROGRESS, f"{why} (not followed: --no-wait)")
        self.started_at = time.monotonic()
        self._set_state(f"{why}; following it", "following")
        pause = FIRST_PAUSE_SECONDS
        while True:
            pool = self._get_pool()
            if plan_mod.step_for(pool, None).action != plan_mod.FOLLOW:
                return self._finished(pool, note)
            if self.stop.wait(pause):
                return None
            pause = min(pause * 2, MAX_PAUSE_SECONDS)

    def _finished(self, pool: dict, note: str = "") -> PoolResult:
        props = pool.get("properties") or pool
        image = props.get("nodeImageVersion")
        if str(props.get("provisioningState", "")).lower() == "failed":
            return self._row(plan_mod.FAILED, "the pool's provisioningState is Failed after the upgrade", image)
        return self._row(plan_mod.SUCCEEDED, note, image)

    def _get_pool(self) -> dict:
        return self.client.get(self.rg, self.cluster, self.step.pool).as_dict()

    def _read_step(self) -> tuple[dict, PoolStep]:
        """The pool as it is now, and what the plan's rules say about it."""
        pool = self._get_pool()
        return pool, plan_mod.step_for(pool, self.step.latest_image)

    def timed_out(self, timeout: float, resume: str) -> PoolResult:
        """The row for a pool still going when --timeout ran out (the upgrade itself goes on in Azure)."""
        if self.started_at is None:
            return self._row(plan_mod.NOT_STARTED, f"another operation kept the pool busy for the whole --timeout "
                                                   f"of {timeout:g} s; nothing was started")
        return self._row(plan_mod.IN_PROGRESS, f"still upgrading after the --timeout of {timeout:g} s; it goes on "
                                               f"in Azure: follow it with `{resume}`")


def _wait_all(cli_ctx, runs: list[_PoolRun], deadline: float | None, timeout: float | None,
              resume: str) -> None:
    progress = _Progress(cli_ctx, runs)
    for run in runs:
        run.changed = progress.changed
        run.thread.start()
    try:
        while not progress.all_done.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            progress.all_done.wait(TICK_SECONDS if left is None else min(TICK_SECONDS, left))
            progress.tick()
    finally:
        progress.end()
    for run in runs:
        run.stop.set()
        run.finish(run.timed_out(timeout or 0, resume), announce=False)


class _Progress:
    """On a terminal: az's progress spinner, one line summing up every pool. Elsewhere (CI logs): one log line
    per pool state change, so a long upgrade writes a few lines per pool, not one per poll."""

    def __init__(self, cli_ctx, runs: list[_PoolRun]):
        self.runs = runs
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.started = time.monotonic()
        self.ended = False
        self.controller = cli_ctx.get_progress_controller() if sys.stderr.isatty() else None
        if self.controller:
            self.controller.begin(message=self._summary())

    def _summary(self) -> str:
        """One short line (the spinner rewrites it in place, so it must not wrap): counts, not pool names."""
        done = [r.result.status for r in self.runs if r.result is not None]
        failed = done.count(plan_mod.FAILED)
        phases = [r.phase for r in self.runs if r.result is None]
        counts = ", ".join(f"{phases.count(p)} {p}" for p in ("upgrading", "following", "busy", "waiting")
                           if p in phases)
        return (f"Node image upgrade {format_duration(time.monotonic() - self.started)}: {len(done)}/"
                f"{len(self.runs)} pool(s) done" + (f" ({failed} failed)" if failed else "")
                + (f", {counts}" if counts else ""))

    def changed(self, run: _PoolRun) -> None:
        if all(r.result is not None for r in self.runs):
            self.all_done.set()
        with self.lock:
            if self.ended:  # a pool still running past --timeout: its row is already written
                return
            if self.controller is None:
                logger.warning("Node image upgrade: %s %s", run.step.pool, run.state)
            else:
                self.controller.add(message=self._summary())

    def tick(self) -> None:
        if self.controller is not None:
            with self.lock:
                self.controller.add(message=self._summary())

    def end(self) -> None:
        with self.lock:
            self.ended = True
            if self.controller is not None:
                self.controller.end()


def _retry_after(ex) -> float | None:
    try:
        return float(ex.response.headers.get("Retry-After")) or None
    except (AttributeError, TypeError, ValueError):
        return None


def _text_table(rows: list[dict]) -> str:
    from tabulate import tabulate

    from azext_aksproxy._format import node_image_table_format

    return tabulate(node_image_table_format(rows), headers="keys", tablefmt="simple", disable_numparse=True)
