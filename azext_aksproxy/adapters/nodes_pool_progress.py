"""Progress of a node image upgrade across pools: on a terminal az's spinner with one summary line, in CI logs one
line per pool state change."""
from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING

from knack.log import get_logger

from azext_aksproxy.nodes import plan as plan_mod
from azext_aksproxy.nodes.plan import format_duration

if TYPE_CHECKING:
    from azext_aksproxy.adapters.nodes_pool_runs import PoolRun

logger = get_logger(__name__)


class PoolProgress:
    """On a terminal: az's progress spinner, one line summing up every pool. Elsewhere (CI logs): one log line
    per pool state change, so a long upgrade writes a few lines per pool, not one per poll."""

    def __init__(self, cli_ctx, runs: list[PoolRun]):
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

    def changed(self, run: PoolRun) -> None:
        with self.lock:
            # ended: a pool still running past --timeout, whose row is already written
            if not self.ended and self.controller is None:
                logger.warning("Node image upgrade: %s %s", run.step.pool, run.state)
            elif not self.ended:
                self.controller.add(message=self._summary())
        # Only after the line is out: the command ends (and ends the progress) as soon as every pool is done.
        if all(r.result is not None for r in self.runs):
            self.all_done.set()

    def tick(self) -> None:
        if self.controller is not None:
            with self.lock:
                self.controller.add(message=self._summary())

    def end(self) -> None:
        with self.lock:
            self.ended = True
            if self.controller is not None:
                self.controller.end()
