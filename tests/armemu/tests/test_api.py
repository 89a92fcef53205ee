"""The emulator's ARM behaviour over plain HTTP: the service's own checks, conflicts, pools, LROs, journal, control."""
from __future__ import annotations

import base64
import concurrent.futures
import copy
import time

import pytest

from tests.armemu.fixtures import CREATE, MC, SUB, load_data, local


def create_body(proxy: dict | None = None, pools: list | None = None) -> dict:
    body = copy.deepcopy(CREATE)
    if proxy is not None:
        body["properties"]["httpProxyConfig"] = proxy
    if pools is not None:
        body["properties"]["agentPoolProfiles"] = pools
    return body


@pytest.mark.parametrize(("proxy", "code", "message"), [
    ({"noProxy": ["localhost"]}, "HTTPProxyConfigInputError", "HTTPProxy and HTTPSProxy both cannot be empty."),
    ({"httpProxyConfig": {"httpProxy": "http://p:3128/"}}, "HTTPProxyConfigInputError",
     "HTTPProxy and HTTPSProxy both cannot be empty."),  # the wrapped-object mistake: keys dropped
    ({"httpProxy": "http://p:3128/", "trustedCa": "not base64!"}, "HTTPProxyTrustedCAPEMDecodeFailure",
     "failed to decode HTTPProxyConfig.TrustedCA to PEM after base64 decoding."),
    ({"httpProxy": "http://p:3128/", "trustedCa": base64.b64encode(b"just text").decode()},
     "HTTPProxyTrustedCAPEMDecodeFailure", "failed to decode HTTPProxyConfig.TrustedCA to PEM after base64 decoding."),
    ({"httpProxy": "http://p:notaport/"}, "HTTPProxyWrongUrlError",
     "The url http://p:notaport/ is not correct for the property HTTPProxyConfig.HTTPProxy"),
    ({"httpProxy": "http://p:3128/", "httpsProxy": "proxy.example.com:3129"}, "HTTPProxyWrongUrlError",
     "The url proxy.example.com:3129 is not correct for the property HTTPProxyConfig.HTTPSProxy"),
])
def test_service_side_proxy_checks(emu, proxy, code, message):
    status, _, body = emu.arm("PUT", MC + "c1", create_body(proxy))
    assert (status, body) == (400, {"error": {"code": code, "message": message}})
    assert emu.arm("GET", MC + "c1")[0] == 404


def test_unknown_keys_are_ignored_and_enabled_kept(emu):
    cfg = load_data("httpproxyconfig.json")
    sent = {"httpProxy": cfg["httpProxy"], "trustedCA": cfg["trustedCa"], "no_proxy": ["x"], "enabled": False}
    status, headers, body = emu.arm("PUT", MC + "c1", create_body(sent))
    assert status == 201 and headers["retry-after"] == "1" and "location" not in headers
    hpc = body["properties"]["httpProxyConfig"]
    assert "trustedCa" not in hpc and "trustedCA" not in hpc and "no_proxy" not in hpc
    assert hpc["enabled"] is False and hpc["httpProxy"] == cfg["httpProxy"]
    assert hpc["noProxy"] == hpc["effectiveNoProxy"] and "konnectivity" in hpc["noProxy"]
    stored = emu.cluster_state("rg1", "c1")["stored"]["properties"]["httpProxyConfig"]
    assert stored == {"httpProxy": cfg["httpProxy"], "enabled": False, "noProxy": hpc["noProxy"]}


def test_windows_pool_with_proxy_is_refused(emu):
    pools = [{"name": "nodepool1", "mode": "System"}, {"name": "win1", "osType": "Windows"}]
    status, _, body = emu.arm("PUT", MC + "c1", create_body({"httpProxy": "http://p:3128/"}, pools))
    assert status == 400 and "HTTPProxyConfig is not supported or OSType" in body["error"]["message"]
    # a seeded Windows pool on a proxy cluster: its node image upgrade is refused, the Linux one is not
    emu.seed_cluster("rg1", "c2", pools=pools, http_proxy_config={"httpProxy": "http://p:3128/"})
    win = emu.arm("POST", MC + "c2/agentPools/win1/upgradeNodeImageVersion")
    assert win[0] == 400 and "OSType" in win[2]["error"]["message"]
    assert emu.arm("POST", MC + "c2/agentPools/nodepool1/upgradeNodeImageVersion")[0] == 202
    new_pool = emu.arm("PUT", MC + "c2/agentPools/win2", {"properties": {"osType": "Windows", "count": 1}})
    assert new_pool[0] == 400 and "agent pool 'win2' has OSType Windows" in new_pool[2]["error"]["message"]


def test_seeded_pool_kinds_are_representable(emu):
    out = emu.seed_cluster("rg1", "c1", pools=[
        {"name": "nodepool1", "mode": "System"},
        {"name": "vmas1", "type": "AvailabilitySet"},
        {"name": "mach1", "mode": "Machines"},
        {"name": "win1", "osType": "Windows", "nodeImageVersion": "AKSWindows-2022-containerd-old",
         "latestNodeImageVersion": "AKSWindows-2022-containerd-new", "provisioningState": "Failed"},
    ])
    pools = {p["name"]: p for p in out["properties"]["agentPoolProfiles"]}
    assert pools["vmas1"]["type"] == "AvailabilitySet" and pools["mach1"]["mode"] == "Machines"
    assert pools["win1"]["osSKU"] == "Windows2022" and pools["win1"]["provisioningState"] == "Failed"
    status, _, profile = emu.arm("GET", MC + "c1/agentPools/win1/upgradeProfiles/default")
    assert status == 200 and profile["properties"]["latestNodeImageVersion"] == "AKSWindows-2022-containerd-new"
    state = emu.cluster_state("rg1", "c1")
    assert state["latestNodeImages"]["nodepool1"] == "AKSUbuntu-2204gen2containerd-202601.10.0"
    assert state["stored"]["properties"]["agentPoolProfiles"][0]["nodeImageVersion"] == \
        "AKSUbuntu-2204gen2containerd-202512.01.0"


def test_conflicts_between_cluster_and_pool_operations(emu):
    emu.seed_cluster("rg1", "c1", pools=[{"name": "nodepool1", "mode": "System"}, {"name": "user1"}])
    emu.configure(cluster_update_seconds=30, pool_upgrade_seconds=30)
    assert emu.arm("POST", MC + "c1/agentPools/nodepool1/upgradeNodeImageVersion")[0] == 202
    assert emu.arm("POST", MC + "c1/agentPools/user1/upgradeNodeImageVersion")[0] == 202  # other pool: fine
    again = emu.arm("POST", MC + "c1/agentPools/nodepool1/upgradeNodeImageVersion")
    assert again[0] == 409 and again[2]["error"]["code"] == "OperationNotAllowed"
    assert "Operation is not allowed because there's an in progress upgrade node image version agent pool " \
           "operation" in again[2]["error"]["message"]
    cluster_put = emu.arm("PUT", MC + "c1", CREATE)
    assert cluster_put[0] == 409
    emu.finish_operations()
    assert emu.arm("PUT", MC + "c1", CREATE)[0] == 200
    assert emu.arm("POST", MC + "c1/agentPools/user1/upgradeNodeImageVersion")[0] == 409
    emu.finish_operations()


def test_operation_status_and_result_endpoints(emu):
    emu.seed_cluster("rg1", "c1")
    emu.configure(pool_upgrade_seconds=0.6)
    status, headers, body = emu.arm("POST", MC + "c1/agentPools/nodepool1/upgradeNodeImageVersion")
    assert status == 202 and set(body) == {"id", "name", "type", "properties"}
    assert body["id"].startswith(SUB + "/resourcegroups/rg1/")
    running = emu.arm("GET", local(headers["location"]), api_version=None)
    assert running[0] == 202 and running[1]["retry-after"] == "1" and "location" in running[1]
    op = emu.arm("GET", local(headers["azure-asyncoperation"]), api_version=None)[2]
    assert set(op) == {"name", "status", "startTime"} and op["status"] == "InProgress"
    time.sleep(0.7)
    op = emu.arm("GET", local(headers["azure-asyncoperation"]), api_version=None)[2]
    assert op["status"] == "Succeeded" and op["endTime"].endswith("Z")
    assert emu.arm("GET", local(headers["location"]), api_version=None)[0] == 204
    pool = emu.arm("GET", MC + "c1/agentPools/nodepool1")[2]["properties"]
    assert pool["nodeImageVersion"] == "AKSUbuntu-2204gen2containerd-202601.10.0"
    assert pool["provisioningState"] == "Succeeded"
    assert emu.arm("GET", SUB + "/providers/Microsoft.ContainerService/locations/westus2/operations/"
                              "00000000-1111-2222-3333-444444444444", api_version="2016-03-30")[0] == 404


def test_agent_pool_put_delete_and_cluster_delete(emu):
    emu.seed_cluster("rg1", "c1")
    emu.configure(pool_put_seconds=0.2, cluster_delete_seconds=0.2)
    status, headers, body = emu.arm("PUT", MC + "c1/agentPools/user2", {"properties": {"count": 2, "mode": "User"}})
    assert status == 201 and body["properties"]["provisioningState"] == "Creating"
    assert "azure-asyncoperation" in headers
    assert emu.arm("PUT", MC + "c1/agentPools/Bad_Name", {"properties": {}})[0] == 400
    time.sleep(0.3)
    listing = emu.arm("GET", MC + "c1/agentPools")[2]
    assert [p["properties"]["provisioningState"] for p in listing["value"]] == ["Succeeded", "Succeeded"]
    status, headers, _ = emu.arm("DELETE", MC + "c1/agentPools/user2")
    assert status == 202 and "location" in headers
    time.sleep(0.3)
    assert emu.arm("GET", MC + "c1/agentPools/user2")[0] == 404
    status, headers, _ = emu.arm("DELETE", MC + "c1")
    assert status == 202 and {"azure-asyncoperation", "location", "retry-after"} <= set(headers)
    assert emu.arm("GET", MC + "c1")[2]["properties"]["provisioningState"] == "Deleting"
    time.sleep(0.3)
    assert emu.arm("GET", MC + "c1")[0] == 404
    assert emu.arm("DELETE", MC + "c1")[0] == 204


def test_arm_basics(emu):
    assert emu.request("GET", MC + "c1?api-version=2026-06-01")[0] == 401  # no bearer token
    assert emu.arm("GET", SUB + "/resourcegroups/nope")[0] == 404
    assert emu.arm("HEAD", SUB + "/resourcegroups/rg1")[0] == 204
    assert emu.arm("PUT", SUB + "/resourcegroups/rg2", {"location": "eastus"})[0] == 201
    assert emu.arm("GET", SUB + "/resourceGroups/nope/providers/Microsoft.ContainerService/managedClusters/c1"
                   )[2]["error"]["code"] == "ResourceGroupNotFound"
    names = [g["name"] for g in emu.arm("GET", SUB + "/resourcegroups")[2]["value"]]
    assert names == ["rg1", "rg2"]
    versions = emu.arm("GET", SUB + "/providers/Microsoft.ContainerService/locations/westus2/kubernetesVersions")
    assert any(v.get("isDefault") for v in versions[2]["values"])
    emu.seed_cluster("rg2", "c9", location="eastus")
    assert [c["name"] for c in emu.arm("GET", SUB + "/providers/Microsoft.ContainerService/managedClusters"
                                       )[2]["value"]] == ["c9"]
    profile = emu.arm("GET", SUB + "/resourceGroups/rg2/providers/Microsoft.ContainerService/managedClusters/c9"
                                   "/upgradeProfiles/default")[2]
    assert profile["properties"]["controlPlaneProfile"]["kubernetesVersion"] == "1.33.5"
    unknown = emu.arm("GET", SUB + "/providers/Microsoft.Nope/things")
    assert unknown[0] == 404 and emu.journal()[-1]["unhandled"] is True


def test_journal_and_reset(emu):
    emu.seed_cluster("rg1", "c1")
    mark = emu.journal_last()
    emu.arm("GET", MC + "c1")
    emu.arm("PUT", MC + "c1", CREATE, headers={"CommandName": "aks update"})
    entries = emu.journal(since=mark)
    assert [(e["method"], e["write"], e["status"]) for e in entries] == [("GET", False, 200), ("PUT", True, 200)]
    put = entries[1]
    assert put["body"] == CREATE and put["bearer"] is True and put["headers"]["commandname"] == "aks update"
    assert put["t_end"] >= put["t"] > 0 and put["wall"].endswith("Z") and put["seq"] == mark + 2
    emu.clear_journal()
    assert emu.journal() == [] and emu.journal_last() == mark + 2
    emu.configure(cluster_create_seconds=9)
    emu.add_fault("delay", seconds=0)
    emu.reset()
    assert emu.arm("GET", MC + "c1")[0] == 404
    assert emu.config()["cluster_create_seconds"] == 1.0 and emu.faults() == []


def test_concurrent_polling_is_served(emu):
    emu.seed_cluster("rg1", "c1")
    emu.configure(pool_upgrade_seconds=1)
    _, headers, _ = emu.arm("POST", MC + "c1/agentPools/nodepool1/upgradeNodeImageVersion")

    def poll(_):
        return emu.arm("GET", local(headers["azure-asyncoperation"]), api_version=None)[0]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(poll, range(200)))
    assert codes == [200] * 200


def test_lists_page_with_next_link(az_stock, emu):
    emu.seed_cluster("rg1", "c1", pools=[{"name": f"pool{i}", "mode": "System"} for i in range(5)])
    emu.configure(page_size=2)
    first = emu.arm("GET", MC + "c1/agentPools")[2]
    assert len(first["value"]) == 2 and "$skiptoken=2" in first["nextLink"]
    r = az_stock.az("aks", "nodepool", "list", "-g", "rg1", "--cluster-name", "c1", "--query", "[].name", "-o", "json")
    assert r.json == [f"pool{i}" for i in range(5)]
    assert len([e for e in emu.journal() if e["path"].endswith("/agentPools")]) == 1 + 3
