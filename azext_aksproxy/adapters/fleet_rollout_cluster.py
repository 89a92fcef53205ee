"""One cluster of `rollout apply`, read and written: the GET, the disruption gate, the proxy check from one of its
nodes, the PUT with If-Match (AKS answers 412 when the cluster changed since: a concurrent writer is never
overwritten), AKS's operation and the nodes' latestModelApplied. What happens next after each of them is the pure
core's decision (fleet/cluster_step.py); this module does the step and records what it saw.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import threading
import time
from dataclasses import replace

from azext_aksproxy.adapters.azure_reads import (
    ArmReader,
    ReadError,
    VnetCache,
    disruption_gate,
)
from azext_aksproxy.adapters.fleet_rollout import RolloutProgress


class ClusterRun:
    """One cluster of the plan, from its first read to its state for this run."""

    def __init__(self, cmd, arm: ArmReader, vnets: VnetCache, entry, skip_check: bool, timeout: float,
                 progress: RolloutProgress, stop: threading.Event | None = None,
                 retry_etag: str | None = None) -> None:
        self.cmd, self.arm, self.vnets, self.entry = cmd, arm, vnets, entry
        self.skip_check, self.timeout, self.progress = skip_check, timeout, progress
        self.label = entry.label
        self.cluster: dict | None = None  # its latest ARM JSON: the node resource group for the nodes' read
        self.stop = stop or threading.Event()
        self.retry_etag = retry_etag  # --retry-failed: the eTag this run read, the only one it writes over
        self.phase = "reading"  # then "writing" once its PUT is being sent, "written" once AKS accepted it
        self._sdk = None  # the SDK client in the cluster's subscription, made by PREPARE, used by WRITE
        self._model = None  # the SDK model read just before the write (PREPARE), written by WRITE
        self._poller = None

    def run(self) -> tuple[str, str]:
        from azext_aksproxy.fleet import cluster_step as steps

        deadline = time.monotonic() + self.timeout
        facts = steps.Facts(plan_etag=self.entry.etag, timeout=self.timeout, retry_etag=self.retry_etag,
                            skip_check=self.skip_check)
        actions = {steps.READ: self._read, steps.GATE: self._gate, steps.CHECK: self._check,
                   steps.PREPARE: self._prepare, steps.WRITE: self._write, steps.AWAIT: self._await,
                   steps.VERIFY: self._verify, steps.WAIT: self._wait}
        while True:
            facts = replace(facts, stopping=self.stop.is_set(), out_of_time=time.monotonic() >= deadline)
            step = steps.decide(facts)
            if step.kind == steps.END:
                return step.state, step.why
            if step.note:
                self.progress.say(self.label, step.note, step.phase)
            facts = actions[step.kind](facts, step, deadline)

    def _read(self, facts, step, _deadline):
        from azext_aksproxy.fleet.states import etag_text, observed_state

        if step.seconds:
            self.stop.wait(step.seconds)
        try:
            cluster = self.arm.get(self.entry.id, self.arm.clusters_api_version, missing_ok=True)
        except ReadError as exc:
            return replace(facts, read_error=str(exc))
        model = self.vnets.model(cluster) if cluster else None
        state = observed_state(self.entry, cluster, model.changed_fields(dict(self.entry.after)) if model else [])
        self.cluster = cluster or self.cluster
        return replace(facts, reads=facts.reads + 1, start=facts.start or state[0], read=state,
                       etag=etag_text(cluster.get("eTag")) if cluster else "")

    def _gate(self, facts, _step, _deadline):
        """The one disruption rule (cluster/pools.py), as `aks update` and `rollout plan` ask it."""
        from azext_aksproxy.cluster.pools import REFUSED, reimage_decision

        cluster = self.cluster or {}
        decision = reimage_decision(self.vnets.model(cluster), dict(self.entry.after),
                                    lambda: disruption_gate(self.arm.cli_ctx, cluster, self.arm))
        refused = decision.verdict == REFUSED
        return replace(facts, gate=(refused, decision.gate.reason if refused else ""))

    def _check(self, facts, _step, _deadline):
        """The proxy check from one of the cluster's nodes, in its own subscription, through the new config."""
        from azure.cli.core.azclierror import AzCLIError

        from azext_aksproxy.adapters.check import run_proxy_check
        from azext_aksproxy.config.findings import mask_secrets

        self.progress.say(self.label, "checking the new config from one of its nodes", "checking")
        try:
            run_proxy_check(self._check_config(), self.cmd.cli_ctx, cmd=self.cmd,
                            cluster=(self.entry.resource_group, self.entry.name),
                            subscription_id=self.entry.subscription)
        except AzCLIError as exc:
            return replace(facts, check=mask_secrets(str(exc)))
        return replace(facts, check="")

    def _check_config(self) -> dict:
        """The after-config the node check probes through: noProxy as the user set it, the entries AKS adds itself
        (loopback, the API server, the cluster's CIDRs) aside, as every check of a config file sees it."""
        config = dict(self.entry.after)
        model = self.vnets.model(self.cluster) if self.cluster else None
        entries = [e for e in config.get("noProxy") or [] if not (model and model.aks_adds(e))]
        if entries:
            config["noProxy"] = entries
        else:
            config.pop("noProxy", None)
        return config

    def _client(self):
        from azext_aksproxy._client_factory import cf_managed_clusters_in

        return cf_managed_clusters_in(self.cmd.cli_ctx, self.entry.subscription)

    def _prepare(self, facts, _step, _deadline):
        """The SDK model to write, read now: its eTag tells whether the cluster moved since it was planned."""
        from azure.core.exceptions import AzureError

        from azext_aksproxy.adapters.azure_reads import error_text
        from azext_aksproxy.fleet.cluster_step import Refusal
        from azext_aksproxy.fleet.states import etag_text

        try:
            self._sdk = self._client()
            self._model = self._sdk.get(self.entry.resource_group, self.entry.name)
        except AzureError as exc:
            return replace(facts, refused=Refusal(getattr(exc, "status_code", None), error_text(exc)))
        return replace(facts, etag_at_write=etag_text(self._model.e_tag))

    def _write(self, facts, step, _deadline):
        """The PUT: the stored config plus the edit (ClusterModel.config_to_send), If-Match the eTag decided."""
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.mgmt.containerservice.models import ManagedClusterHTTPProxyConfig

        from azext_aksproxy.adapters.azure_reads import error_text
        from azext_aksproxy.fleet.cluster_step import Refusal

        model = self.vnets.model(self.cluster or {})
        self._model.http_proxy_config = ManagedClusterHTTPProxyConfig(model.config_to_send(dict(self.entry.after)))
        self.progress.say(self.label, f"writing {', '.join(self.entry.changed_fields)} (If-Match {step.etag})",
                          "writing")
        self.phase = "writing"
        try:
            self._poller = self._sdk.begin_create_or_update(
                self.entry.resource_group, self.entry.name, self._model, etag=step.etag,
                match_condition=MatchConditions.IfNotModified)
        except HttpResponseError as exc:
            self.phase = "reading"  # refused: nothing was written
            return replace(facts, refused=Refusal(exc.status_code, error_text(exc), _retry_after(exc)))
        except AzureError as exc:
            self.phase = "reading"
            return replace(facts, refused=Refusal(None, error_text(exc)))
        self.phase = "written"
        self.progress.say(self.label, "written; AKS reimages every pool now", "reimaging")
        return replace(facts, sent=True)

    def _wait(self, facts, step, _deadline):
        """A 409 waited out (the run's stop ends the wait), then the write is prepared again."""
        self.stop.wait(step.seconds)
        return replace(facts, refused=None, etag_at_write=None, waits=facts.waits + 1)

    def _await(self, facts, _step, deadline):
        """AKS's operation, for up to a poll."""
        from azure.core.exceptions import AzureError

        from azext_aksproxy.adapters.azure_reads import error_text
        from azext_aksproxy.fleet.cluster_step import POLL_SECONDS

        try:
            if not self._poller.done():
                self._poller.wait(timeout=min(POLL_SECONDS, max(0.1, deadline - time.monotonic())))
            if not self._poller.done():
                return facts
            self._poller.result()
        except AzureError as exc:
            return replace(facts, rolled=error_text(exc) or type(exc).__name__)
        return replace(facts, rolled="")

    def _verify(self, facts, _step, _deadline):
        """done | failed | unverified from the scale sets' latestModelApplied, in the cluster's own subscription."""
        from azext_aksproxy.adapters.fleet_rollout_resume import node_verdict

        return replace(facts, nodes=node_verdict(self.cmd.cli_ctx, self.cluster or {}))


def _retry_after(exc) -> float | None:
    try:
        return float(exc.response.headers.get("Retry-After"))
    except (AttributeError, TypeError, ValueError):
        return None
