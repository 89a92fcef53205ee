"""Microsoft.Compute, as far as a cluster's nodes show through it: the scale sets of the node resource group, their
instances, and the action run command on an instance (what `az vmss run-command invoke` calls).

Nothing is stored but whether each pool's nodes run the scale set's latest model (``Cluster.model_applied``,
``latestModelApplied`` on the instances: the trace of whether they run the cluster's current proxy config). A
cluster's pools are rendered as the scale sets AKS makes for them (name
``aks-<pool>-<8 digits>-vmss``, tags ``aks-managed-poolName``, ``aks-managed-orchestrator``,
``aks-managed-resourceNameSuffix``; sku capacity = the pool's count, 0 when stopped; instances ``0..count-1``
whose computer names ``<vmss><6 base-36 digits>`` are the Kubernetes node names). Shapes follow
azure-mgmt-compute's VirtualMachineScaleSet / VirtualMachineScaleSetVM (api-version 2024-11-01, what az 2.91 uses).

Run command (REST spec Microsoft.Compute VirtualMachineScaleSetVMs_RunCommand; Azure docs "Run scripts in your Linux
VM by using action Run Commands"):
- ``POST .../virtualMachineScaleSets/{vmss}/virtualMachines/{instanceId}/runCommand`` body ``RunCommandInput
  {"commandId": "RunShellScript", "script": [lines], "parameters": [...]}`` -> 202, empty body,
  ``Azure-AsyncOperation`` and ``Location`` (same operation URL + ``monitor=true``); the SDK and az's aaz command
  poll with ``final-state-via: location``.
- the operation: ``{"name", "status": "InProgress|Succeeded", "startTime"[, "endTime"]}``; the location: 202 while
  running, then 200 ``RunCommandResult {"value": [InstanceViewStatus {"code": "ProvisioningState/succeeded",
  "level": "Info", "displayStatus": "Provisioning succeeded", "message": "Enable succeeded: \\n[stdout]\\n<out>\\n
  [stderr]\\n<err>"}]}`` (the format az's docs show and aks-preview's ``process_message_for_run_command`` parses).
- docs' restrictions modelled: the output is the LAST 4,096 bytes (of stdout and of stderr each), one script at a
  time per VM (a second one: 409 ``Conflict``), a 90-minute limit (config ``run_command_timeout_seconds``).
- the script lines are written to a file and run with ``/bin/sh`` (dash here), so a script relying on bash must
  re-execute itself under bash.
- node resource group lockdown (cluster ``nodeResourceGroupProfile.restrictionLevel: ReadOnly``; AKS docs
  "node-resource-group-lockdown"): reads are allowed, the run command is refused with 403 ``AuthorizationFailed``
  naming the deny assignment, as ARM words deny assignments.
"""
from __future__ import annotations

import hashlib

from . import node, runcommand
from .resources import bad_subscription, json_body
from .state import SUBSCRIPTION_ID, Cluster, Store
from .web import Request, Response, Router, arm_time, error, rg_not_found

OUTPUT_LIMIT = 4096  # bytes of stdout and of stderr a VMSS action run command returns (the last ones)
NRG = "/subscriptions/{sub}/resourceGroups/{nrg}/providers/Microsoft.Compute/virtualMachineScaleSets"
_OPS = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{id}"
_BUSY = ("Run command extension execution is in progress. Please wait for completion before invoking a run "
         "command.")


def _suffix(cluster: Cluster) -> str:
    return str(int(hashlib.sha256("/".join(cluster.key).encode()).hexdigest()[:8], 16) % 10**8).zfill(8)


def _b36(n: int, width: int = 6) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(width, "0")


def _is_windows(pool: dict) -> bool:
    return (pool.get("osType") or "Linux").lower() == "windows"


def vmss_name(cluster: Cluster, pool: dict) -> str:
    return f"aks{pool['name']}" if _is_windows(pool) else f"aks-{pool['name']}-{_suffix(cluster)}-vmss"


def linux_node_names(cluster: Cluster) -> list:
    """The Kubernetes node names of the cluster's running Linux scale-set instances (kubectl's view, kubectl.py)."""
    return [f"{vmss_name(cluster, p)}{_b36(i)}" for p in cluster.pools()
            if (p.get("type") or "VirtualMachineScaleSets") == "VirtualMachineScaleSets" and not _is_windows(p)
            for i in range(_capacity(p))]


def _capacity(pool: dict) -> int:
    if (pool.get("powerState") or {}).get("code", "Running") == "Stopped":
        return 0
    return int(pool.get("count") or 0)


def scale_sets(store: Store, nrg: str) -> tuple[Cluster | None, list]:
    """The cluster whose node resource group is ``nrg``, and its VMSS pools as (name, pool)."""
    for cluster in store.clusters.values():
        if (cluster.props.get("nodeResourceGroup") or "").lower() == nrg.lower():
            pools = [p for p in cluster.pools() if (p.get("type") or "VirtualMachineScaleSets") ==
                     "VirtualMachineScaleSets"]
            return cluster, [(vmss_name(cluster, p), p) for p in pools]
    return None, []


def _vmss_id(cluster: Cluster, name: str) -> str:
    return (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{cluster.props['nodeResourceGroup']}/providers/"
            f"Microsoft.Compute/virtualMachineScaleSets/{name}")


def _tags(cluster: Cluster, pool: dict) -> dict:
    return {"aks-managed-poolName": pool["name"], "aks-managed-resourceNameSuffix": _suffix(cluster),
            "aks-managed-orchestrator": f"Kubernetes:{pool.get('currentOrchestratorVersion', '')}",
            "aks-managed-createOperationID": hashlib.sha256(pool["name"].encode()).hexdigest()[:32]}


def _os_disk(pool: dict) -> dict:
    return {"osType": "Windows" if _is_windows(pool) else "Linux", "caching": "ReadOnly", "createOption": "FromImage",
            "diskSizeGB": pool.get("osDiskSizeGB", 128)}


def render_vmss(cluster: Cluster, name: str, pool: dict) -> dict:
    os_config = ({"windowsConfiguration": {"provisionVMAgent": True}} if _is_windows(pool)
                 else {"linuxConfiguration": {"disablePasswordAuthentication": True, "provisionVMAgent": True}})
    return {"id": _vmss_id(cluster, name), "name": name, "type": "Microsoft.Compute/virtualMachineScaleSets",
            "location": cluster.resource["location"], "tags": _tags(cluster, pool),
            "sku": {"name": pool.get("vmSize", "Standard_DS2_v2"), "tier": "Standard", "capacity": _capacity(pool)},
            "properties": {"provisioningState": "Succeeded", "orchestrationMode": "Uniform",
                           "upgradePolicy": {"mode": "Manual"}, "overprovision": False,
                           "uniqueId": hashlib.sha256(name.encode()).hexdigest()[:32],
                           "virtualMachineProfile": {
                               "osProfile": {"computerNamePrefix": name, "adminUsername": "azureuser", **os_config},
                               "storageProfile": {"osDisk": _os_disk(pool)}}}}


def render_vm(cluster: Cluster, name: str, pool: dict, instance: int) -> dict:
    return {"id": f"{_vmss_id(cluster, name)}/virtualMachines/{instance}", "name": f"{name}_{instance}",
            "instanceId": str(instance), "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
            "location": cluster.resource["location"], "tags": _tags(cluster, pool),
            "sku": {"name": pool.get("vmSize", "Standard_DS2_v2"), "tier": "Standard"},
            # All of a pool's nodes on or off the scale set's latest model together (reimage.py, agentpools.py);
            # a guess: the service flips instances one by one during a roll, this model all at its end.
            "properties": {"latestModelApplied": cluster.model_applied.get(pool["name"].lower(), True),
                           "provisioningState": "Succeeded",
                           "vmId": hashlib.sha256(f"{name}/{instance}".encode()).hexdigest()[:32],
                           "osProfile": {"computerName": f"{name}{_b36(instance)}", "adminUsername": "azureuser"},
                           "storageProfile": {"osDisk": _os_disk(pool)}}}


def _run_result(run: node.NodeRun) -> dict:
    out = run.stdout.encode()[-OUTPUT_LIMIT:].decode("utf-8", "replace")
    err = run.stderr.encode()[-OUTPUT_LIMIT:].decode("utf-8", "replace")
    if run.exit_code == 0:
        status = {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                  "message": f"Enable succeeded: \n[stdout]\n{out}\n[stderr]\n{err}"}
    else:
        reason = ("the script timed out" if run.timed_out
                  else f"command terminated with exit status={run.exit_code}")
        status = {"code": "ProvisioningState/failed", "level": "Error", "displayStatus": "Provisioning failed",
                  "message": f"Enable failed: failed to execute command: {reason}\n[stdout]\n{out}\n[stderr]\n{err}"}
    return {"value": [status]}


def register(router: Router, store: Store) -> None:
    def lookup(req: Request):
        err = bad_subscription(req)
        if err:
            return None, [], err
        cluster, pools = scale_sets(store, req.params["nrg"])
        if cluster is None:
            return None, [], rg_not_found(req.params["nrg"])
        return cluster, pools, None

    def find_vmss(req: Request):
        cluster, pools, err = lookup(req)
        if err:
            return None, None, None, err
        for name, pool in pools:
            if name.lower() == req.params["vmss"].lower():
                return cluster, name, pool, None
        return None, None, None, error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/"
                                       f"virtualMachineScaleSets/{req.params['vmss']}' under resource group "
                                       f"'{req.params['nrg']}' was not found.")

    def list_vmss(req: Request) -> Response:
        cluster, pools, err = lookup(req)
        return err or Response(200, {"value": [render_vmss(cluster, n, p) for n, p in pools]})

    def get_vmss(req: Request) -> Response:
        cluster, name, pool, err = find_vmss(req)
        return err or Response(200, render_vmss(cluster, name, pool))

    def list_vms(req: Request) -> Response:
        cluster, name, pool, err = find_vmss(req)
        return err or Response(200, {"value": [render_vm(cluster, name, pool, i) for i in range(_capacity(pool))]})

    def run_command(req: Request) -> Response:
        cluster, name, pool, err = find_vmss(req)
        if err:
            return err
        instance = req.params["instance"]
        if not instance.isdigit() or int(instance) >= _capacity(pool):
            return error(404, "NotFound", f"The entity was not found in this Azure location. (instance {instance})")
        scope = f"{_vmss_id(cluster, name)}/virtualMachines/{instance}"
        if (cluster.props.get("nodeResourceGroupProfile") or {}).get("restrictionLevel") == "ReadOnly":
            action = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action"
            nrg_scope = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{cluster.props['nodeResourceGroup']}"
            return error(403, "AuthorizationFailed",
                         f"The client 'armemu-user' with object id '00000000-0000-0000-0000-0000000000aa' has "
                         f"permission to perform action '{action}' on scope '{scope}'; however, the access is denied "
                         f"because of the deny assignment with name 'AKS Node Resource Group Lockdown' and Id "
                         f"'{_suffix(cluster)}' at scope '{nrg_scope}'.")
        body, err = json_body(req)
        if err:
            return err
        if (body or {}).get("commandId") != "RunShellScript" or _is_windows(pool):
            return error(404, "NotFound", "The entity was not found in this Azure location.")
        if runcommand.busy(store, "vmss", scope.lower()):
            return error(409, "Conflict", _BUSY)
        script = "\n".join(str(line) for line in (body.get("script") or [])) + "\n"
        env = node.proxy_environment(cluster.props.get("httpProxyConfig"))
        record = runcommand.start_run(store, "vmss", scope.lower(), cluster.resource["location"],
                                      ["/bin/sh", "script.sh"], {"script.sh": script.encode()}, env, script)
        url = (f"{req.base_url}/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/"
               f"{record.location}/operations/{record.id}?p=armemu&api-version={req.query.get('api-version', '')}")
        return Response(202, None, {"Azure-AsyncOperation": url, "Location": url + "&monitor=true",
                                    "Retry-After": str(int(store.config["retry_after"]))})

    def operation(req: Request) -> Response:
        record = store.run_commands.get(req.params["id"])
        if record is None or record.kind != "vmss":
            return error(404, "NotFound", f"Operation {req.params['id']} was not found.")
        retry = {"Retry-After": str(int(store.config["retry_after"]))}
        if req.query.get("monitor") == "true":  # the Location: the result once done
            if not record.done:
                return Response(202, None, {"Location": f"{req.base_url}{req.path}?p=armemu&monitor=true&"
                                                        f"api-version={req.query.get('api-version', '')}", **retry})
            assert record.result is not None
            return Response(200, _run_result(record.result))
        body = {"name": record.id, "status": "Succeeded" if record.done else "InProgress",
                "startTime": arm_time(record.started)}
        if record.done:
            assert record.result is not None
            body.update(endTime=arm_time(record.finished), properties={"output": _run_result(record.result)})
            return Response(200, body)
        return Response(200, body, retry)

    router.add("GET", NRG, list_vmss)
    router.add("GET", NRG + "/{vmss}", get_vmss)
    router.add("GET", NRG + "/{vmss}/virtualMachines", list_vms)
    router.add("POST", NRG + "/{vmss}/virtualMachines/{instance}/runCommand", run_command)
    router.add("GET", _OPS, operation)
