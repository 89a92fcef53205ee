"""A proxy change carried to the nodes through the real az, in both emulator modes: today's AKS reimages every pool
as part of the update (no node image upgrade unless asked), the older service needs one per pool. What `update`
and `diff` announce before the write, the node disruption policy's refusals, and what `show` says afterwards."""
from __future__ import annotations

import datetime

from tests.armemu.fixtures import MC, load_data
from tests.armemu.state import DEFAULT_CONFIG

OLD, NEW = DEFAULT_CONFIG["node_images"]["ubuntu"]
WINDOW = MC + "c1/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule"
BLOCKED = "OperationBlockedByNodeDisruptionPolicy"
SHOW = ("aks", "http-proxy", "show", "-g", "rg1", "-n", "c1")


def seed(emu, policy=None, pools=None, **config):
    emu.configure(**{"cluster_update_seconds": 1, "pool_upgrade_seconds": 1, **config})
    props = {"nodeDisruptionProfile": {"nodeDisruptionPolicy": policy}} if policy else {}
    emu.seed_cluster("rg1", "c1", http_proxy_config=load_data("httpproxyconfig.json"), properties=props,
                     pools=pools or [{"name": "np1", "count": 2, "upgradeSettings": {"maxSurge": "33%"}},
                                     {"name": "np2", "count": 1}])


def update(az_ext, recorded_data, *extra):
    return az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                     recorded_data / "httpproxyconfig_update.json", *extra)


def image_posts(emu):
    return [e["path"].split("/")[-2] for e in emu.writes() if e["path"].endswith("/upgradeNodeImageVersion")]


def summary(result):
    """The per-pool rows of the stderr table: {pool: line}."""
    return {line.split()[0]: line for line in result.stderr.splitlines()
            if line.split() and line.split()[0] in ("np1", "np2", "off", "cur")}


def show_pools(az_ext):
    r = az_ext.az(*SHOW)
    assert r.ok, r
    return {p["name"]: p for p in r.json["nodePools"]}, r.json


def test_reimage_mode_follows_the_service_and_posts_no_node_image_upgrade(az_ext, emu, recorded_data):
    seed(emu)
    r = update(az_ext, recorded_data, "--upgrade-node-image")
    assert r.ok, r
    assert image_posts(emu) == []  # each node rolled once: by AKS, as part of the update
    assert "AKS reimages every node pool as part of it: np1 (2 nodes, maxSurge 33%), np2 (1 node, maxSurge not set" \
        in r.stderr
    rows = summary(r)
    assert set(rows) == {"np1", "np2"}
    assert all("Succeeded" in line and "reimaged by AKS with the update" in line for line in rows.values()), r.stderr
    pools, doc = show_pools(az_ext)
    for pool in pools.values():
        assert pool["runsCurrentProxyConfig"] == "yes", pool
        # a newer image exists, which is a separate question from the proxy config
        assert (pool["nodeImageCurrent"], pool["pendingNodeImageUpgrade"]) == (False, True)
    assert not any("do not run the current proxy config" in step for step in doc["nextSteps"])


def test_old_mode_upgrades_and_follows_every_pool_then_show_says_they_run_the_config(az_ext, emu, recorded_data):
    seed(emu, proxy_change_reimages=False)
    r = update(az_ext, recorded_data, "--upgrade-node-image")
    assert r.ok, r
    assert sorted(image_posts(emu)) == ["np1", "np2"]
    rows = summary(r)
    assert set(rows) == {"np1", "np2"}, r.stderr
    assert all(f"{OLD}" in line and f"{NEW}" in line and "Succeeded" in line for line in rows.values()), r.stderr
    pools, doc = show_pools(az_ext)
    assert {(p["runsCurrentProxyConfig"], p["nodeImageCurrent"], p["pendingNodeImageUpgrade"])
            for p in pools.values()} == {("yes", True, False)}
    assert doc["nextSteps"] == []


def test_old_mode_plain_update_leaves_pools_behind_show_says_so_and_upgrade_nodes_rolls_them(az_ext, emu,
                                                                                             recorded_data):
    seed(emu, proxy_change_reimages=False, node_images={"ubuntu": [NEW, NEW]})  # no newer image exists
    assert update(az_ext, recorded_data).ok
    pools, doc = show_pools(az_ext)
    for pool in pools.values():
        assert pool["runsCurrentProxyConfig"] == "no" and "still run an older model" in pool["proxyConfigDetail"]
        assert pool["nodeImageCurrent"] is True and pool["pendingNodeImageUpgrade"] is True
    assert "--nodepool-names np1 np2" in doc["nextSteps"][0]
    r = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", "rg1", "-n", "c1", "--yes")
    assert r.ok, r
    assert sorted(image_posts(emu)) == ["np1", "np2"]  # on the latest image already, but behind the config
    pools, _ = show_pools(az_ext)
    assert {p["runsCurrentProxyConfig"] for p in pools.values()} == {"yes"}


def test_a_stopped_pool_is_not_pending_in_show_as_upgrade_nodes_skips_it(az_ext, emu):
    seed(emu, pools=[{"name": "np1"}, {"name": "off", "powerState": {"code": "Stopped"}}])
    pools, _ = show_pools(az_ext)
    assert pools["off"]["pendingNodeImageUpgrade"] is False and "nodepool start" in pools["off"]["nextStep"]
    assert pools["off"]["runsCurrentProxyConfig"] == "unknown"
    assert pools["np1"]["pendingNodeImageUpgrade"] is True
    r = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", "rg1", "-n", "c1", "--yes")
    assert r.ok, r
    assert {row["pool"]: row["status"] for row in r.json} == {"np1": "Succeeded", "off": "Skipped"}


def test_when_the_nodes_cannot_be_read_nothing_is_rolled_twice_and_it_says_so(az_ext, emu, recorded_data):
    seed(emu, proxy_change_reimages=False)
    emu.add_fault("status", method="GET", path_regex="/Microsoft.Compute/virtualMachineScaleSets$", code=403,
                  times=-1, body={"error": {"code": "AuthorizationFailed", "message": "no access"}})
    r = update(az_ext, recorded_data, "--upgrade-node-image")
    assert r.ok, r
    assert image_posts(emu) == []
    assert "Cannot tell whether the nodes of np1, np2 run the new proxy config" in r.stderr
    assert "--nodepool-names np1 np2 --yes" in r.stderr
    rows = summary(r)
    assert set(rows) == {"np1", "np2"} and all("Skipped" in line for line in rows.values()), r.stderr


def test_diff_names_the_pools_that_will_be_reimaged(az_ext, emu, recorded_data):
    seed(emu)
    r = az_ext.az("aks", "http-proxy", "diff", "-g", "rg1", "-n", "c1", "--config",
                  recorded_data / "httpproxyconfig_update.json")
    assert r.ok, r
    reimage = r.json["rollout"]["nodes"]["reimage"]
    assert reimage["required"] and reimage["nodes"] == 3
    assert [(p["name"], p["nodes"], p["maxSurge"]) for p in reimage["pools"]] == [("np1", 2, "33%"), ("np2", 1, None)]
    assert reimage["nodeDisruption"]["allowed"] is True
    table = az_ext.az("aks", "http-proxy", "diff", "-g", "rg1", "-n", "c1", "--config",
                      recorded_data / "httpproxyconfig_update.json", "-o", "table")
    assert "AKS reimages every node pool as part of the update: np1 (2 nodes" in table.stdout
    assert emu.writes() == []


def test_block_is_refused_before_the_put_by_update_and_diff(az_ext, emu, recorded_data):
    seed(emu, policy="Block")
    r = update(az_ext, recorded_data, "--upgrade-node-image")
    assert r.rc == 1
    assert "OperationBlockedByNodeDisruptionPolicy" in r.stderr and "Nothing was sent to Azure" in r.stderr
    assert "--node-disruption-policy Allow" in r.stderr
    assert emu.writes() == []
    d = az_ext.az("aks", "http-proxy", "diff", "-g", "rg1", "-n", "c1", "--config",
                  recorded_data / "httpproxyconfig_update.json")
    assert d.rc == 1 and d.json["rollout"]["nodes"]["reimage"]["nodeDisruption"]["allowed"] is False
    assert "would be refused" in d.stderr
    # an update that does not touch the proxy is not held back, and keeps the policy (az's model has no such
    # field, but its read-modify-write sends it back)
    assert az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--tags", "team=a").ok
    (put,) = [e for e in emu.writes() if e["method"] == "PUT"]
    assert put["body"]["properties"]["nodeDisruptionProfile"] == {"nodeDisruptionPolicy": "Block"}
    assert "reimages" not in az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--tags", "team=b").stderr


def closed_window() -> dict:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)
    return {"properties": {"maintenanceWindow": {
        "schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": later.strftime("%A")}}, "durationHours": 4,
        "utcOffset": "+00:00", "startDate": "2026-01-05", "startTime": "00:00"}}}


def test_a_closed_maintenance_window_is_refused_before_the_put(az_ext, emu, recorded_data):
    seed(emu, policy="AllowDuringMaintenanceWindow")
    emu.arm("PUT", WINDOW, closed_window())
    since = emu.journal_last()
    r = update(az_ext, recorded_data)
    assert r.rc == 1 and "OperationOutsideNodeDisruptionWindow" in r.stderr, r
    assert "weekly" in r.stderr and emu.writes(since) == []


def test_an_unreadable_window_leaves_it_to_the_service_whose_refusal_is_explained_with_nothing_lost(
        az_ext, emu, recorded_data):
    seed(emu, policy="AllowDuringMaintenanceWindow")
    emu.arm("PUT", WINDOW, closed_window())
    emu.add_fault("status", method="GET", path_regex="/maintenanceConfigurations/", code=403, times=-1,
                  body={"error": {"code": "AuthorizationFailed", "message": "no access"}})
    before = emu.cluster_state("rg1", "c1")["stored"]
    since = emu.journal_last()
    r = update(az_ext, recorded_data, "--upgrade-node-image")
    assert r.rc == 1
    assert "could not be read" in r.stderr  # said before the write
    assert "AKS refused the update of cluster c1: (OperationOutsideNodeDisruptionWindow)" in r.stderr
    assert "Nothing was changed" in r.stderr
    assert [(e["method"], e["status"]) for e in emu.writes(since)] == [("PUT", 400)]
    assert emu.cluster_state("rg1", "c1")["stored"] == before
    assert image_posts(emu) == []


def test_latest_node_image_is_the_explicit_ask_and_names_the_pools_that_roll_twice_before_writing(
        az_ext, emu, recorded_data):
    seed(emu, pools=[{"name": "np1", "count": 2}, {"name": "cur", "count": 1, "nodeImageVersion": NEW}])
    r = update(az_ext, recorded_data, "--latest-node-image")
    assert r.ok, r
    assert f"these pools roll twice, once for AKS's reimage of the proxy change and once for their node image " \
           f"upgrade: np1 ({OLD} -> {NEW})" in r.stderr
    assert "cur (" not in r.stderr.split("roll twice")[1].split("\n")[0]  # already on the latest image
    (put,) = [e for e in emu.writes() if e["method"] == "PUT"]
    warned = [e for e in emu.journal() if e["seq"] < put["seq"] and "/upgradeProfiles/default" in e["path"]]
    assert {e["path"].split("/")[-3] for e in warned} == {"np1", "cur"}  # read, and said, before the PUT
    assert image_posts(emu) == ["np1"]
    assert "Succeeded" in summary(r)["np1"] and "Skipped" in summary(r)["cur"]


def test_disabling_the_proxy_by_flag_is_a_reimage_too(az_ext, emu):
    seed(emu, policy="Block")
    r = az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--disable-http-proxy")
    assert r.rc == 1 and "this update changes enabled" in r.stderr and BLOCKED in r.stderr, r
    assert emu.writes() == []


def test_an_update_that_changes_no_proxy_setting_announces_no_reimage_and_rolls_nothing(az_ext, emu, recorded_data):
    seed(emu)
    r = az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                  recorded_data / "httpproxyconfig.json", "--upgrade-node-image")
    assert r.ok, r
    assert "reimages" not in r.stderr and image_posts(emu) == []
    rows = summary(r)
    assert set(rows) == {"np1", "np2"}, r.stderr
    assert all("the update changed no proxy setting" in line for line in rows.values()), r.stderr


def test_while_aks_reimages_show_says_so_and_upgrade_nodes_does_not_roll_the_pools_again(az_ext, emu,
                                                                                        recorded_data):
    seed(emu, cluster_update_seconds=600)  # the update's operation runs until the test ends it
    assert update(az_ext, recorded_data, "--no-wait").ok
    pools, doc = show_pools(az_ext)
    for pool in pools.values():
        assert pool["runsCurrentProxyConfig"] == "no" and "being rolled now" in pool["proxyConfigDetail"]
        assert pool["pendingNodeImageUpgrade"] is False and "az aks wait --updated" in pool["nextStep"]
    assert not any("upgrade-nodes" in step and "proxy config" in step for step in doc["nextSteps"])
    r = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", "rg1", "-n", "c1", "--yes", "--nodepool-names", "np1")
    assert r.ok, r
    assert [row["status"] for row in r.json] == ["Skipped"] and image_posts(emu) == []
    emu.finish_operations()
    pools, _ = show_pools(az_ext)
    assert {p["runsCurrentProxyConfig"] for p in pools.values()} == {"yes"}
