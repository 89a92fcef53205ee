"""cluster.pools: which updates reimage, the node disruption gate and its maintenance window, the pools and
what each still needs (the one rule behind show, diff, upgrade-nodes and update --upgrade-node-image)."""
import datetime

import pytest

from azext_aksproxy.cluster.pools import (
    BLOCKED_CODE,
    FOLLOW,
    NO,
    OUTSIDE_WINDOW_CODE,
    REFUSE,
    SKIP,
    START,
    UNKNOWN,
    YES,
    NodeModel,
    describe_pools,
    disruption_fix,
    disruption_gate,
    node_count,
    pool_need,
    proxy_config_state,
    reimage_fields,
    reimaged_pools,
    window_open,
)

PROXY = {"httpProxy": "http://p:3128/", "noProxy": ["localhost"], "trustedCa": "Q0E="}
# Wednesday 2026-11-25 10:30 UTC
NOW = datetime.datetime(2026, 11, 25, 10, 30, tzinfo=datetime.UTC)


def cluster(proxy=PROXY, policy=None, pools=None):
    props = {"httpProxyConfig": dict(proxy) if proxy is not None else None,
             "agentPoolProfiles": pools if pools is not None else [{"name": "np1", "count": 3}]}
    if policy:
        props["nodeDisruptionProfile"] = {"nodeDisruptionPolicy": policy}
    return {"name": "c1", "properties": props}


@pytest.mark.parametrize("new, fields", [
    (PROXY, []),
    ({**PROXY, "httpProxy": "http://q:3128/"}, ["httpProxy"]),
    ({**PROXY, "httpsProxy": "http://q:3129/"}, ["httpsProxy"]),
    ({**PROXY, "trustedCa": "Q0I="}, ["trustedCa"]),
    ({**PROXY, "noProxy": ["localhost", ".corp"]}, ["noProxy"]),
    ({**PROXY, "enabled": False}, ["enabled"]),
    (None, []),  # the update leaves the proxy config alone
])
def test_which_changes_make_aks_reimage_every_pool(new, fields):
    assert reimage_fields(cluster(), new) == fields


def test_enabling_a_disabled_proxy_and_the_first_proxy_reimage():
    assert reimage_fields(cluster({**PROXY, "enabled": False}), {**PROXY, "enabled": True}) == ["enabled"]
    assert "httpProxy" in reimage_fields(cluster(proxy=None), PROXY)


def weekly(day, start="09:00", hours=4, offset="+00:00", **extra):
    return {"schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": day}}, "durationHours": hours,
            "startTime": start, "utcOffset": offset, "startDate": "2026-01-05", **extra}


@pytest.mark.parametrize("window, is_open", [
    (weekly("Wednesday"), True),
    (weekly("Wednesday", start="11:00"), False),
    (weekly("Tuesday"), False),
    (weekly("Tuesday", start="20:00", hours=16), True),  # opened yesterday, still open
    (weekly("Wednesday", start="13:00", offset="+03:00"), True),  # 13:30 local
    (weekly("Wednesday", notAllowedDates=[{"start": "2026-11-20", "end": "2026-11-30"}]), False),
    ({"schedule": {"daily": {"intervalDays": 1}}, "durationHours": 8, "startTime": "06:00"}, True),
    ({"schedule": {"absoluteMonthly": {"intervalMonths": 1, "dayOfMonth": 25}}, "durationHours": 4,
      "startTime": "08:00"}, True),
    ({"schedule": {"relativeMonthly": {"intervalMonths": 1, "weekIndex": "Last", "dayOfWeek": "Wednesday"}},
      "durationHours": 4, "startTime": "08:00"}, True),
    ({"schedule": {"relativeMonthly": {"intervalMonths": 1, "weekIndex": "First", "dayOfWeek": "Wednesday"}},
      "durationHours": 4, "startTime": "08:00"}, False),
    ({"schedule": {"someFutureKind": {}}, "durationHours": 4, "startTime": "08:00"}, None),
    ({"schedule": {"weekly": {"dayOfWeek": "Wednesday"}}, "startTime": "nine"}, None),
])
def test_the_maintenance_window(window, is_open):
    assert window_open(window, NOW) is is_open


@pytest.mark.parametrize("policy, config, unreadable, allowed, code", [
    (None, None, "", True, ""),
    ("Allow", None, "", True, ""),
    ("Block", None, "", False, BLOCKED_CODE),
    ("AllowDuringMaintenanceWindow", None, "", True, ""),  # no window configured: allowed (AKS docs)
    ("AllowDuringMaintenanceWindow", {"properties": {"maintenanceWindow": weekly("Tuesday")}}, "", False,
     OUTSIDE_WINDOW_CODE),
    ("AllowDuringMaintenanceWindow", {"properties": {"maintenanceWindow": weekly("Wednesday")}}, "", True, ""),
    ("AllowDuringMaintenanceWindow", None, "(AuthorizationFailed) no access", None, ""),
])
def test_the_node_disruption_gate(policy, config, unreadable, allowed, code):
    gate = disruption_gate(cluster(policy=policy), config, NOW, unreadable)
    assert (gate.policy, gate.allowed, gate.code) == (policy or "Allow", allowed, code)
    assert gate.reason
    if allowed is False:
        fix = disruption_fix(gate, "rg1", "c1")
        assert "--node-disruption-policy Allow" in fix
        assert ("aksManagedNodeOSUpgradeSchedule" in fix) is (code == OUTSIDE_WINDOW_CODE)


def test_the_pools_that_roll_with_their_nodes_and_surge():
    pools = reimaged_pools(cluster(pools=[
        {"name": "sys", "count": 3, "upgradeSettings": {"maxSurge": "33%"}},
        {"name": "np1", "count": 1, "upgradeSettings": {"maxSurge": "1", "maxUnavailable": "1"}},
        {"name": "off", "count": 2, "powerState": {"code": "Stopped"}}]))
    assert [(p["name"], p["nodes"], p["maxSurge"]) for p in pools] == [("sys", 3, "33%"), ("np1", 1, "1"),
                                                                       ("off", 0, None)]
    assert describe_pools(pools) == ("sys (3 nodes, maxSurge 33%), np1 (1 node, maxSurge 1, maxUnavailable 1), "
                                     "off (stopped)")
    assert describe_pools(reimaged_pools(cluster(pools=[{"name": "np"}]))) == \
        "np (? nodes, maxSurge not set (service default))"
    # A stopped pool and one whose count is not stated add no node; a plan's rows count the same way.
    assert node_count(pools) == 4 and node_count(reimaged_pools(cluster(pools=[{"name": "np"}]))) == 0
    assert node_count([{"name": "np1", "nodes": 3}, {"name": "np2"}]) == node_count([]) + 3


@pytest.mark.parametrize("pool, models, state", [
    ({"name": "np1"}, {"np1": NodeModel(3, 3)}, YES),
    ({"name": "NP1"}, {"np1": NodeModel(3, 1)}, NO),
    ({"name": "np1"}, {"np1": NodeModel(0, 0)}, UNKNOWN),
    ({"name": "np1"}, {}, UNKNOWN),
    ({"name": "np1"}, None, UNKNOWN),
    ({"name": "np1", "powerState": {"code": "Stopped"}}, {"np1": NodeModel(3, 3)}, UNKNOWN),
    ({"name": "np1", "type": "AvailabilitySet"}, {"np1": NodeModel(3, 3)}, UNKNOWN),
])
def test_whether_a_pools_nodes_run_the_current_proxy_config(pool, models, state):
    got, why = proxy_config_state(pool, models, "forbidden")
    assert got == state and why
    if models is None:
        assert "forbidden" in why


NEW = "AKSUbuntu-2204gen2containerd-202601.10.0"


@pytest.mark.parametrize("pool, latest, proxy, newer_wanted, action", [
    # an explicit ask (upgrade-nodes): a newer image or nodes behind the config start the pool
    ({}, NEW, YES, True, START),
    ({"nodeImageVersion": NEW}, NEW, YES, True, SKIP),
    ({"nodeImageVersion": NEW}, NEW, NO, True, START),
    ({"nodeImageVersion": NEW}, NEW, UNKNOWN, True, SKIP),
    # carrying a proxy change: only nodes behind the config start the pool; unknown is not rolled again
    ({}, NEW, YES, False, SKIP),
    ({}, NEW, NO, False, START),
    ({}, NEW, UNKNOWN, False, SKIP),
    # whatever the proxy state
    ({"powerState": {"code": "Stopped"}}, NEW, NO, True, SKIP),
    ({"provisioningState": "Updating"}, NEW, NO, True, SKIP),  # being reimaged now: not rolled a second time
    ({"provisioningState": "Updating"}, NEW, YES, True, START),
    ({"provisioningState": "UpgradingNodeImageVersion"}, NEW, NO, False, FOLLOW),
    ({"osType": "Windows"}, NEW, NO, False, REFUSE),
    ({"mode": "Machines"}, NEW, NO, True, SKIP),
])
def test_what_a_pool_still_needs(pool, latest, proxy, newer_wanted, action):
    need = pool_need({"name": "np1", "nodeImageVersion": "old", **pool}, latest, proxy, newer_wanted)
    assert need.action == action
    assert need.reason or action == START
