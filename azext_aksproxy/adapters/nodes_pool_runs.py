"""One node pool's node image upgrade, driven to its result row in a thread of its own, and all of them together.

The pool phase of `az aks http-proxy upgrade-nodes` and `az aks update --upgrade-node-image` (nodes_upgrade.py decides
which pools run; nodes.plan's rules say what a pool's state means). A pool failing is that pool's row; the others
go on.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import threading
import time
from collections.abc import Callable

from knack.log import get_logger

from azext_aksproxy.adapters.azure_reads import error_text
from azext_aksproxy.adapters.nodes_pool_progress import PoolProgress
from azext_aksproxy.nodes import plan as plan_mod
from azext_aksproxy.nodes.plan import PoolResult, PoolStep, format_duration

logger = get_logger(__name__)

# Following a pool that was already upgrading (no LRO of ours to poll) and waiting out a 409: GET/POST again after
# a growing pause. Node image upgrades take minutes per node, so 15 s between checks costs little and keeps the
# request rate of a many-pool cluster low.
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 15.0
BUSY = "busy with another operation; waiting"
# How often the main thread wakes to refresh the progress spinner and check --timeout.
TICK_SECONDS = 0.5

# (note on the Succeeded row, how the upgrade we follow came to be running)
_FOLLOWED_EARLIER = ("followed an upgrade started earlier", "already upgrading")
_ANSWER_LOST = ("the answer to the upgrade request was lost; the pool shows the upgrade it started",
                "started, the answer was lost")


class PoolRun:
    """Drives one pool to a PoolResult in a daemon thread; ``state`` is a one-line description of where it is."""

    def __init__(self, client, resource_group_name: str, cluster: str, step: PoolStep, no_wait: bool):
        self.client, self.rg, self.cluster, self.step, self.no_wait = client, resource_group_name, cluster, step, no_wait
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.changed: Callable[[PoolRun], None] = lambda run: None
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
            result = self._row(plan_mod.FAILED, error_text(ex))
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
                    logger.info("%s: %s", self.step.pool, error_text(ex))
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
        logger.info("%s: the answer to the upgrade request was lost (%s)", self.step.pool, error_text(ex))
        pool, now = self._read_step()
        if now.action == plan_mod.FOLLOW:
            return self._follow(*_ANSWER_LOST)
        if self.step.latest_image and now.current_image == self.step.latest_image:
            return self._finished(pool, _ANSWER_LOST[0])
        raise RuntimeError(f"the answer to the upgrade request was lost ({error_text(ex)}) and the pool shows no "
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
        from azext_aksproxy.config.arm import properties

        props = properties(pool)
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


def run_all(cli_ctx, runs: list[PoolRun], deadline: float | None, timeout: float | None,
              resume: str) -> None:
    progress = PoolProgress(cli_ctx, runs)
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


def _retry_after(ex) -> float | None:
    try:
        return float(ex.response.headers.get("Retry-After")) or None
    except (AttributeError, TypeError, ValueError):
        return None
