"""az adapter for the proxy check from inside the cluster (``check --from-cluster``, ``update --check-proxy``).

Two routes, each an object with ``where`` and ``run(script lines) -> output``, chosen in one place
(:func:`_routes`); both run the script of :mod:`azext_aksproxy.check.node_probe` on a node, against the
node's own curl and openssl, and write nothing to the cluster:

1. the scale-set run command of one instance of a Linux scale set in the node resource group
   (``virtualMachineScaleSets/{vmss}/virtualMachines/{id}/runCommand``, ``RunShellScript``: what
   `az vmss run-command invoke` calls), so the probes leave from a node's own network, as kubelet's and
   containerd's do. It returns the last 4,096 bytes of output; targets whose lines were cut off are asked again.
2. where that is refused (node resource group lockdown denies it with 403 AuthorizationFailed; a role without
   ``Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action``) or impossible (no Linux
   scale-set node): AKS's run command (``managedClusters/{name}/runCommand``, what `az aks command invoke` calls)
   starts a short-lived pod on the node with the node's root filesystem and network (:mod:`node_pod`), runs the
   script there under chroot, and deletes the pod whatever happened. A refused pod (Pod Security admission, Azure
   Policy, RBAC) fails closed, naming the cause. (The run command pod itself is no route: its image has kubectl,
   not curl or openssl, Azure/AKS issue 3034, and its network is the pod network, not the node's.)
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from dataclasses import dataclass

from knack.log import get_logger

from azext_aksproxy._client_factory import cf_compute
from azext_aksproxy.adapters.azure_reads import error_text, pool_scale_sets
from azext_aksproxy.config.arm import agent_pools, properties

logger = get_logger(__name__)

_MAX_ROUNDS = 8  # re-asking for targets whose output was cut off; each round returns at least one, or we stop
_NODE_POD_SECONDS = 120.0  # default for aksproxy.node_pod_timeout: the pod's image pull, start and probes


class RouteRefused(Exception):
    """The route is not allowed or not possible; the message says why (for the user)."""


class ToolsMissing(Exception):
    """Where the script ran, it found no curl, openssl or another tool it needs."""

    def __init__(self, tools):
        super().__init__(", ".join(tools))
        self.tools = tools


@dataclass
class Node:
    vmss: str
    instance_id: str
    name: str  # the Kubernetes node name (the instance's computer name)


def check_from_cluster(cmd, resource_group_name, cluster_name, config, targets, timeout, public_roots,
                       nodepool_name=None, subscription_id=None):
    """TargetResults for ``targets``, probed through ``config`` from a node of the cluster; from a node of
    ``nodepool_name`` when given. ``subscription_id``: the cluster's own subscription (None: az's current one);
    every read and run command goes there."""
    from azext_aksproxy._client_factory import cf_managed_clusters_in
    from azext_aksproxy.adapters.azure_reads import raw_cluster
    from azext_aksproxy.check import node_probe
    from azext_aksproxy.check.probe import trust_for

    mc = raw_cluster(cf_managed_clusters_in(cmd.cli_ctx, subscription_id), resource_group_name, cluster_name)
    probes = node_probe.plan(config, targets)
    trust = trust_for(config, public_roots)
    progress = cmd.cli_ctx.get_progress_controller()
    progress.begin(message=f"Checking {len(probes)} target(s) from the cluster (run command)")
    try:
        for route in _routes(cmd, mc, resource_group_name, cluster_name, nodepool_name, timeout, subscription_id):
            try:
                logger.warning("Checking %d target(s) from %s (%s)...", len(probes), route.where, route.how)
                outputs, rounds = _rounds(probes, timeout, config, route.run, trust)
                break
            except RouteRefused as exc:
                logger.warning("%s is not available: %s", route.how[:1].upper() + route.how[1:], exc)
            except ToolsMissing as missing:
                _raise_tools_missing(route.where, missing)
        else:  # the pod route comes last and ends in rows or its own error: never reached
            from azure.cli.core.azclierror import CLIInternalError

            raise CLIInternalError("No route to a node was left; nothing was checked and nothing was written.")
        where = route.where  # another node, when the first was busy with a run command
        return [node_probe.judge(p, outputs.get(p.index), trust, where, timeout, rounds) for p in probes]
    finally:
        progress.end()


def _routes(cmd, mc, resource_group_name, cluster_name, nodepool_name, timeout, subscription_id=None):
    """The routes, in the order tried: the scale-set run command on a node, then a pod on that node; both in the
    cluster's subscription."""
    wait = _wait_seconds(timeout)
    compute = cf_compute(cmd.cli_ctx, subscription_id=subscription_id)
    try:
        nodes = _nodes(compute, mc, nodepool_name)
    except RouteRefused as exc:
        logger.warning("The scale-set run command is not available: %s", exc)
        nodes = []
    if nodes:
        yield _NodeRoute(cmd.cli_ctx, compute, mc, nodes, wait)
    pod_seconds = _node_pod_seconds(cmd.cli_ctx.config.get("aksproxy", "node_pod_timeout", None), timeout)
    yield _PodRoute(cmd, mc, (resource_group_name, cluster_name, subscription_id),
                    nodes[0].name if nodes else None, nodepool_name, pod_seconds, max(wait, pod_seconds + 120))


def _node_pod_seconds(setting, timeout) -> float:
    """aksproxy.node_pod_timeout (seconds the probe pod may take to start and finish), else a default."""
    if not setting:
        return _NODE_POD_SECONDS + 4 * timeout
    try:
        seconds = float(setting)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        from azure.cli.core.azclierror import InvalidArgumentValueError

        raise InvalidArgumentValueError(f"aksproxy.node_pod_timeout {setting!r}: give the seconds the probe pod may "
                                        "take, more than 0 (or unset it for the default).")
    return seconds


def _raise_tools_missing(where, missing):
    from azure.cli.core.azclierror import ValidationError

    raise ValidationError(
        f"The check cannot run on {where}: it has no {missing} (the probes need curl and openssl). Nothing "
        "was checked and nothing was written. Run the check from a machine in the cluster's network instead "
        "(az aks http-proxy check without --from-cluster, or --check-proxy-from local).")


def _rounds(probes, timeout, config, run, trust):
    """Run the script for the targets still missing until each has its record (or a round brings none); the
    records and the number of runs."""
    from azext_aksproxy.check import node_probe

    records, pending, known, rounds = {}, list(probes), node_probe.issuer_candidates(config), 0
    share_leaves = True
    for rounds in range(1, _MAX_ROUNDS + 1):
        output = run(node_probe.build_script(pending, timeout, config, known_certificates=known,
                                             share_leaves=share_leaves))
        missing = node_probe.missing_tools(output)
        if missing:
            raise ToolsMissing(missing)
        certificates = node_probe.parse_certificates(output)
        learnt = set(certificates) - set(known)
        known.update(certificates)
        got = {i: r for i, r in node_probe.parse_output(output, known).items() if i in {p.index for p in pending}}
        unsettled = {i for i, r in got.items() if not node_probe.shared_leaf_settled(r, trust)}
        if not got and not learnt and not (unsettled and share_leaves):
            break  # nothing new came back: another run would bring nothing either
        share_leaves = share_leaves and not unsettled
        records.update({i: r for i, r in got.items() if i not in unsettled})
        pending = [p for p in pending if p.index not in records]
        if not pending:
            break
        logger.info("%d target(s) did not fit into the run command's output; asking again.", len(pending))
    return records, rounds


def _refused(exc) -> bool:
    return getattr(exc, "status_code", None) == 403 or getattr(getattr(exc, "error", None), "code", "") in (
        "AuthorizationFailed", "LinkedAuthorizationFailed")


def _wait_seconds(timeout: float) -> float:
    """How long to wait for one run command: its probes run in parallel, each bounded by ``timeout`` twice (curl,
    then openssl); Azure's run command alone takes 20 s or more to start a script."""
    return 300 + 4 * timeout


def _unfinished(where: str, seconds: float):
    from azure.cli.core.azclierror import AzureResponseError

    return AzureResponseError(
        f"The run command on the {where} did not finish within {seconds:g} s; nothing was written. A run command "
        "cannot be canceled: wait for it to end before running the check again, or run it from a machine in the "
        "cluster's network (without --from-cluster, or --check-proxy-from local).")


class _NodeRoute:
    """The scale-set run command on one node; the next node when one is busy with another run command (409)."""

    how = "the scale-set run command"

    def __init__(self, cli_ctx, compute, mc, nodes, wait_seconds):
        self.cli_ctx, self.compute, self.mc, self.nodes, self.wait_seconds = cli_ctx, compute, mc, nodes, wait_seconds
        self.current = 0

    @property
    def where(self) -> str:
        return f"node {self.nodes[self.current].name}"

    def run(self, lines) -> str:
        from azure.core.exceptions import HttpResponseError

        while True:
            try:
                return _run_on_node(self.cli_ctx, self.compute, self.mc, self.nodes[self.current], lines,
                                    self.wait_seconds)
            except HttpResponseError as exc:
                if getattr(exc, "status_code", None) != 409 or self.current + 1 >= len(self.nodes):
                    raise
                logger.warning("%s is running another run command (%s); using the next node.",
                               self.where.capitalize(), error_text(exc))
                self.current += 1


def _nodes(compute, mc, nodepool_name=None) -> list[Node]:
    """The running instances of the cluster's Linux scale sets: the system pools' first; only ``nodepool_name``'s
    when given."""
    from azure.cli.core.azclierror import InvalidArgumentValueError
    from azure.core.exceptions import HttpResponseError

    modes = {str(p.get("name")).lower(): (p.get("mode") or "User") for p in agent_pools(mc)}
    if nodepool_name and nodepool_name.lower() not in modes:
        raise InvalidArgumentValueError(
            f"--nodepool-name {nodepool_name}: the cluster has no such node pool; it has {', '.join(sorted(modes))}.")
    nrg = str(properties(mc).get("nodeResourceGroup") or "")
    try:
        candidates = []
        for pool, vmss in pool_scale_sets(compute, nrg).items():
            os_disk = vmss.virtual_machine_profile.storage_profile.os_disk if vmss.virtual_machine_profile else None
            if os_disk is not None and (os_disk.os_type or "Linux").lower() != "linux":
                continue
            if nodepool_name and pool != nodepool_name.lower():
                continue
            candidates.append((modes.get(pool, "User") != "System", vmss.name))
        nodes = []
        for _, name in sorted(candidates):
            for vm in compute.virtual_machine_scale_set_vms.list(nrg, name):
                if (vm.provisioning_state or "").lower() == "succeeded":
                    computer = vm.os_profile.computer_name if vm.os_profile else None
                    nodes.append(Node(name, vm.instance_id, computer or vm.name))
    except HttpResponseError as exc:
        if _refused(exc) or getattr(exc, "status_code", None) == 404:
            raise RouteRefused(f"listing the scale sets of {nrg} failed: {error_text(exc)}") from None
        raise
    if not nodes and nodepool_name:
        raise InvalidArgumentValueError(
            f"--nodepool-name {nodepool_name}: the pool has no running Linux scale-set node to run the check on.")
    if not nodes:
        raise RouteRefused(f"no running Linux scale-set node was found in the node resource group {nrg}.")
    return nodes


def _run_on_node(cli_ctx, compute, mc, node: Node, lines, wait_seconds: float) -> str:
    from azure.cli.core.profiles import ResourceType, get_sdk
    from azure.core.exceptions import HttpResponseError

    run_command_input = get_sdk(cli_ctx, ResourceType.MGMT_COMPUTE, "RunCommandInput", mod="models",
                                operation_group="virtual_machine_scale_set_vms")
    try:
        poller = compute.virtual_machine_scale_set_vms.begin_run_command(
            properties(mc).get("nodeResourceGroup"), node.vmss, node.instance_id,
            run_command_input(command_id="RunShellScript", script=list(lines)))
        poller.wait(wait_seconds)
        if not poller.done():
            raise _unfinished(f"node {node.name}", wait_seconds)
        result = poller.result()
    except HttpResponseError as exc:
        if _refused(exc):
            raise RouteRefused(f"the run command on node {node.name} was refused: {error_text(exc)}") from None
        raise
    stdout, failure = script_output(result.value or [])
    if failure is not None:
        from azure.cli.core.azclierror import AzureResponseError

        from azext_aksproxy.config.findings import mask_secrets

        raise AzureResponseError(
            f"The check's script failed on node {node.name}; nothing was checked and nothing was written. Run "
            f"command said: {mask_secrets(failure.strip())[:600]}")
    return stdout


def script_output(statuses) -> tuple[str, str | None]:
    """(stdout, None) of a RunShellScript result's InstanceViewStatus list, or ("", its message) when it failed."""
    streams = [s for s in statuses if "/stdout/" in (s.code or "").lower()]  # the two-status form, if ever sent
    if streams:
        return "".join(s.message or "" for s in streams), None
    message = "".join((s.message or "") for s in statuses)
    if any("failed" in (s.code or "").lower() for s in statuses):
        return "", message
    return _stdout(message), None


def _stdout(message: str) -> str:
    """The stdout part of RunShellScript's status message ("...[stdout]\\n<out>\\n[stderr]\\n<err>")."""
    _, found, rest = message.partition("[stdout]\n")
    if not found:
        return message
    return rest.rsplit("\n[stderr]", 1)[0]


class _PodRoute:
    """A short-lived pod on a node, started and deleted through AKS run command (check.probe_pod)."""

    how = "a pod with the node's filesystem and network, started through AKS run command"

    def __init__(self, cmd, mc, cluster, node, pool, pod_seconds, wait_seconds):
        self.cmd, self.mc = cmd, mc
        self.resource_group_name, self.cluster_name, self.subscription_id = cluster  # (rg, name, subscription)
        self.node, self.pool, self.pod_seconds, self.wait_seconds = node, pool, pod_seconds, wait_seconds

    @property
    def where(self) -> str:
        return f"node {self.node} (pod)" if self.node else "a Linux node (pod)"

    def run(self, lines) -> str:
        from azure.cli.core.azclierror import AzureResponseError, ValidationError

        from azext_aksproxy.adapters.aks_command import AksCommandRefused, invoke
        from azext_aksproxy.check import probe_pod
        from azext_aksproxy.config.findings import mask_secrets

        name = probe_pod.pod_name()
        try:
            aad_managed = bool((properties(self.mc).get("aadProfile") or {}).get("managed"))
            logs = invoke(self.cmd, aad_managed, self.resource_group_name, self.cluster_name, probe_pod.COMMAND,
                          probe_pod.files(name, self.node, lines, round(self.pod_seconds), self.pool),
                          self.wait_seconds, f"the probe pod on {self.where}", subscription_id=self.subscription_id)
        except AksCommandRefused as exc:
            raise AzureResponseError(
                f"AKS run command was refused too: {exc}. Nothing was checked and nothing was written. Run the "
                "check from a machine in the cluster's network (without --from-cluster, or --check-proxy-from "
                "local), or allow the scale-set run command on the nodes.") from None
        result = probe_pod.outcome(logs)
        if result is None:
            raise AzureResponseError(
                f"AKS run command printed no status for the probe pod {name} on {self.where} (its output was cut "
                f"off or the command did not run); check with `kubectl get pod {name} -n {probe_pod.NAMESPACE}` "
                "that it is gone. Nothing was written.")
        if result.state == "refused":
            raise ValidationError(
                f"The probe pod on {self.where} was refused by {probe_pod.refusal_cause(result.error)}: "
                f"{mask_secrets(result.error)[:600]}. Nothing was checked and nothing was written. The pod needs "
                "the node's network and filesystem (hostNetwork, hostPID, a hostPath volume of /), as `kubectl "
                "debug node` does; allow that for aksproxy's pods, or run the check from a machine in the "
                "cluster's network (without --from-cluster, or --check-proxy-from local).")
        if result.state == "timeout":
            raise AzureResponseError(
                f"The probe pod on {self.where} did not finish within {self.pod_seconds:g} s (last phase "
                f"{result.phase}: an image that cannot be pulled, or a node without room?); it was deleted and "
                "nothing was written. Raise aksproxy.node_pod_timeout, or run the check from a machine in the "
                "cluster's network.")
        if result.state == "failed":
            raise AzureResponseError(
                f"The probe pod on {self.where} ended {result.phase}; it was deleted and nothing was written. Its "
                f"output: {mask_secrets(logs.rsplit(probe_pod.STATUS_PREFIX, 1)[0].strip())[-600:]}")
        return logs
