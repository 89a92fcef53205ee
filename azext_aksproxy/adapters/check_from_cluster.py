"""az adapter for the proxy check from inside the cluster (``check --from-cluster``, ``update --check-proxy``).

Two routes, both run the script of :mod:`azext_aksproxy.proxy_check.node_probe` and write nothing to the cluster:

1. a node: the action run command of one instance of a Linux scale set in the node resource group
   (``virtualMachineScaleSets/{vmss}/virtualMachines/{id}/runCommand``, ``RunShellScript``: what
   `az vmss run-command invoke` calls), so the probes leave from a node's own network, as kubelet's and
   containerd's do. It returns the last 4,096 bytes of output; targets whose lines were cut off are asked again.
2. where that is refused (node resource group lockdown denies it with 403 AuthorizationFailed; a role without
   ``Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action``) or impossible (no Linux
   scale-set node): AKS's run command (``managedClusters/{name}/runCommand``, what `az aks command invoke` calls),
   which runs it in a pod of the cluster; the rows say so.
"""
from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass

from knack.log import get_logger

from azext_aksproxy._client_factory import cf_compute

logger = get_logger(__name__)

AKS_ROUTE = "AKS run command pod"
_SCRIPT_FILE = "aksproxy-check.sh"
_MAX_ROUNDS = 8  # re-asking for targets whose output was cut off; each round returns at least one, or we stop
_POLL_SECONDS = 5  # what az aks command invoke polls at when the service sends no Retry-After


class RouteRefused(Exception):
    """The node route is not allowed or not possible; the message says why (for the user)."""


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
                       nodepool_name=None):
    """TargetResults for ``targets``, probed through ``config`` from the cluster (a node, else a pod); from a node of
    ``nodepool_name`` when given."""
    from azext_aksproxy._client_factory import cf_managed_clusters
    from azext_aksproxy.proxy_check import node_probe

    clusters = cf_managed_clusters(cmd.cli_ctx)
    mc = clusters.get(resource_group_name, cluster_name)
    probes = node_probe.plan(config, targets)
    trust = node_probe.trust_for(config, public_roots)
    progress = cmd.cli_ctx.get_progress_controller()
    progress.begin(message=f"Checking {len(probes)} target(s) from the cluster (run command)")
    try:
        return _check(cmd, clusters, mc, resource_group_name, cluster_name, config, probes, trust, timeout,
                      nodepool_name)
    finally:
        progress.end()


def _check(cmd, clusters, mc, resource_group_name, cluster_name, config, probes, trust, timeout, nodepool_name):
    from azext_aksproxy.proxy_check import node_probe

    try:
        route = _NodeRoute(cmd.cli_ctx, mc, _nodes(cmd.cli_ctx, mc, nodepool_name), _wait_seconds(timeout))
        where = route.where
        logger.warning("Checking %d target(s) from %s (its scale set's run command)...", len(probes), where)
        outputs = _rounds(probes, timeout, config, route.run)
        where = route.where  # another node, when the first was busy with a run command
    except RouteRefused as exc:
        where = AKS_ROUTE
        logger.warning("The node route is not available: %s Running the check through AKS run command (the API of "
                       "az aks command invoke) in a pod of the cluster instead%s.", exc,
                       f" (a pod cannot be placed in node pool {nodepool_name})" if nodepool_name else "")
        try:
            outputs = _rounds(probes, timeout, config,
                              lambda lines: _run_in_pod(cmd, clusters, mc, resource_group_name, cluster_name, lines,
                                                        _wait_seconds(timeout)))
        except ToolsMissing as missing:
            _raise_tools_missing(where, missing)
    except ToolsMissing as missing:
        _raise_tools_missing(where, missing)
    return [node_probe.judge(p, outputs.get(p.index), trust, where, timeout) for p in probes]


def _raise_tools_missing(where, missing):
    from azure.cli.core.azclierror import ValidationError

    raise ValidationError(
        f"The check cannot run in the {where}: it has no {missing} (the probes need curl and openssl). Nothing "
        "was checked and nothing was written. Run the check from a machine in the cluster's network instead "
        "(az aks http-proxy check without --from-cluster, or --check-proxy-from local).")


def _rounds(probes, timeout, config, run):
    """Run the script for the targets still missing until each has its record (or a round brings none)."""
    from azext_aksproxy.proxy_check import node_probe

    records, pending = {}, list(probes)
    for _ in range(_MAX_ROUNDS):
        output = run(node_probe.build_script(pending, timeout, config))
        missing = node_probe.missing_tools(output)
        if missing:
            raise ToolsMissing(missing)
        got = {i: r for i, r in node_probe.parse_output(output).items() if i in {p.index for p in pending}}
        if not got:
            break
        records.update(got)
        pending = [p for p in pending if p.index not in records]
        if not pending:
            break
        logger.info("%d target(s) did not fit into the run command's output; asking again.", len(pending))
    return records




def _refused(exc) -> bool:
    return getattr(exc, "status_code", None) == 403 or getattr(getattr(exc, "error", None), "code", "") in (
        "AuthorizationFailed", "LinkedAuthorizationFailed")


def _describe(exc) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or getattr(exc, "status_code", "")
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    return f"({code}) {message}"


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

    def __init__(self, cli_ctx, mc, nodes, wait_seconds):
        self.cli_ctx, self.mc, self.nodes, self.wait_seconds = cli_ctx, mc, nodes, wait_seconds
        self.current = 0

    @property
    def where(self) -> str:
        return f"node {self.nodes[self.current].name}"

    def run(self, lines) -> str:
        from azure.core.exceptions import HttpResponseError

        while True:
            try:
                return _run_on_node(self.cli_ctx, self.mc, self.nodes[self.current], lines, self.wait_seconds)
            except HttpResponseError as exc:
                if getattr(exc, "status_code", None) != 409 or self.current + 1 >= len(self.nodes):
                    raise
                logger.warning("%s is running another run command (%s); using the next node.",
                               self.where.capitalize(), _describe(exc))
                self.current += 1


def _nodes(cli_ctx, mc, nodepool_name=None) -> list[Node]:
    """The running instances of the cluster's Linux scale sets: the system pools' first; only ``nodepool_name``'s
    when given."""
    from azure.cli.core.azclierror import InvalidArgumentValueError
    from azure.core.exceptions import HttpResponseError

    modes = {p.name.lower(): (p.mode or "User") for p in (mc.agent_pool_profiles or [])}
    if nodepool_name and nodepool_name.lower() not in modes:
        raise InvalidArgumentValueError(
            f"--nodepool-name {nodepool_name}: the cluster has no such node pool; it has {', '.join(sorted(modes))}.")
    compute = cf_compute(cli_ctx)
    nrg = mc.node_resource_group
    try:
        scale_sets = list(compute.virtual_machine_scale_sets.list(nrg))
        candidates = []
        for vmss in scale_sets:
            pool = (vmss.tags or {}).get("aks-managed-poolName")
            os_disk = vmss.virtual_machine_profile.storage_profile.os_disk if vmss.virtual_machine_profile else None
            if pool is None or (os_disk is not None and (os_disk.os_type or "Linux").lower() != "linux"):
                continue
            if nodepool_name and pool.lower() != nodepool_name.lower():
                continue
            candidates.append((modes.get(pool.lower(), "User") != "System", vmss.name))
        nodes = []
        for _, name in sorted(candidates):
            for vm in compute.virtual_machine_scale_set_vms.list(nrg, name):
                if (vm.provisioning_state or "").lower() == "succeeded":
                    computer = vm.os_profile.computer_name if vm.os_profile else None
                    nodes.append(Node(name, vm.instance_id, computer or vm.name))
    except HttpResponseError as exc:
        if _refused(exc) or getattr(exc, "status_code", None) == 404:
            raise RouteRefused(f"listing the scale sets of {nrg} failed: {_describe(exc)}") from None
        raise
    if not nodes and nodepool_name:
        raise InvalidArgumentValueError(
            f"--nodepool-name {nodepool_name}: the pool has no running Linux scale-set node to run the check on.")
    if not nodes:
        raise RouteRefused(f"no running Linux scale-set node was found in the node resource group {nrg}.")
    return nodes


def _run_on_node(cli_ctx, mc, node: Node, lines, wait_seconds: float) -> str:
    from azure.cli.core.profiles import ResourceType, get_sdk
    from azure.core.exceptions import HttpResponseError

    run_command_input = get_sdk(cli_ctx, ResourceType.MGMT_COMPUTE, "RunCommandInput", mod="models",
                                operation_group="virtual_machine_scale_set_vms")
    compute = cf_compute(cli_ctx)
    try:
        poller = compute.virtual_machine_scale_set_vms.begin_run_command(
            mc.node_resource_group, node.vmss, node.instance_id,
            run_command_input(command_id="RunShellScript", script=list(lines)))
        poller.wait(wait_seconds)
        if not poller.done():
            raise _unfinished(f"node {node.name}", wait_seconds)
        result = poller.result()
    except HttpResponseError as exc:
        if _refused(exc):
            raise RouteRefused(f"the run command on node {node.name} was refused: {_describe(exc)}") from None
        raise
    stdout, failure = script_output(result.value or [])
    if failure is not None:
        from azure.cli.core.azclierror import AzureResponseError

        from azext_aksproxy.proxy_config.findings import mask_secrets

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


def _run_in_pod(cmd, clusters, mc, resource_group_name, cluster_name, lines, wait_seconds: float) -> str:
    from azure.cli.command_modules.acs._polling import RunCommandLocationPolling
    from azure.cli.core.azclierror import AzureResponseError
    from azure.cli.core.profiles import ResourceType
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    request_model = cmd.get_models("RunCommandRequest", resource_type=ResourceType.MGMT_CONTAINERSERVICE,
                                   operation_group="managed_clusters")
    request = request_model(command=f"bash {_SCRIPT_FILE}", context=_zip({_SCRIPT_FILE: "\n".join(lines) + "\n"}))
    if mc.aad_profile is not None and mc.aad_profile.managed:
        # As az aks command invoke does: the command runs with the caller's identity (AKS AAD server app).
        from azure.cli.command_modules.acs.custom import _get_dataplane_aad_token

        request.cluster_token = _get_dataplane_aad_token(cmd.cli_ctx, "6dae42f8-4368-4678-94ff-3960e28e3630")
    try:
        poller = clusters.begin_run_command(
            resource_group_name, cluster_name, request,
            polling=ARMPolling(_POLL_SECONDS, lro_options={"final-state-via": "location"},
                               lro_algorithms=[RunCommandLocationPolling()]))
    except HttpResponseError as exc:
        raise AzureResponseError(
            f"AKS run command was refused too: {_describe(exc)}. Nothing was checked and nothing was written. Run "
            "the check from a machine in the cluster's network (without --from-cluster, or --check-proxy-from "
            "local), or allow the scale-set run command on the nodes.") from None
    poller.wait(wait_seconds)
    if not poller.done():
        raise _unfinished(AKS_ROUTE, wait_seconds)
    result = poller.result()
    if (result.provisioning_state or "").lower() != "succeeded":
        raise AzureResponseError(f"AKS run command ended {result.provisioning_state}: {result.reason or ''}. "
                                 "Run the check locally instead (without --from-cluster, or --check-proxy-from "
                                 "local) from a machine in the cluster's network.")
    return result.logs or ""


def _zip(files: dict) -> str:
    """A runCommand ``context``: base64 of a zip of the files (what az aks command invoke sends for --file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
