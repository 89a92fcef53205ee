"""The emulator's Microsoft.Network VNets over plain HTTP, and the noProxy entries AKS writes from the cluster's
network: the managed VNet's 10.224.0.0/12, a custom VNet's address space (not the subnet's), pod CIDRs only where
pods are not on the node subnet, service CIDRs, the private FQDN; refused reads; VNets in other subscriptions."""
from __future__ import annotations

import copy

from tests.armemu.fixtures import CREATE, MC, SUB
from tests.armemu.network import UNSEEDED_VNET_PREFIX

SUB_ID = SUB.split("/")[-1]
HUB_SUB = "11111111-2222-3333-4444-555555555555"
NET_API = "2025-07-01"  # what `az network vnet show` sends in az 2.91
PROXY = {"httpProxy": "http://proxy.corp.example:3128/", "noProxy": ["localhost", ".corp.example"]}


def vnet_path(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{name}"


def no_proxy(cluster: dict) -> list:
    hpc = cluster["properties"]["httpProxyConfig"]
    assert hpc["effectiveNoProxy"] == hpc["noProxy"]
    return hpc["noProxy"]


def test_a_seeded_vnet_reads_in_the_network_sdk_shape(emu):
    ids = emu.seed_vnet(SUB_ID, "net", "hub", ["10.42.0.0/16", "10.43.0.0/16"],
                        {"nodes": "10.42.1.0/24", "more": "10.43.0.0/24"})
    path = vnet_path(SUB_ID, "net", "hub")
    assert ids == [f"{path}/subnets/nodes", f"{path}/subnets/more"]
    for api in (NET_API, "2022-01-01"):
        status, _, body = emu.arm("GET", path, api_version=api)
        assert status == 200
        assert (body["id"], body["name"], body["type"], body["location"]) == \
            (path, "hub", "Microsoft.Network/virtualNetworks", "westus2")
        assert body["etag"].startswith('W/"')
        props = body["properties"]
        assert props["provisioningState"] == "Succeeded"
        assert props["addressSpace"]["addressPrefixes"] == ["10.42.0.0/16", "10.43.0.0/16"]
        assert [(s["id"], s["properties"]["addressPrefix"]) for s in props["subnets"]] == \
            [(ids[0], "10.42.1.0/24"), (ids[1], "10.43.0.0/24")]
    status, _, subnet = emu.arm("GET", ids[0], api_version=NET_API)
    assert (status, subnet["name"], subnet["properties"]["addressPrefix"]) == (200, "nodes", "10.42.1.0/24")
    status, _, listed = emu.arm("GET", path + "/subnets", api_version=NET_API)
    assert status == 200 and [s["name"] for s in listed["value"]] == ["nodes", "more"]
    reads = [e for e in emu.journal() if "/Microsoft.Network/" in e["path"]]
    assert [(e["method"], e["status"], e["write"]) for e in reads] == [("GET", 200, False)] * 4


def test_missing_vnets_answer_like_arm(emu):
    emu.seed_vnet(SUB_ID, "net", "hub", ["10.42.0.0/16"], {"nodes": "10.42.1.0/24"})
    status, _, body = emu.arm("GET", vnet_path(SUB_ID, "net", "other"), api_version=NET_API)
    assert (status, body["error"]["code"]) == (404, "ResourceNotFound")
    assert "Microsoft.Network/virtualNetworks/other" in body["error"]["message"]
    status, _, body = emu.arm("GET", vnet_path(SUB_ID, "nogroup", "hub"), api_version=NET_API)
    assert (status, body["error"]["code"]) == (404, "ResourceGroupNotFound")
    status, _, body = emu.arm("GET", vnet_path(HUB_SUB, "net", "hub"), api_version=NET_API)
    assert (status, body["error"]["code"]) == (404, "SubscriptionNotFound")
    status, _, body = emu.arm("GET", vnet_path(SUB_ID, "net", "hub") + "/subnets/none", api_version=NET_API)
    assert (status, body["error"]["code"]) == (404, "ResourceNotFound")


def test_managed_vnet_cluster_gets_10_224_0_0_12(emu):
    cluster = emu.seed_cluster("rg1", "c1", http_proxy_config=PROXY)
    props = cluster["properties"]
    assert no_proxy(cluster) == ["localhost", ".corp.example", "127.0.0.1", "konnectivity", "10.224.0.0/12",
                                 "10.244.0.0/16", "10.0.0.0/16", "168.63.129.16", "169.254.169.254", props["fqdn"]]
    # the service wrote them into the stored list, as the recorded GETs show
    stored = emu.cluster_state("rg1", "c1")["stored"]["properties"]["httpProxyConfig"]
    assert stored["noProxy"] == no_proxy(cluster)


def test_custom_vnet_cluster_gets_the_vnets_space_not_the_subnets(emu):
    (subnet,) = emu.seed_vnet(SUB_ID, "net", "spoke", ["10.42.0.0/16"], {"aks": "10.42.1.0/24"})
    body = copy.deepcopy(CREATE)
    body["properties"]["agentPoolProfiles"][0]["vnetSubnetID"] = subnet
    body["properties"]["httpProxyConfig"] = PROXY
    status, _, created = emu.arm("PUT", MC + "c1", body)
    assert status == 201
    entries = no_proxy(created)
    assert "10.42.0.0/16" in entries and "10.42.1.0/24" not in entries and "10.224.0.0/12" not in entries


def test_pools_in_two_vnets_and_a_hub_subscription_add_each_space_once(emu):
    (a,) = emu.seed_vnet(SUB_ID, "net", "a", ["10.42.0.0/16"], {"aks": "10.42.1.0/24"})
    b, b2 = emu.seed_vnet(HUB_SUB, "hub", "b", ["192.168.0.0/20", "172.20.0.0/16"],
                          {"aks": "192.168.1.0/24", "aks2": "172.20.0.0/24"})
    pools = [{"name": "np1", "vnetSubnetID": a}, {"name": "np2", "vnetSubnetID": b},
             {"name": "np3", "vnetSubnetID": b2}]
    entries = no_proxy(emu.seed_cluster("rg1", "c1", pools=pools, http_proxy_config=PROXY))
    node_spaces = [e for e in entries if e in ("10.42.0.0/16", "192.168.0.0/20", "172.20.0.0/16")]
    assert node_spaces == ["10.42.0.0/16", "192.168.0.0/20", "172.20.0.0/16"]
    status, _, vnet = emu.arm("GET", vnet_path(HUB_SUB, "hub", "b"), api_version=NET_API)
    assert status == 200 and vnet["id"].startswith(f"/subscriptions/{HUB_SUB}/")


def test_an_unseeded_subnet_becomes_a_readable_vnet_with_the_default_space(emu):
    subnet = f"{vnet_path(SUB_ID, 'net', 'ghost')}/subnets/nodes"
    pools = [{"name": "np1", "vnetSubnetID": subnet}, {"name": "np2", "vnetSubnetID": subnet[:-5] + "more"}]
    entries = no_proxy(emu.seed_cluster("rg1", "c1", pools=pools, http_proxy_config=PROXY))
    assert UNSEEDED_VNET_PREFIX in entries and "10.224.0.0/12" not in entries
    status, _, vnet = emu.arm("GET", vnet_path(SUB_ID, "net", "ghost"), api_version=NET_API)
    assert status == 200 and vnet["properties"]["addressSpace"]["addressPrefixes"] == [UNSEEDED_VNET_PREFIX]
    assert [(s["id"], s["properties"]["addressPrefix"]) for s in vnet["properties"]["subnets"]] == \
        [(subnet, "10.99.0.0/24"), (subnet[:-5] + "more", "10.99.1.0/24")]


def test_stock_az_network_vnet_show_reads_a_seeded_vnet_and_a_refused_one(az_stock, emu):
    emu.seed_vnet(SUB_ID, "rg1", "hub", ["10.42.0.0/16"], {"aks": "10.42.1.0/24"})
    r = az_stock.az("network", "vnet", "show", "-g", "rg1", "-n", "hub", "-o", "json")
    assert r.ok, r
    assert r.json["addressSpace"]["addressPrefixes"] == ["10.42.0.0/16"]
    assert r.json["subnets"][0]["addressPrefix"] == "10.42.1.0/24"
    (read,) = [e for e in emu.journal() if "/Microsoft.Network/" in e["path"]]
    # az 2.91's aaz command sends 2025-07-01, az 2.85's 2024-07-01: the emulator answers any api-version.
    assert read["query"].get("api-version") in (NET_API, "2024-07-01") and read["status"] == 200
    emu.deny_vnet_read(vnet_path(SUB_ID, "rg1", "hub"))
    r = az_stock.az("network", "vnet", "show", "-g", "rg1", "-n", "hub", "-o", "json")
    assert r.rc != 0 and "(AuthorizationFailed)" in r.stderr and "Microsoft.Network/virtualNetworks/read" in r.stderr


def test_a_denied_vnet_read_is_403_and_aks_still_adds_its_space(emu):
    (subnet,) = emu.seed_vnet(HUB_SUB, "hub", "locked", ["10.50.0.0/16"], {"aks": "10.50.0.0/24"})
    emu.deny_vnet_read(subnet)
    entries = no_proxy(emu.seed_cluster("rg1", "c1", pools=[{"name": "np1", "vnetSubnetID": subnet}],
                                        http_proxy_config=PROXY))
    assert "10.50.0.0/16" in entries
    path = vnet_path(HUB_SUB, "hub", "locked")
    status, _, body = emu.arm("GET", path, api_version=NET_API)
    assert status == 403 and body["error"]["code"] == "AuthorizationFailed"
    assert body["error"]["message"].startswith("The client '")
    assert (f"does not have authorization to perform action 'Microsoft.Network/virtualNetworks/read' over scope "
            f"'{path}' or the scope is invalid.") in body["error"]["message"]
    assert emu.arm("GET", subnet, api_version=NET_API)[0] == 403
    assert [e["status"] for e in emu.journal() if "/Microsoft.Network/" in e["path"]] == [403, 403]
    emu.deny_vnet_read(path, denied=False)
    assert emu.arm("GET", path, api_version=NET_API)[0] == 200


def test_pods_on_the_node_subnet_add_no_pod_cidr_and_every_service_cidr_is_added(emu):
    cni = no_proxy(emu.seed_cluster("rg1", "cni", http_proxy_config=PROXY, properties={
        "networkProfile": {"networkPlugin": "azure", "serviceCidrs": ["10.0.0.0/16", "fd00:10::/108"],
                           "serviceCidr": "10.0.0.0/16"}}))
    assert "10.244.0.0/16" not in cni and {"10.0.0.0/16", "fd00:10::/108"} <= set(cni)
    overlay = no_proxy(emu.seed_cluster("rg1", "ovl", http_proxy_config=PROXY, properties={
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16"}}))
    assert "192.168.0.0/16" in overlay
    kubenet = no_proxy(emu.seed_cluster("rg1", "kn", http_proxy_config=PROXY,
                                        properties={"networkProfile": {"networkPlugin": "kubenet"}}))
    assert "10.244.0.0/16" in kubenet


def test_a_private_cluster_adds_its_private_fqdn(emu):
    cluster = emu.seed_cluster("rg1", "c1", http_proxy_config=PROXY,
                               properties={"apiServerAccessProfile": {"enablePrivateCluster": True}})
    props = cluster["properties"]
    assert props["privateFQDN"].endswith(".privatelink.westus2.azmk8s.io")
    assert {props["fqdn"], props["privateFQDN"]} <= set(no_proxy(cluster))
    only_private = emu.seed_cluster("rg1", "c2", http_proxy_config=PROXY, properties={
        "apiServerAccessProfile": {"enablePrivateCluster": True, "enablePrivateClusterPublicFQDN": False}})
    assert "fqdn" not in only_private["properties"]
    assert only_private["properties"]["privateFQDN"] in no_proxy(only_private)


def test_a_round_trip_of_the_grown_list_or_the_users_list_changes_nothing(emu):
    """Sending back what a GET returned, or only the user's entries, stores the same list and reimages nothing."""
    emu.seed_cluster("rg1", "c1", http_proxy_config=PROXY)
    status, _, got = emu.arm("GET", MC + "c1")
    before = no_proxy(got)
    got["properties"]["httpProxyConfig"].pop("effectiveNoProxy")
    status, _, put = emu.arm("PUT", MC + "c1", got)
    assert status == 200 and no_proxy(put) == before
    emu.finish_operations()
    got["properties"]["httpProxyConfig"]["noProxy"] = PROXY["noProxy"]
    status, _, put = emu.arm("PUT", MC + "c1", got)
    assert status == 200 and no_proxy(put) == before
    assert all(op["duration"] < 2 for op in emu.operations())  # no reimage added to either operation


def test_fleet_vnets_are_served_in_their_subscription(emu):
    sub = "22222222-0000-0000-0000-000000000001"
    emu.seed_vnet(sub, "net", "v", ["10.60.0.0/16"], {"aks": "10.60.0.0/24"})
    subnet = f"{vnet_path(sub, 'net', 'v')}/subnets/aks"
    emu.seed_fleet([{"subscriptionId": sub, "clusters": [
        {"resourceGroup": "rg", "name": "f1", "properties": {"agentPoolProfiles": [
            {"name": "np1", "vnetSubnetID": subnet}], "httpProxyConfig": PROXY}}]}])
    status, _, cluster = emu.arm(
        "GET", f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/f1")
    assert status == 200 and "10.60.0.0/16" in no_proxy(cluster)
    status, _, vnet = emu.arm("GET", vnet_path(sub, "net", "v"), api_version=NET_API)
    assert status == 200 and vnet["properties"]["addressSpace"]["addressPrefixes"] == ["10.60.0.0/16"]
