"""What makes `rollout apply` safe to stop and run again: the nodes read to tell done from failed (in each
cluster's own subscription), and the stop on SIGTERM or at --stop-after. The decisions are the pure core's
(fleet/resume.py, fleet/states.py); this module reads and listens.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

PARALLEL_NODE_READS = 8  # clusters whose scale sets are read at once (status, the start of apply)
# After SIGTERM or --stop-after: how long the clusters being written get to have their write answered and
# recorded. CI engines kill a job a few seconds after SIGTERM (GitHub Actions: 2.5 s after it, following SIGINT).
STOP_GRACE_SECONDS = 5.0


def node_verdict(cli_ctx, cluster: dict) -> tuple[str, str]:
    """(done | failed | unverified, why) of a cluster whose new config AKS reports rolled out, from its scale
    sets' latestModelApplied, read in the cluster's own subscription."""
    from azext_aksproxy.adapters.azure_reads import node_models
    from azext_aksproxy.cluster.pools import reimaged_pools
    from azext_aksproxy.fleet.resume import verified_state

    models, unreadable = node_models(cli_ctx, cluster)
    pools = [(str(p["name"]).lower(), int(p["nodes"] or 0)) for p in reimaged_pools(cluster)]
    return verified_state(pools, models, unreadable)


def verify_done(cli_ctx, states: dict) -> None:
    """``states``: cluster id lower -> (state, why, cluster JSON). Each cluster read as done gets its nodes read
    (a few at a time) and its state replaced by the verdict: done only when the nodes run the new config."""
    from azext_aksproxy.fleet.states import DONE

    todo = [key for key, (state, _, cluster) in states.items() if state == DONE and cluster]
    if not todo:
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL_NODE_READS, len(todo))) as pool:
        verdicts = list(pool.map(lambda key: node_verdict(cli_ctx, states[key][2]), todo))
    for key, (state, why) in zip(todo, verdicts):
        states[key] = (state, why, states[key][2])


class Stopper:
    """Trips on SIGTERM (while in its ``with`` block, on the main thread) or once ``stop_after`` seconds have
    passed since it was made; ``event`` tells the running clusters not to start a write."""

    def __init__(self, stop_after: float | None, stop_after_text: str = "") -> None:
        self.event = threading.Event()
        self.reason = ""
        self.deadline = time.monotonic() + stop_after if stop_after else None
        self.deadline_text = stop_after_text
        self._previous = None
        self._installed = False

    def __enter__(self) -> None:
        try:
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
            self._installed = True
        except ValueError:  # not the main thread: the process keeps its own handling
            self._installed = False

    def __exit__(self, *_exc) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous if self._previous is not None else signal.SIG_DFL)

    def _on_sigterm(self, _signum, _frame) -> None:
        self.trip("SIGTERM")

    def trip(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def tripped(self, now: float) -> bool:
        if self.deadline is not None and now >= self.deadline:
            self.trip(f"--stop-after {self.deadline_text}")
        return self.event.is_set()
