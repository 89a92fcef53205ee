"""The emulator's model of a proxy change over plain ARM calls: today's AKS reimages every pool within the cluster
PUT's operation (or refuses it under the node disruption policy), the older service only changes the pools' model;
the node resource group's scale sets show which nodes run the latest model."""
from __future__ import annotations

import datetime

from tests.armemu.fixtures import MC, SUB, load_data
from tests.armemu.state import DEFAULT_CONFIG

OLD, NEW = DEFAULT_CONFIG["node_images"]["ubuntu"]
VMSS = SUB + "/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets"
WINDOW = MC + "c1/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule"


def seed(emu, policy=None, **config):
    emu.configure(**config)
    props = {"nodeDisruptionProfile": {"nodeDisruptionPolicy": policy}} if policy else {}
    emu.seed_cluster("rg1", "c1", http_proxy_config=load_data("httpproxyconfig.json"), properties=props,
                     pools=[{"name": "np1", "count": 2}, {"name": "np2", "count": 1}])


def proxy_update(emu, change=None):
    """PUT the cluster back as az does (the GET, with the proxy config changed)."""
    _, _, cluster = emu.arm("GET", MC + "c1")
    cluster["properties"]["httpProxyConfig"] = change or load_data("httpproxyconfig_update.json")
    return emu.arm("PUT", MC + "c1", cluster)


def model_applied(emu):
    """{pool: [latestModelApplied per instance]} from the node resource group's scale sets."""
    node_rg = emu.cluster_state("rg1", "c1")["stored"]["properties"]["nodeResourceGroup"]
    _, _, sets = emu.arm("GET", VMSS.format(rg=node_rg), api_version="2024-11-01")
    out = {}
    for scale_set in sets["value"]:
        _, _, vms = emu.arm("GET", f"{scale_set['id']}/virtualMachines", api_version="2024-11-01")
        out[scale_set["tags"]["aks-managed-poolName"]] = [vm["properties"]["latestModelApplied"] for vm in vms["value"]]
    return out


def pools(emu):
    stored = emu.cluster_state("rg1", "c1")["stored"]["properties"]["agentPoolProfiles"]
    return {p["name"]: (p["provisioningState"], p["nodeImageVersion"]) for p in stored}


def test_a_proxy_change_reimages_every_pool_within_the_cluster_operation(emu):
    seed(emu, cluster_update_seconds=600, pool_upgrade_seconds=600)  # held open until the test ends it
    status, _, body = proxy_update(emu)
    assert status == 200 and body["properties"]["provisioningState"] == "Updating"
    (op,) = [o for o in emu.operations() if o["status"] == "InProgress"]
    assert op["kind"] == "update" and op["duration"] == 1200  # the update, then the pools' reimage
    assert pools(emu) == {"np1": ("Updating", OLD), "np2": ("Updating", OLD)}
    assert model_applied(emu) == {"np1": [False, False], "np2": [False]}
    # a node image upgrade meanwhile is refused as any write during a cluster operation
    assert emu.arm("POST", MC + "c1/agentPools/np1/upgradeNodeImageVersion")[0] == 409
    emu.finish_operations()
    assert pools(emu) == {"np1": ("Succeeded", OLD), "np2": ("Succeeded", OLD)}  # reimaged, same image
    assert model_applied(emu) == {"np1": [True, True], "np2": [True]}


def test_the_older_service_changes_the_model_only_and_a_node_image_upgrade_rolls_it(emu):
    seed(emu, proxy_change_reimages=False, cluster_update_seconds=1, pool_upgrade_seconds=1)
    assert proxy_update(emu)[0] == 200
    (op,) = emu.operations()
    assert op["duration"] == 1
    emu.finish_operations()
    assert model_applied(emu) == {"np1": [False, False], "np2": [False]}
    assert emu.arm("POST", MC + "c1/agentPools/np1/upgradeNodeImageVersion")[0] == 202
    emu.finish_operations()
    assert model_applied(emu) == {"np1": [True, True], "np2": [False]}
    assert pools(emu) == {"np1": ("Succeeded", NEW), "np2": ("Succeeded", OLD)}


def test_an_update_that_keeps_the_proxy_config_reimages_nothing(emu):
    seed(emu, cluster_update_seconds=1, pool_upgrade_seconds=600)
    assert proxy_update(emu, load_data("httpproxyconfig.json"))[0] == 200
    (op,) = emu.operations()
    assert op["duration"] == 1
    emu.finish_operations()
    assert model_applied(emu) == {"np1": [True, True], "np2": [True]}


def test_block_refuses_the_proxy_change_and_changes_nothing(emu):
    seed(emu, policy="Block")
    before = emu.cluster_state("rg1", "c1")["stored"]
    status, _, body = proxy_update(emu)
    assert status == 400 and body["error"]["code"] == "OperationBlockedByNodeDisruptionPolicy"
    assert emu.cluster_state("rg1", "c1")["stored"] == before and emu.operations() == []
    # the older service had no reimage to refuse
    emu.configure(proxy_change_reimages=False)
    assert proxy_update(emu)[0] == 200


def weekly_window(open_now: bool) -> dict:
    today = datetime.datetime.now(datetime.UTC)
    day = today if open_now else today + datetime.timedelta(days=3)
    return {"properties": {"maintenanceWindow": {
        "schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": day.strftime("%A")}},
        "durationHours": 24 if open_now else 4, "utcOffset": "+00:00", "startDate": "2026-01-05",
        "startTime": "00:00"}}}


def test_allow_during_maintenance_window_refuses_outside_the_window_and_allows_inside(emu):
    seed(emu, policy="AllowDuringMaintenanceWindow", cluster_update_seconds=1, pool_upgrade_seconds=1)
    assert proxy_update(emu)[0] == 200  # no window configured: allowed
    emu.finish_operations()
    assert emu.arm("PUT", WINDOW, weekly_window(open_now=False))[0] == 201
    status, _, body = proxy_update(emu, load_data("httpproxyconfig.json"))
    assert status == 400 and body["error"]["code"] == "OperationOutsideNodeDisruptionWindow"
    assert emu.arm("PUT", WINDOW, weekly_window(open_now=True))[0] == 200
    assert emu.arm("GET", WINDOW)[2]["properties"]["maintenanceWindow"]["durationHours"] == 24
    assert proxy_update(emu, load_data("httpproxyconfig.json"))[0] == 200


def test_seeding_can_leave_a_pool_behind_the_latest_model(emu):
    emu.seed_cluster("rg1", "c1", pools=[{"name": "np1", "latestModelApplied": False}, {"name": "np2"},
                                         {"name": "off", "powerState": {"code": "Stopped"}}])
    assert model_applied(emu) == {"np1": [False] * 3, "np2": [True] * 3, "off": []}
    assert "latestModelApplied" not in str(emu.cluster_state("rg1", "c1")["rendered"])
