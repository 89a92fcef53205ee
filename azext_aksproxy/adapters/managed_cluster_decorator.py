"""Core's aks create/update decorators, with only the HTTP proxy steps replaced.

Core's ``aks_create``/``aks_update`` handlers import their decorator class from ``managed_cluster_decorator`` at call
time, and the decorators look up their context class there too; ``core_class_replaced`` points such a name at our
subclass for the duration of one call, so every other step of core's handler (existence checks, prompts, polling,
post-processing) runs unchanged for the installed az version. core_hook proves, for every call, that this is
still so (fail closed).
"""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from contextlib import contextmanager
from functools import partial

from azure.cli.command_modules.acs import managed_cluster_decorator as core
from azure.cli.core.azclierror import MutuallyExclusiveArgumentError
from knack.log import get_logger

from azext_aksproxy.adapters.findings_to_az import raise_for_errors, warn

from . import core_hook

logger = get_logger(__name__)

_VALIDATED = "aksproxy_http_proxy_config"
_IN_CLUSTER_ADVICE = "aksproxy_in_cluster_advice"


@contextmanager
def core_class_replaced(core_name: str, replacement):
    original = getattr(core, core_name)
    setattr(core, core_name, replacement)
    try:
        yield
    finally:
        setattr(core, core_name, original)


class ProxyConfigContext(core.AKSManagedClusterContext):
    """Reads ``--http-proxy-config`` through aksproxy's rules and returns the canonical SDK model."""

    hook_proof = None  # the call's core_hook.HookProof, set by the decorator that built this context

    def get_http_proxy_config(self):
        path = self.raw_param.get("http_proxy_config")
        if not path:
            return super().get_http_proxy_config()
        model = self.get_intermediate(_VALIDATED)
        if model is None:
            from azext_aksproxy.config import check_file

            result = check_file(path)
            findings = result.findings
            if result.ok and self.decorator_mode == core.DecoratorMode.UPDATE:
                # The in-cluster advice waits for the cluster's GET, so that it names the cluster's own network.
                advice = [f for f in findings if f.code == "noproxy-in-cluster"]
                self.set_intermediate(_IN_CLUSTER_ADVICE, advice, overwrite_exists=True)
                findings = [f for f in findings if f.code != "noproxy-in-cluster"]
            raise_for_errors(findings, f"--http-proxy-config {path}")
            config = dict(result.config)
            if "enabled" in config and (
                (config["enabled"] and self.raw_param.get("disable_http_proxy"))
                or (not config["enabled"] and self.raw_param.get("enable_http_proxy"))
            ):
                flag = "--disable-http-proxy" if config["enabled"] else "--enable-http-proxy"
                raise MutuallyExclusiveArgumentError(
                    f"{path} sets \"enabled\": {str(config['enabled']).lower()} but {flag} was given. "
                    f"Remove \"enabled\" from the file or drop {flag}.")
            model = self.models.ManagedClusterHTTPProxyConfig(config)
            self.set_intermediate(_VALIDATED, model, overwrite_exists=True)
            if self.hook_proof is not None:
                self.hook_proof.record(core_hook.VALIDATED)
        return model


def _refuse_unsupported_pools(mc) -> None:
    from azext_aksproxy.cluster.cluster_rules import pool_findings

    raise_for_errors(pool_findings(mc.as_dict()), f"Cluster {mc.name}")


class _ProxyConfigContextMixin:
    """Core's decorators build an ``AKSManagedClusterContext`` in ``init_context``; ours a ProxyConfigContext."""

    def __init__(self, cmd, client, raw_parameters, resource_type, proxy_check=None, proof=None,
                 latest_node_image=False, reimage_fields=None):
        self._proxy_check = proxy_check  # the --check-proxy step, or None
        self._proof = proof  # core_hook.HookProof of this call, or None
        self._latest_node_image = latest_node_image  # --latest-node-image: newer images asked for as well
        self._reimage_fields = reimage_fields  # a list the update fills with the fields whose change reimages
        self._record(core_hook.DECORATOR)
        super().__init__(cmd, client, raw_parameters, resource_type)

    def _record(self, step: str) -> None:
        if self._proof is not None:
            self._proof.record(step)

    def init_context(self) -> None:
        with core_class_replaced(core_hook.CONTEXT_CLASS, ProxyConfigContext):
            super().init_context()
        if isinstance(self.context, ProxyConfigContext):
            self.context.hook_proof = self._proof
            self._record(core_hook.CONTEXT)

    def _require_proxy_context(self) -> None:
        """Before the first step: stop if core built its context without ProxyConfigContext (fail closed)."""
        if self._proof is not None and not isinstance(self.context, ProxyConfigContext):
            raise core_hook.refusal(self._proof.verb, f"core's decorator built its context as "
                                                      f"{type(self.context).__name__}, not through "
                                                      f"{core_hook.CONTEXT_CLASS} in init_context")


class ProxyAwareCreateDecorator(_ProxyConfigContextMixin, core.AKSManagedClusterCreateDecorator):
    def construct_mc_profile_default(self, bypass_restore_defaults: bool = False):
        # Check the proxy config before any other step: some of them write (service principals, role assignments).
        self._require_proxy_context()
        self._record(core_hook.CONSTRUCT)
        if self.context.raw_param.get("http_proxy_config"):
            config = self.context.get_http_proxy_config()
            vm_set_type = self.agentpool_context.get_vm_set_type()
            if vm_set_type.lower() == "availabilityset":
                raise_for_errors(
                    _availability_set_finding(), "--vm-set-type AvailabilitySet with --http-proxy-config")
            if self._proxy_check:
                self._proxy_check(config.as_dict())
        mc = super().construct_mc_profile_default(bypass_restore_defaults)
        if self.context.raw_param.get("http_proxy_config"):
            from azext_aksproxy.cluster.addons import addon_findings

            warn(addon_findings(mc.as_dict(), self.context.get_http_proxy_config().as_dict()))
        return mc


def _availability_set_finding():
    from azext_aksproxy.cluster.cluster_rules import pool_findings

    return pool_findings({"agentPoolProfiles": [{"name": "(the new system pool)", "type": "AvailabilitySet"}]})


class ProxyAwareUpdateDecorator(_ProxyConfigContextMixin, core.AKSManagedClusterUpdateDecorator):
    _model = None  # the cluster as read before this update (cluster.model), to tell what the PUT changes

    def _proxy_requested(self) -> bool:
        return bool(self.context.raw_param.get("http_proxy_config") or self.context.raw_param.get("enable_http_proxy"))

    def _proxy_touched(self) -> bool:
        """The update sets the proxy config (a file, enabling or disabling it); otherwise core's read-modify-write
        sends the stored config back unchanged and there is nothing to compare or reimage."""
        return self._proxy_requested() or bool(self.context.raw_param.get("disable_http_proxy"))

    def update_mc_profile_default(self):
        # Validate the file before the first request, so bad input costs no round trip and writes nothing.
        self._require_proxy_context()
        self._record(core_hook.UPDATE_PROFILE)
        if self.context.raw_param.get("http_proxy_config"):
            config = self.context.get_http_proxy_config()
            if self._proxy_check:
                self._proxy_check(config.as_dict())
        mc = super().update_mc_profile_default()
        self._announce_reimage(mc)
        return mc

    def fetch_mc(self):
        self._record(core_hook.FETCH)
        mc = super().fetch_mc()
        if self._proxy_touched():
            from azext_aksproxy.adapters.azure_reads import model_with_vnets

            # The VNet spaces AKS writes into noProxy are read now, once, and only for a proxy change.
            self._model = model_with_vnets(self.cmd.cli_ctx, mc.as_dict())
        # Right after the GET, before any other update step: refuse clusters AKS cannot proxy.
        if self._proxy_requested():
            _refuse_unsupported_pools(mc)
        return mc

    def _announce_reimage(self, mc) -> None:
        """Before the PUT: a proxy change makes AKS reimage every pool. Say which, and refuse when the cluster's
        node disruption policy would make the service refuse it (nothing is written then)."""
        if self._model is None:
            return  # core's read-modify-write sends the proxy config back unchanged: nothing to reimage
        from azure.cli.core.azclierror import ValidationError

        from azext_aksproxy.adapters.azure_reads import disruption_gate
        from azext_aksproxy.cluster.pools import (
            MAY_REIMAGE,
            NO_REIMAGE,
            REFUSED,
            WHAT_A_REIMAGE_DOES,
            describe_pools,
            disruption_fix,
            reimage_decision,
            reimaged_pools,
        )
        from azext_aksproxy.config.arm import properties

        fetched = self._model.cluster
        sent = properties(mc.as_dict()).get("httpProxyConfig")
        decision = reimage_decision(self._model, sent, lambda: disruption_gate(self.cmd.cli_ctx, fetched))
        if self._reimage_fields is not None:
            self._reimage_fields[:] = decision.fields
        if decision.verdict == NO_REIMAGE:
            return
        if decision.verdict == MAY_REIMAGE:
            # Only CIDRs that may be an unread VNet's space go: the service may see no change at all. Say so; the
            # disruption policy is left to the service rather than refused here (never stricter than AKS).
            logger.warning("This update may change noProxy (see the warning above): if those CIDRs are the VNet's, "
                           "AKS adds them back and reimages nothing; if they are yours, AKS reimages every node "
                           "pool: %s.", describe_pools(reimaged_pools(fetched)))
            return
        rg, name = self.context.get_resource_group_name(), self.context.get_name()
        gate = decision.gate
        changed = ", ".join(decision.fields)
        if decision.verdict == REFUSED:
            raise ValidationError(
                f"Cluster {name}: this update changes {changed}, which makes AKS reimage every node pool, and "
                f"{gate.reason}: AKS would refuse it ({gate.code}). Nothing was sent to Azure. "
                f"{disruption_fix(gate, rg, name)}")
        policy = properties(fetched).get("nodeDisruptionProfile")
        if self._latest_node_image:
            self._announce_second_roll(rg, name)
        logger.warning("This update changes %s: AKS reimages every node pool as part of it: %s; %s. "
                       "PodDisruptionBudgets limit how many pods go down at once.%s", changed,
                       describe_pools(reimaged_pools(fetched)), WHAT_A_REIMAGE_DOES,
                       f" Node disruption policy {gate.policy}: {gate.reason}." if policy or gate.allowed is None
                       else "")

    def update_http_proxy_config(self, mc):
        self._record(core_hook.UPDATE_PROXY)
        new = self.context.get_http_proxy_config() if self.context.raw_param.get("http_proxy_config") else None
        if new is not None:
            from azext_aksproxy.cluster.addons import addon_findings
            from azext_aksproxy.cluster.cluster_rules import (
                update_findings,
                with_cluster_advice,
            )

            model, config = self._model, new.as_dict()
            advice = self.context.get_intermediate(_IN_CLUSTER_ADVICE) or []
            warn(with_cluster_advice(advice, model, config) + update_findings(model, config)
                 + addon_findings(model.cluster, config))
            # A PUT without "enabled" could silently re-enable a disabled proxy: keep the cluster's state.
            if (model.enabled is False and config.get("enabled") is None
                    and not self.context.raw_param.get("enable_http_proxy")):
                logger.warning("The cluster's HTTP proxy is disabled and stays disabled; "
                               "pass --enable-http-proxy to enable it.")
            if not model.changed_fields(config):
                # Re-applying what the cluster runs: the PUT carries httpProxyConfig exactly as stored (as core's
                # own unrelated updates do), so the service sees no change whichever way it compares.
                logger.warning("%s matches the cluster's proxy config (the noProxy entries AKS adds set aside): "
                               "this update changes no proxy setting.", self.context.raw_param.get("http_proxy_config"))
                return mc
            mc.http_proxy_config = self.models.ManagedClusterHTTPProxyConfig(model.config_to_send(config))
        return mc

    def _announce_second_roll(self, rg: str, name: str) -> None:
        """--latest-node-image with a proxy change: the pools with a newer node image roll twice (AKS's reimage,
        then the node image upgrade); say which before anything is written."""
        from azext_aksproxy._client_factory import cf_agent_pools
        from azext_aksproxy.adapters.azure_reads import latest_node_images
        from azext_aksproxy.config.arm import agent_pools

        pools = agent_pools(self._model.cluster)
        latest = latest_node_images(cf_agent_pools(self.cmd.cli_ctx), rg, name, [str(p.get("name")) for p in pools])
        twice = [f"{p.get('name')} ({p.get('nodeImageVersion')} -> {latest.get(str(p.get('name')).lower())})"
                 for p in pools if latest.get(str(p.get("name")).lower()) not in (None, p.get("nodeImageVersion"))]
        if twice:
            logger.warning("--latest-node-image: these pools roll twice, once for AKS's reimage of the proxy change "
                           "and once for their node image upgrade: %s. Leave out --latest-node-image to roll each "
                           "node once.", ", ".join(twice))


def create_decorator(proxy_check=None, proof=None):
    return partial(ProxyAwareCreateDecorator, proxy_check=proxy_check, proof=proof)


def update_decorator(proxy_check=None, proof=None, latest_node_image=False, reimage_fields=None):
    return partial(ProxyAwareUpdateDecorator, proxy_check=proxy_check, proof=proof, latest_node_image=latest_node_image,
                   reimage_fields=reimage_fields)
