"""The emulator's run commands through the SDKs az uses (azure-mgmt-compute 2024-11-01, azure-mgmt-containerservice
with az's own RunCommandLocationPolling): shapes, the 4,096-byte output tail, one script at a time, lockdown."""
from __future__ import annotations

import base64
import io
import time
import zipfile

import pytest
from azure.cli.command_modules.acs._polling import RunCommandLocationPolling
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import RunCommandRequest
from azure.mgmt.core.polling.arm_polling import ARMPolling

NRG = "MC_rg1_c1_westus2"


class _Token:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("armemu-sdk-token", int(time.time()) + 3600)


def _kwargs(emulator):
    return {"base_url": emulator.arm_url, "credential_scopes": ["https://management.azure.com/.default"],
            "connection_verify": emulator.ca_path}


@pytest.fixture
def compute(emulator, emu):
    return ComputeManagementClient(_Token(), emulator.subscription_id, api_version="2024-11-01", **_kwargs(emulator))


@pytest.fixture
def aks(emulator, emu):
    return ContainerServiceClient(_Token(), emulator.subscription_id, **_kwargs(emulator))


def seed(emu, **properties):
    emu.seed_cluster("rg1", "c1", pools=[{"name": "nodepool1", "count": 2, "mode": "System"},
                                         {"name": "win", "count": 1, "osType": "Windows"},
                                         {"name": "stopped", "count": 3, "powerState": {"code": "Stopped"}}],
                     properties=properties)


def run(compute, vmss, instance, lines):
    return compute.virtual_machine_scale_set_vms.begin_run_command(
        NRG, vmss, instance, {"commandId": "RunShellScript", "script": lines})


def test_node_resource_group_holds_one_scale_set_per_pool_with_named_instances(compute, emu):
    seed(emu)
    sets = {s.tags["aks-managed-poolName"]: s for s in compute.virtual_machine_scale_sets.list(NRG)}
    assert set(sets) == {"nodepool1", "win", "stopped"}
    linux = sets["nodepool1"]
    assert linux.name.startswith("aks-nodepool1-") and linux.name.endswith("-vmss") and linux.sku.capacity == 2
    assert linux.virtual_machine_profile.storage_profile.os_disk.os_type == "Linux"
    assert sets["win"].virtual_machine_profile.storage_profile.os_disk.os_type == "Windows"
    vms = list(compute.virtual_machine_scale_set_vms.list(NRG, linux.name))
    assert [(v.instance_id, v.os_profile.computer_name) for v in vms] == [
        ("0", f"{linux.name}000000"), ("1", f"{linux.name}000001")]
    assert list(compute.virtual_machine_scale_set_vms.list(NRG, sets["stopped"].name)) == []
    with pytest.raises(HttpResponseError) as missing:
        list(compute.virtual_machine_scale_sets.list("MC_nope"))
    assert missing.value.status_code == 404


def test_run_command_returns_the_last_4096_bytes_of_stdout_and_stderr(compute, emu):
    seed(emu)
    vmss = next(iter(compute.virtual_machine_scale_sets.list(NRG))).name
    script = ["echo begin-marker", "head -c 6000 /dev/zero | tr '\\0' x", "echo", "echo end-marker",
              "echo to-stderr >&2", "pwd; env | sort | grep -i proxy || true"]
    result = run(compute, vmss, "0", script).result(timeout=60)
    (status,) = result.value
    assert (status.code, status.level, status.display_status) == ("ProvisioningState/succeeded", "Info",
                                                                   "Provisioning succeeded")
    stdout = status.message.split("[stdout]\n", 1)[1].split("\n[stderr]\n", 1)[0]
    assert len(stdout.encode()) <= 4096 and "end-marker" in stdout and "begin-marker" not in stdout
    assert status.message.endswith("\n[stderr]\nto-stderr\n")  # as in Azure's docs: no newline added
    (entry,) = [e for e in emu.journal() if e["method"] == "POST"]
    assert entry["status"] == 202 and "monitor=true" in entry["response_headers"]["location"]
    assert entry["response_headers"]["azure-asyncoperation"].split("?")[0].endswith(
        f"/operations/{entry['response_headers']['location'].split('/operations/')[1].split('?')[0]}")


def test_the_node_has_the_current_proxy_variables_and_runs_one_script_at_a_time(compute, emu):
    seed(emu, httpProxyConfig={"httpProxy": "http://10.9.9.9:3128/", "noProxy": ["localhost"]})
    vmss = next(iter(compute.virtual_machine_scale_sets.list(NRG))).name
    slow = run(compute, vmss, "0", ["sleep 3", "echo HTTP_PROXY=$HTTP_PROXY no_proxy=$no_proxy"])
    with pytest.raises(HttpResponseError) as busy:
        run(compute, vmss, "0", ["true"]).result(timeout=30)
    assert busy.value.status_code == 409 and "in progress" in str(busy.value)
    assert run(compute, vmss, "1", ["echo other node"]).result(timeout=30).value[0].message.count("other node") == 1
    message = slow.result(timeout=60).value[0].message
    assert "HTTP_PROXY=http://10.9.9.9:3128/ no_proxy=localhost" in message


def test_failing_script_and_lockdown(compute, emu):
    seed(emu)
    vmss = next(iter(compute.virtual_machine_scale_sets.list(NRG))).name
    (status,) = run(compute, vmss, "0", ["echo half", "exit 3"]).result(timeout=60).value
    assert status.code == "ProvisioningState/failed" and "exit status=3" in status.message
    emu.seed_cluster("rg1", "c1", properties={"nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"}})
    vmss = next(iter(compute.virtual_machine_scale_sets.list(NRG))).name  # reads stay allowed
    with pytest.raises(HttpResponseError) as denied:
        run(compute, vmss, "0", ["true"])
    assert denied.value.status_code == 403 and denied.value.error.code == "AuthorizationFailed"
    assert "deny assignment" in denied.value.error.message


def test_aks_run_command_as_az_aks_command_invoke_polls_it(aks, emu):
    seed(emu)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.sh", "echo hello from $(basename $(pwd) | cut -c1-12)\nsleep 1\n")
    request = RunCommandRequest(command="bash hello.sh; echo oops >&2; exit 4",
                                context=base64.b64encode(buffer.getvalue()).decode())
    poller = aks.managed_clusters.begin_run_command(
        "rg1", "c1", request, polling=ARMPolling(1, lro_options={"final-state-via": "location"},
                                                 lro_algorithms=[RunCommandLocationPolling()]))
    result = poller.result(timeout=60)
    assert (result.provisioning_state, result.exit_code) == ("Succeeded", 4)
    assert result.logs == "hello from armemu-node-\noops\n" and result.finished_at >= result.started_at
    polls = [e for e in emu.journal() if "/commandResults/" in e["path"]]
    assert polls[0]["status"] == 202 and polls[0]["response"]["properties"]["provisioningState"] == "Running"
    assert polls[-1]["status"] == 200
    with pytest.raises(HttpResponseError) as empty:
        aks.managed_clusters.begin_run_command("rg1", "c1", RunCommandRequest(command=" ")).result(timeout=30)
    assert empty.value.status_code == 400


def test_stock_az_runs_both_run_commands_against_the_emulator(az_stock, emu):
    """`az vmss run-command invoke` (aaz, api-version 2024-11-01) and `az aks command invoke` (core, with its own
    polling) complete against the emulator and print the node's output."""
    seed(emu)
    vmss = az_stock.az("vmss", "list", "-g", NRG, "--query", "[?tags.\"aks-managed-poolName\"=='nodepool1'].name",
                       "-o", "tsv")
    assert vmss.ok, vmss
    r = az_stock.az("vmss", "run-command", "invoke", "-g", NRG, "-n", vmss.stdout.strip(), "--instance-id", "1",
                    "--command-id", "RunShellScript", "--scripts", "echo from-vmss-node", "-o", "json")
    assert r.ok, r
    assert r.json["value"][0]["message"] == "Enable succeeded: \n[stdout]\nfrom-vmss-node\n\n[stderr]\n"
    r = az_stock.az("aks", "command", "invoke", "-g", "rg1", "-n", "c1", "--command", "echo from-aks-pod")
    assert r.ok, r
    assert "from-aks-pod" in r.stdout and "exitcode=0" in r.stdout.replace(" ", "").lower()
