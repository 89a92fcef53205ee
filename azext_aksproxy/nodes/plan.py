"""Node image upgrade planning: which pools to start, follow, skip or refuse, and the per-pool result rows.

Pure: works on ARM REST JSON of agent pools (``AgentPool.as_dict()``, or a cluster's ``agentPoolProfiles``
entries) and never imports azure-cli, so every rule is unit-tested without a cluster.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Lazy imports: what to do with a pool, and whether its nodes run the current proxy config, is the one rule of
# cluster.pools (shared with `show` and `diff`); its names are read from there on first use (PEP 562), so that
# loading the upgrade-nodes command's arguments (for its --help, say) does not import the cluster package.
_RULE_NAMES = frozenset({"START", "FOLLOW", "SKIP", "REFUSE", "YES", "NO", "UNKNOWN", "pool_need"})


def __getattr__(name: str) -> Any:
    if name in _RULE_NAMES:
        from ..cluster import pools

        return getattr(pools, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Per-pool result status: ARM's operation words, plus Skipped and NotStarted.
SUCCEEDED = "Succeeded"
FAILED = "Failed"
SKIPPED = "Skipped"
IN_PROGRESS = "InProgress"  # started with --no-wait, or still running when --timeout ran out
NOT_STARTED = "NotStarted"  # kept busy by another operation (409) until --timeout ran out


def _lower(value: Any) -> str:
    return str(value or "").lower()


# What a node image phase is for.
UPGRADE_NODES = "upgrade-nodes"  # `az aks http-proxy upgrade-nodes`: an explicit ask, newer images included
CARRY_PROXY_CHANGE = "carry-proxy-change"  # `aks update --upgrade-node-image`: each node rolled at most once
LATEST_AFTER_UPDATE = "latest-after-update"  # `aks update --latest-node-image`: newer images as well, asked for


@dataclass(frozen=True)
class NodeRollout:
    """One node image phase: what it is for, and how the command that runs it reports and waits."""

    purpose: str  # UPGRADE_NODES | CARRY_PROXY_CHANGE | LATEST_AFTER_UPDATE
    proxy_changed: bool = False  # the update before it changed the proxy config (AKS reimaged every pool for it)
    no_wait: bool = False
    assume_yes: bool = False

    @classmethod
    def after_update(cls, *, latest_node_image: bool, proxy_changed: bool, no_wait: bool) -> NodeRollout:
        """The phase `aks update --upgrade-node-image` / `--latest-node-image` runs once the cluster PUT is done."""
        return cls(LATEST_AFTER_UPDATE if latest_node_image else CARRY_PROXY_CHANGE, proxy_changed, no_wait, True)

    @property
    def newer_image_wanted(self) -> bool:
        """Start pools with a newer node image too, not only those whose nodes do not run the proxy config."""
        return self.purpose != CARRY_PROXY_CHANGE

    @property
    def follows_update(self) -> bool:
        """Part of `aks update`: its output stays the cluster (scripts read it), the per-pool rows go to stderr."""
        return self.purpose != UPGRADE_NODES


@dataclass(frozen=True)
class PoolStep:
    """One pool's part in the plan."""

    pool: str
    action: str
    current_image: str | None
    latest_image: str | None  # None when the upgrade profile did not say
    reason: str = ""


class UnknownPoolsError(ValueError):
    def __init__(self, unknown: Sequence[str], available: Sequence[str]):
        self.unknown = list(unknown)
        super().__init__(f"No node pool named {', '.join(unknown)} in this cluster; its pools are: "
                         f"{', '.join(available) or '(none)'}.")


@dataclass(frozen=True)
class Plan:
    steps: tuple[PoolStep, ...]

    def having(self, action: str) -> list[PoolStep]:
        return [s for s in self.steps if s.action == action]

    def refusal(self) -> str | None:
        """Why the command must stop before starting anything, with the fix; None when it may go on."""
        from ..cluster.pools import REFUSE

        refused = self.having(REFUSE)
        if not refused:
            return None
        listed = "; ".join(f"{s.pool} ({s.reason})" for s in refused)
        rest = [s.pool for s in self.steps if s.action != REFUSE]
        fix = (f"Upgrade the other pools with --nodepool-names {' '.join(rest)}." if rest
               else "Nothing else to upgrade in this selection.")
        return f"Node image upgrade refused for {listed}; nothing was started. {fix}"


def step_for(pool: Mapping[str, Any], latest_image: str | None, proxy_state: str = "unknown",
             newer_image_wanted: bool = True) -> PoolStep:
    """The pool's step under the one rule (cluster.pools.pool_need); ``proxy_state`` is one of its
    YES / NO / UNKNOWN."""
    from ..cluster.pools import pool_need
    from ..config.arm import properties

    props = properties(pool)
    name = str(pool.get("name") or props.get("name") or "")
    need = pool_need(pool, latest_image, proxy_state, newer_image_wanted)
    return PoolStep(name, need.action, props.get("nodeImageVersion"), latest_image, need.reason)


def plan_upgrade(pools: Iterable[Mapping[str, Any]], latest_images: Mapping[str, str | None],
                 only: Sequence[str] | None = None, proxy_states: Mapping[str, str] | None = None,
                 newer_image_wanted: bool = True) -> Plan:
    """What `upgrade-nodes` (or `aks update --upgrade-node-image`) does with each pool.

    Args:
      pools: the cluster's agent pools (ARM JSON). latest_images: lower-case pool name -> latestNodeImageVersion
      (None: unknown). only: ``--nodepool-names`` (None: every pool). proxy_states: lower-case pool name ->
      cluster.pools.proxy_config_state's answer. newer_image_wanted: start pools with a newer image too (False after
      a proxy update, where only nodes behind the config roll).

    Returns:
      Plan: one PoolStep per selected pool (start, follow, skip or refuse, with the reason).

    Raises:
      UnknownPoolsError: ``only`` names a pool the cluster does not have: a typo must not turn into "nothing to do".
    """
    from ..config.arm import properties

    pools = list(pools)
    by_name = {_lower(p.get("name") or properties(p).get("name")): p for p in pools}
    if only:
        wanted = list(dict.fromkeys(_lower(n) for n in only))
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise UnknownPoolsError(unknown, [str(p.get("name")) for p in pools])
        pools = [by_name[n] for n in wanted]
    states = proxy_states or {}

    def key(pool: Mapping[str, Any]) -> str:
        return _lower(pool.get("name") or properties(pool).get("name"))

    return Plan(tuple(step_for(p, latest_images.get(key(p)), states.get(key(p), "unknown"), newer_image_wanted)
                      for p in pools))


def needs_latest_image(pool: Mapping[str, Any]) -> bool:
    """Whether the plan depends on the pool's upgrade profile (saves a GET for pools that are skipped anyway)."""
    from ..cluster.pools import START

    return step_for(pool, None).action == START


@dataclass
class PoolResult:
    """One row of the command's output."""

    pool: str
    from_image: str | None
    to_image: str | None
    status: str
    duration_seconds: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"pool": self.pool, "fromImage": self.from_image, "toImage": self.to_image, "status": self.status,
                "durationSeconds": None if self.duration_seconds is None else round(self.duration_seconds, 1),
                "detail": self.detail}


def skipped(step: PoolStep) -> PoolResult:
    to_image = step.latest_image if step.current_image == step.latest_image else None
    return PoolResult(step.pool, step.current_image, to_image, SKIPPED, None, step.reason)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def outcome_message(results: Sequence[PoolResult], no_wait: bool, resume_command: str) -> str | None:
    """The error for the exit code, or None when every pool ended well.

    Succeeded and Skipped are fine; InProgress is fine only with --no-wait (the caller asked not to wait).
    """
    good = {SUCCEEDED, SKIPPED} | ({IN_PROGRESS} if no_wait else set())
    bad = [r for r in results if r.status not in good]
    if not bad:
        return None
    listed = ", ".join(f"{r.pool} {r.status}" for r in bad)
    return (f"{len(bad)} of {len(results)} node pool(s) did not finish their node image upgrade: {listed}. "
            f"Re-run `{resume_command}` to resume: pools already on the latest image are skipped and running "
            "upgrades are followed, so only what is left is started.")
