"""Progress of a node image upgrade across pools, through the one progress reporter (adapters/progress.py): on a
terminal one live summary line, in CI logs one plain line per pool state change."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from azext_aksproxy.adapters.progress import ProgressReporter
from azext_aksproxy.nodes import plan as plan_mod
from azext_aksproxy.nodes.plan import format_duration

if TYPE_CHECKING:
    from azext_aksproxy.adapters.nodes_pool_runs import PoolRun


class PoolProgress:
    """On a terminal: one live line summing up every pool. Elsewhere (CI logs): one plain line per pool state
    change, so a long upgrade writes a few lines per pool, not one per poll."""

    def __init__(self, cli_ctx, runs: list[PoolRun]):
        self.runs = runs
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.started = time.monotonic()
        self.ended = False
        self.reporter = ProgressReporter(cli_ctx, "Node image upgrade").__enter__()
        if self.reporter.live:
            self.reporter.note(self._summary())

    def _summary(self) -> str:
        """One short line (the live line is rewritten in place, so it must not wrap): counts, not pool names."""
        done = [r.result.status for r in self.runs if r.result is not None]
        failed = done.count(plan_mod.FAILED)
        phases = [r.phase for r in self.runs if r.result is None]
        counts = ", ".join(f"{phases.count(p)} {p}" for p in ("upgrading", "following", "busy", "waiting")
                           if p in phases)
        return (f"{format_duration(time.monotonic() - self.started)}: {len(done)}/{len(self.runs)} pool(s) done"
                + (f" ({failed} failed)" if failed else "") + (f", {counts}" if counts else ""))

    def changed(self, run: PoolRun) -> None:
        with self.lock:
            # ended: a pool still running past --timeout, whose row is already written
            if not self.ended and not self.reporter.live:
                self.reporter.line(f"{run.step.pool} {run.state}")
            elif not self.ended:
                self.reporter.note(self._summary())
        # Only after the line is out: the command ends (and ends the progress) as soon as every pool is done.
        if all(r.result is not None for r in self.runs):
            self.all_done.set()

    def tick(self) -> None:
        if self.reporter.live:
            with self.lock:
                self.reporter.note(self._summary())

    def end(self) -> None:
        with self.lock:
            self.ended = True
            self.reporter.end()
