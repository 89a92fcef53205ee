"""The harness works: the stock az (no extension) runs create/update/show/nodepool/upgrade against the emulator."""
from __future__ import annotations

import base64
import inspect
import json

from azure.cli.command_modules.acs import custom as acs_custom

from tests.armemu.fixtures import load_data

MC = "/providers/Microsoft.ContainerService/managedClusters/"
AKS_ADDED = {"konnectivity", "168.63.129.16", "169.254.169.254", "10.244.0.0/16", "10.0.0.0/16",
             "localhost", "127.0.0.1"}


def seed_recorded_cluster(emu, name="c1", **kw):
    return emu.seed_cluster("rg1", name, http_proxy_config=load_data("httpproxyconfig.json"), **kw)


def arm_writes(emu, method=None, suffix=""):
    return [e for e in emu.writes() if (method is None or e["method"] == method) and e["path"].endswith(suffix)]


def test_create_with_recorded_proxy_config(az_stock, emu, recorded_data):
    cfg = json.loads((recorded_data / "httpproxyconfig.json").read_text())
    r = az_stock.az("aks", "create", "-g", "rg1", "-n", "c1", "--ssh-key-value", az_stock.ssh_key,
                    "--http-proxy-config", recorded_data / "httpproxyconfig.json", "-o", "json")
    assert r.ok, r
    out = r.json
    assert out["provisioningState"] == "Succeeded"
    hpc = out["httpProxyConfig"]
    assert hpc["httpProxy"] == cfg["httpProxy"] and hpc["httpsProxy"] == cfg["httpsProxy"]
    assert hpc["trustedCa"] == cfg["trustedCa"]
    assert AKS_ADDED | {out["fqdn"]} <= set(hpc["noProxy"])
    assert out["fqdn"].startswith(out["dnsPrefix"] + "-") and out["fqdn"].endswith(".hcp.westus2.azmk8s.io")
    assert out["nodeResourceGroup"] == "MC_rg1_c1_westus2"
    assert out["identity"]["principalId"] and out["identityProfile"]["kubeletidentity"]["objectId"]

    journal = [e for e in emu.journal() if e["kind"] == "arm"]
    calls = [(e["method"], e["status"]) for e in journal]
    assert calls[0] == ("GET", 404) and journal[0]["response"]["error"]["code"] == "ResourceNotFound"
    put = next(e for e in journal if e["method"] == "PUT")
    assert put["status"] == 201 and "azure-asyncoperation" in put["response_headers"]
    assert put["response_headers"]["retry-after"] == "1" and "location" not in put["response_headers"]
    assert put["response"]["properties"]["provisioningState"] == "Creating"
    raw = put["response"]["properties"]["httpProxyConfig"]
    assert raw["effectiveNoProxy"] == raw["noProxy"]  # az's model drops effectiveNoProxy; the wire has it
    assert put["body"]["properties"]["httpProxyConfig"] == cfg
    polls = [e for e in journal if "/operations/" in e["path"]]
    assert [p["response"]["status"] for p in polls][-1] == "Succeeded"
    assert journal[-1]["method"] == "GET" and journal[-1]["path"].endswith(MC + "c1")
    assert len([e for e in journal if e["write"]]) == 1


def test_update_sends_one_canonical_put(az_stock, emu, recorded_data):
    seed_recorded_cluster(emu)
    update = json.loads((recorded_data / "httpproxyconfig_update.json").read_text())
    r = az_stock.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                    recorded_data / "httpproxyconfig_update.json", "-o", "json")
    assert r.ok, r
    assert r.json["httpProxyConfig"]["trustedCa"] == update["trustedCa"]
    writes = emu.writes()
    assert [(w["method"], w["status"]) for w in writes] == [("PUT", 200)]
    sent = writes[0]["body"]["properties"]["httpProxyConfig"]
    assert sent == update  # exactly the file: no effectiveNoProxy, noProxy not the grown list
    assert writes[0]["response"]["properties"]["provisioningState"] == "Updating"
    assert "azure-asyncoperation" in writes[0]["response_headers"]
    stored = emu.cluster_state("rg1", "c1")["stored"]["properties"]
    assert stored["provisioningState"] == "Succeeded"
    # the service keeps the update's entries first and appends its own
    assert stored["httpProxyConfig"]["noProxy"][:len(update["noProxy"])] == update["noProxy"]
    assert AKS_ADDED | {"10.224.0.0/12"} <= set(stored["httpProxyConfig"]["noProxy"])


def test_show_and_nodepool_list(az_stock, emu):
    seed_recorded_cluster(emu, pools=[{"name": "nodepool1", "mode": "System"}, {"name": "user1", "count": 2}])
    show = az_stock.az("aks", "show", "-g", "rg1", "-n", "c1", "-o", "json")
    assert show.ok, show
    assert [p["name"] for p in show.json["agentPoolProfiles"]] == ["nodepool1", "user1"]
    assert "konnectivity" in show.json["httpProxyConfig"]["noProxy"]
    pools = az_stock.az("aks", "nodepool", "list", "-g", "rg1", "--cluster-name", "c1", "-o", "json")
    assert pools.ok, pools
    assert sorted(p["name"] for p in pools.json) == ["nodepool1", "user1"]
    listing = next(e for e in emu.journal() if e["path"].endswith("/agentPools"))
    assert set(listing["response"]) == {"value"}
    assert listing["response"]["value"][0]["id"].startswith("/subscriptions/00000000-0000-0000-0000-000000000000"
                                                            "/resourcegroups/rg1/")
    assert emu.writes() == []


def test_nodepool_upgrade_node_image_only(az_stock, emu):
    seed_recorded_cluster(emu)
    emu.configure(pool_upgrade_seconds=1.5)
    before = emu.cluster_state("rg1", "c1")
    old, latest = before["stored"]["properties"]["agentPoolProfiles"][0]["nodeImageVersion"], \
        before["latestNodeImages"]["nodepool1"]
    assert old != latest
    r = az_stock.az("aks", "nodepool", "upgrade", "-g", "rg1", "--cluster-name", "c1", "-n", "nodepool1",
                    "--node-image-only", "-o", "json")
    assert r.ok, r
    post = arm_writes(emu, "POST", "/upgradeNodeImageVersion")
    assert len(post) == 1 and post[0]["status"] == 202
    assert {"azure-asyncoperation", "location", "retry-after"} <= set(post[0]["response_headers"])
    assert post[0]["response"]["properties"]["provisioningState"] == "UpgradingNodeImageVersion"
    assert post[0]["response"]["properties"]["nodeImageVersion"] == old
    final = [e for e in emu.journal() if "/operationresults/" in e["path"]]
    assert final and final[-1]["status"] in (200, 204)
    show = az_stock.az("aks", "nodepool", "show", "-g", "rg1", "--cluster-name", "c1", "-n", "nodepool1",
                       "-o", "json")
    assert show.json["nodeImageVersion"] == latest and show.json["provisioningState"] == "Succeeded"


def test_cluster_upgrade_node_image_only_skips_machines_pool(az_stock, emu):
    seed_recorded_cluster(emu, pools=[{"name": "nodepool1", "mode": "System"}, {"name": "user1"},
                                      {"name": "machines1", "mode": "Machines"}])
    r = az_stock.az("aks", "upgrade", "-g", "rg1", "-n", "c1", "--node-image-only", "--yes", "-o", "json")
    assert r.ok, r
    posts = arm_writes(emu, "POST")
    # Stock az skips Machines-mode pools only in newer releases (not 2.85, which the suite also runs on).
    skips_machines = "CONST_NODEPOOL_MODE_MACHINES" in inspect.getsource(acs_custom.aks_upgrade)
    upgraded = ["nodepool1", "user1"] if skips_machines else ["machines1", "nodepool1", "user1"]
    assert sorted(p["path"].split("/")[-2] for p in posts) == upgraded
    states = {p["name"]: p["provisioningState"] for p in r.json["agentPoolProfiles"]}
    assert states == {name: "UpgradingNodeImageVersion" if name in upgraded else "Succeeded"
                      for name in ("nodepool1", "user1", "machines1")}
    emu.finish_operations()


def test_second_update_while_running_gets_409(az_stock, emu, recorded_data):
    seed_recorded_cluster(emu)
    emu.configure(cluster_update_seconds=30)
    first = az_stock.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                        recorded_data / "httpproxyconfig_update.json", "--no-wait")
    assert first.ok, first
    second = az_stock.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                         recorded_data / "httpproxyconfig.json")
    assert second.rc != 0
    assert "(OperationNotAllowed) Operation is not allowed because there's an in progress update managed " \
           "cluster operation" in second.stderr
    assert [(w["method"], w["status"]) for w in emu.writes()] == [("PUT", 200), ("PUT", 409)]
    emu.finish_operations()


def test_stock_create_with_raw_pem_trusted_ca_fails_in_the_service(az_stock, emu, recorded_data, tmp_path):
    cfg = json.loads((recorded_data / "httpproxyconfig.json").read_text())
    cfg["trustedCa"] = base64.b64decode(cfg["trustedCa"]).decode()  # the raw PEM: a common mistake
    bad = tmp_path / "raw-pem.json"
    bad.write_text(json.dumps(cfg))
    r = az_stock.az("aks", "create", "-g", "rg1", "-n", "c2", "--ssh-key-value", az_stock.ssh_key,
                    "--http-proxy-config", bad, "-o", "json")
    assert r.rc != 0
    assert "(HTTPProxyTrustedCAPEMDecodeFailure) failed to decode HTTPProxyConfig.TrustedCA to PEM after " \
           "base64 decoding." in r.stderr
    writes = emu.writes()
    assert [(w["method"], w["status"]) for w in writes] == [("PUT", 400)]  # the stock az only finds out here
    assert emu.journal()[-1]["status"] == 400


def test_extension_session_has_the_wheel_installed(az_ext, emu):
    names = [e["name"] for e in az_ext.extensions()]
    assert "aksproxy" in names
    assert az_ext.extension_dir != az_ext.config_dir and (az_ext.extension_dir / "aksproxy").is_dir()
    assert emu.writes() == []


def test_create_in_own_subnet_adds_the_vnet_space(az_stock, emu, recorded_data):
    subnet = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/"
              "Microsoft.Network/virtualNetworks/vnet1/subnets/aks-subnet")
    assert emu.seed_vnet("00000000-0000-0000-0000-000000000000", "rg1", "vnet1", ["10.42.0.0/16"],
                         {"aks-subnet": "10.42.1.0/24"}) == [subnet]
    r = az_stock.az("aks", "create", "-g", "rg1", "-n", "c1", "--ssh-key-value", az_stock.ssh_key,
                    "--vnet-subnet-id", subnet, "--http-proxy-config", recorded_data / "httpproxyconfig.json",
                    "--yes", "-o", "json")
    assert r.ok, r
    assert "10.42.0.0/16" in r.json["httpProxyConfig"]["noProxy"]
    assert "10.224.0.0/12" not in r.json["httpProxyConfig"]["noProxy"]  # not the managed VNet's space
    grant = arm_writes(emu, "PUT")[-1]  # az grants the cluster identity Network Contributor on the subnet
    assert "/Microsoft.Authorization/roleAssignments/" in grant["path"] and grant["status"] == 201
    assert not [e for e in emu.journal() if e["unhandled"]]
