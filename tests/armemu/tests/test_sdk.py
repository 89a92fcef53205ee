"""The Azure SDK (azure-mgmt-containerservice, as az uses it) completes its LROs against the emulator."""
from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient


class _Token:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("armemu-sdk-token", int(time.time()) + 3600)


@pytest.fixture
def sdk(emulator, emu):
    return ContainerServiceClient(_Token(), emulator.subscription_id, base_url=emulator.arm_url,
                                  credential_scopes=["https://management.azure.com/.default"],
                                  connection_verify=emulator.ca_path)


def test_begin_upgrade_node_image_version_result(sdk, emu):
    emu.seed_cluster("rg1", "c1", pools=[{"name": "nodepool1", "mode": "System"}])
    emu.configure(pool_upgrade_seconds=1)
    poller = sdk.agent_pools.begin_upgrade_node_image_version("rg1", "c1", "nodepool1")
    assert poller.result(timeout=30) is None and poller.status() == "Succeeded"
    pool = sdk.agent_pools.get("rg1", "c1", "nodepool1")
    assert pool.node_image_version == "AKSUbuntu-2204gen2containerd-202601.10.0"
    assert pool.provisioning_state == "Succeeded"
    paths = [e["path"].rsplit("/", 2)[-2] for e in emu.journal() if e["kind"] == "arm"]
    assert paths[0] == "nodepool1" and "operations" in paths and paths[-2] == "operationresults"


def test_begin_create_or_update_and_failed_operation(sdk, emu):
    emu.seed_cluster("rg1", "c1")
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=0.5)
    mc = sdk.managed_clusters.get("rg1", "c1")
    mc.http_proxy_config = {"httpProxy": "http://proxy.example:3128/", "noProxy": ["localhost"]}
    result = sdk.managed_clusters.begin_create_or_update("rg1", "c1", mc).result(timeout=30)
    assert result.provisioning_state == "Succeeded"
    assert "konnectivity" in result.http_proxy_config.no_proxy
    emu.add_fault("operation_result", method="POST", path_regex="upgradeNodeImageVersion$", status="Failed",
                  error={"code": "ReimageFailed", "message": "boom"})
    with pytest.raises(HttpResponseError) as raised:
        sdk.agent_pools.begin_upgrade_node_image_version("rg1", "c1", "nodepool1").result(timeout=30)
    assert "ReimageFailed" in str(raised.value)
