"""The emulator's fleet subscriptions over plain HTTP: bulk seeding, GET /subscriptions, the managedClusters lists
with nextLink paging, one cluster's GET, ARM's 404s, read-only writes, reset; Fleet Manager update strategies
validated as the spec does and answered in the api-version asked for."""
from __future__ import annotations

import pytest

from tests.armemu.client import EmulatorError
from tests.armemu.fixtures import local
from tests.armemu.state import SUBSCRIPTION_ID
from tests.fleet import mixed_fleet, subscription_id

LIST = "/providers/Microsoft.ContainerService/managedClusters"


def all_pages(emu, path: str) -> tuple[list, int]:
    items, pages = [], 0
    while path:
        status, _, body = emu.arm("GET", path)
        assert status == 200, body
        items += body["value"]
        pages += 1
        path = local(body["nextLink"]) if body.get("nextLink") else None
    return items, pages


def test_seeded_subscriptions_are_listed_with_the_seed_one(emu):
    fleet = mixed_fleet(30, 3)
    assert emu.seed_fleet(fleet.subscriptions) == {"subscriptions": 3, "clusters": 30}
    status, _, body = emu.arm("GET", "/subscriptions", api_version="2022-12-01")
    assert status == 200
    assert [s["subscriptionId"] for s in body["value"]] == [SUBSCRIPTION_ID] + [subscription_id(i) for i in range(3)]
    assert {s["displayName"] for s in body["value"][1:]} == {"fleet-00", "fleet-01", "fleet-02"}
    assert all(s["state"] == "Enabled" and s["tenantId"] for s in body["value"])
    status, _, body = emu.arm("GET", f"/subscriptions/{subscription_id(1)}", api_version="2022-12-01")
    assert (status, body["displayName"]) == (200, "fleet-01")


def test_cluster_list_pages_and_shapes(emu):
    fleet = mixed_fleet(45, 3)
    emu.seed_fleet(fleet.subscriptions)
    sub = subscription_id(1)
    seeded = len(fleet.subscriptions[1]["clusters"])
    whole, pages = all_pages(emu, f"/subscriptions/{sub}{LIST}")
    assert (len(whole), pages) == (seeded, 1)
    emu.configure(page_size=4)
    paged, pages = all_pages(emu, f"/subscriptions/{sub}{LIST}")
    assert pages == -(-seeded // 4) > 1 and paged == whole
    cluster = whole[0]
    assert cluster["id"].startswith(f"/subscriptions/{sub}/resourcegroups/")
    assert SUBSCRIPTION_ID not in str(cluster)  # every id moved to the fleet subscription
    props = cluster["properties"]
    assert props["provisioningState"] == "Succeeded" and props["agentPoolProfiles"][0]["nodeImageVersion"]
    hpc = props["httpProxyConfig"]
    assert hpc["noProxy"] == hpc["effectiveNoProxy"] and props["fqdn"] in hpc["noProxy"]  # AKS's entries added
    assert {(sub, c["id"].split("/")[4], c["name"]) for c in whole} <= set().union(*fleet.kinds.values())


def test_group_list_single_get_and_not_found(emu):
    fleet = mixed_fleet(60, 2)
    emu.seed_fleet(fleet.subscriptions)
    sub = subscription_id(0)
    rg_path = f"/subscriptions/{sub}/resourceGroups/RG-001{LIST}"  # group names are case-insensitive
    in_group, _ = all_pages(emu, rg_path)
    assert in_group and {c["id"].split("/")[4] for c in in_group} == {"rg-001"}
    name = in_group[0]["name"]
    status, _, body = emu.arm("GET", f"{rg_path}/{name}")
    assert (status, body) == (200, in_group[0])
    assert emu.arm("GET", f"{rg_path}/nope")[2]["error"]["code"] == "ResourceNotFound"
    assert emu.arm("GET", f"/subscriptions/{sub}/resourceGroups/nope{LIST}")[2]["error"]["code"] == \
        "ResourceGroupNotFound"
    status, _, body = emu.arm("GET", f"/subscriptions/{sub}/resourcegroups", api_version="2024-11-01")
    assert status == 200 and [g["name"] for g in body["value"]] == ["rg-000", "rg-001"]
    # Not a fleet subscription: the seed subscription's own 404.
    assert emu.arm("GET", f"/subscriptions/{subscription_id(9)}{LIST}")[2]["error"]["code"] == "SubscriptionNotFound"


def test_fleet_subscriptions_are_read_only_and_reset_clears_them(emu):
    fleet = mixed_fleet(4, 1)
    emu.seed_fleet(fleet.subscriptions)
    sub = subscription_id(0)
    status, _, body = emu.arm("PUT", f"/subscriptions/{sub}/resourceGroups/rg-000{LIST}/aks-00000",
                              {"location": "westus2", "properties": {}})
    assert (status, body["error"]["code"]) == (404, "EmulatorRouteNotFound")
    assert emu.journal()[-1]["unhandled"] is True
    assert emu.fleet() == [{"subscriptionId": sub, "displayName": "fleet-00", "state": "Enabled", "clusters": 4}]
    emu.reset()
    assert emu.fleet() == []
    assert emu.arm("GET", f"/subscriptions/{sub}{LIST}")[0] == 404
    status, _, body = emu.arm("GET", "/subscriptions", api_version="2022-12-01")
    assert [s["subscriptionId"] for s in body["value"]] == [SUBSCRIPTION_ID]


def test_seed_subscription_clusters_go_to_the_full_store(emu):
    emu.seed_fleet([{"subscriptionId": SUBSCRIPTION_ID, "clusters": [
        {"resourceGroup": "rg9", "name": "c9", "properties": {"httpProxyConfig": {"httpProxy": "http://p:3128/"}}}]}])
    state = emu.cluster_state("rg9", "c9")  # a normal seeded cluster: writable, in its own new group
    assert state["stored"]["properties"]["httpProxyConfig"]["httpProxy"] == "http://p:3128/"
    status, _, _ = emu.arm("GET", f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg9{LIST}/c9")
    assert status == 200
    assert emu.fleet() == []


def _shape(value):
    """The structure of a JSON value: keys and types, not values (ids, GUIDs and hashes differ per cluster)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_a_fleet_cluster_is_the_document_its_get_would_be(emu):
    spec = mixed_fleet(1, 1).subscriptions[0]["clusters"][0]
    props = spec["properties"]
    emu.seed_fleet([{"subscriptionId": subscription_id(0), "clusters": [spec]}])
    emu.seed_cluster(spec["resourceGroup"], spec["name"], location=spec["location"], properties=props)
    _, _, listed = emu.arm("GET", f"/subscriptions/{subscription_id(0)}{LIST}")
    _, _, got = emu.arm("GET", f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{spec['resourceGroup']}{LIST}/"
                               f"{spec['name']}")
    assert _shape(listed["value"][0]) == _shape(got)
    assert listed["value"][0]["properties"]["httpProxyConfig"] == got["properties"]["httpProxyConfig"]


def test_the_sdk_pager_reads_a_fleet_subscription(emulator, emu):
    import time

    from azure.core.credentials import AccessToken
    from azure.mgmt.containerservice import ContainerServiceClient

    class Token:
        def get_token(self, *scopes, **kwargs):
            return AccessToken("armemu-sdk-token", int(time.time()) + 3600)

    fleet = mixed_fleet(30, 2)
    emu.seed_fleet(fleet.subscriptions)
    emu.configure(page_size=4)
    sub = subscription_id(1)
    sdk = ContainerServiceClient(Token(), sub, base_url=emulator.arm_url, connection_verify=emulator.ca_path,
                                 credential_scopes=["https://management.azure.com/.default"])
    clusters = list(sdk.managed_clusters.list())
    assert sorted(c.name for c in clusters) == sorted(c["name"] for c in fleet.subscriptions[1]["clusters"])
    assert all(c.http_proxy_config.http_proxy and c.agent_pool_profiles for c in clusters)
    in_group = list(sdk.managed_clusters.list_by_resource_group("rg-000"))
    assert {c.name for c in in_group} == {c.name for c in clusters}  # 30 clusters: all in rg-000
    pages = [e for e in emu.journal() if e["path"].endswith(LIST)]
    # Every page, the nextLink ones included, carries the SDK's own api-version (it differs between az releases).
    assert len(pages) > 2 and {e["query"]["api-version"] for e in pages} == {sdk._config.api_version}


def test_fleet_update_strategies_validated_and_answered_in_the_version_asked(emu):
    friday = {"displayName": "friday", "type": "ScheduledStart",
              "scheduledStartConfiguration": {"startDay": "Friday", "startTime": "18:00", "utcOffset": "-05:00"}}
    strategy = {"stages": [
        {"name": "canary", "maxConcurrency": "2", "maxAllowedFailures": 0, "beforeGates": [friday],
         "afterGates": [{"displayName": "ok", "type": "Approval"}],
         "groups": [{"name": "canary", "maxConcurrency": "50%", "memberSelector": {"byLabel": "ring=0"}}]}]}
    emu.seed_fleet_manager("fleets", "f1", members=[], update_strategies=[{"name": "s", "strategy": strategy}])
    path = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/fleets/providers/Microsoft.ContainerService/fleets/f1/"
            "updateStrategies/s")
    stages = {v: emu.arm("GET", path, api_version=v)[2]["properties"]["strategy"]["stages"][0]
              for v in ("2025-03-01", "2025-04-01-preview", "2025-10-01-preview", "2026-06-02-preview")}
    assert stages["2026-06-02-preview"] == strategy["stages"][0]
    assert stages["2025-10-01-preview"] == {"name": "canary", "maxConcurrency": "2", "afterGates": [
        {"displayName": "ok", "type": "Approval"}], "beforeGates": [],
        "groups": [{"name": "canary", "maxConcurrency": "50%"}]}
    assert "maxConcurrency" not in stages["2025-04-01-preview"] and stages["2025-04-01-preview"]["afterGates"]
    assert set(stages["2025-03-01"]) == {"name", "groups"} and stages["2025-03-01"]["groups"] == [{"name": "canary"}]
    for bad in ({"stages": [{**strategy["stages"][0], "afterGates": [friday]}]},  # ScheduledStart after: refused
                {"stages": [{"name": "Canary", "groups": [{"name": "g"}]}]},
                {"stages": [{"name": "c", "groups": [{"name": "g", "maxConcurrency": "0"}]}]},
                {"stages": [{"name": "c", "groups": [{"name": "g"}], "rollback": True}]}):
        with pytest.raises(EmulatorError, match="400"):
            emu.seed_fleet_manager("fleets", "f2", members=[], update_strategies=[{"name": "s", "strategy": bad}])
