"""The proof from a node in the cluster's own subscription: `az aks http-proxy rollout plan/apply` over a fleet in two
subscriptions other than the current one, and `check --from-cluster --subscription`. The real az and the wheel
against the emulator (writable fleet subscriptions, tests/armemu/fleet.py), whose run commands run the node script
against real mitmdump and squid on loopback; asserted on the write journal.

The check targets stand in for the required endpoints: as many distinct hosts as aksproxy checks by default, each
behind the intercepting proxy with a leaf of its own, so one run command per cluster is what the default targets
take.
"""
from __future__ import annotations

import json

import pytest

from azext_aksproxy.check import DEFAULT_TARGETS
from tests.fleet import subscription_id
from tests.proxies import MANY_HOSTS, b64_pem, check_env, dead_proxy, mitm_ca_pem

MC = "/providers/Microsoft.ContainerService/managedClusters/"
HOSTS = MANY_HOSTS[:len(DEFAULT_TARGETS)]
SUB_A, SUB_B = subscription_id(0xA), subscription_id(0xB)


@pytest.fixture
def env(origin_ca, tmp_path, hosts_origin):
    return check_env(origin_ca, tmp_path, *(f"https://{h}:{hosts_origin.port}/" for h in HOSTS))


def proxy_config(proxy_url, intercepting):
    return {"httpProxy": proxy_url, "httpsProxy": proxy_url, "noProxy": ["localhost", ".svc", ".cluster.local"],
            "trustedCa": b64_pem(mitm_ca_pem(intercepting))}


@pytest.fixture
def fleet(emu, hosts_proxy):
    """Two writable subscriptions besides the current one; c3 in the second one has a dead proxy."""
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=0.5, retry_after=1)  # copied at seeding
    good, dead = proxy_config(hosts_proxy.url, hosts_proxy), proxy_config(dead_proxy(), hosts_proxy)
    emu.seed_fleet([
        {"subscriptionId": SUB_A, "displayName": "team-a", "writable": True, "clusters": [
            {"resourceGroup": "rg1", "name": "c1", "properties": {"httpProxyConfig": good}}]},
        {"subscriptionId": SUB_B, "displayName": "team-b", "writable": True, "clusters": [
            {"resourceGroup": "rg1", "name": "c2", "properties": {"httpProxyConfig": good}},
            {"resourceGroup": "rg2", "name": "c3", "properties": {"httpProxyConfig": dead}}]}])
    return emu


@pytest.fixture
def all_subscriptions(az_ext, emu):
    """az lists the fleet's subscriptions once logged in again; the emulator's own stays the current one."""
    current = emu.info()["subscription_id"]
    with az_ext.every_subscription(current):
        yield current


def cluster_of(path: str) -> tuple[str, str]:
    """(subscription, cluster name) of a journal path under a cluster or its node resource group."""
    parts = path.split("/")
    sub = parts[2]
    if MC in path:
        return sub, path.split(MC, 1)[1].split("/", 1)[0]
    return sub, parts[4].split("_")[2]  # MC_<rg>_<name>_<location>


def test_a_fleet_in_two_other_subscriptions_is_proven_from_its_own_nodes_before_its_one_write(
        az_ext, fleet, env, tmp_path, all_subscriptions):
    emu, current = fleet, all_subscriptions
    path = tmp_path / "plan.json"
    r = az_ext.az("aks", "http-proxy", "rollout", "plan", "--all-subscriptions", "--add-no-proxy", ".new.example",
                  "--stages", "rest", "--max-concurrency", "3", "--plan-file", str(path), "-o", "json")
    assert r.ok, r.stderr
    assert sorted((row["subscriptionId"], row["name"]) for row in r.json) == [(SUB_A, "c1"), (SUB_B, "c2"),
                                                                              (SUB_B, "c3")]
    since = emu.journal_last()
    r = az_ext.az("aks", "http-proxy", "rollout", "apply", "--plan-file", str(path), "--yes", "-o", "json",
                  "--timeout", "120", "--allowed-failures", "1", env=env)
    rows = {row["name"]: row for row in (r.json or [])}
    assert r.rc != 0 and rows, r.stderr[-3000:]
    assert (rows["c1"]["state"], rows["c2"]["state"], rows["c3"]["state"]) == ("done", "done", "failed"), rows
    assert "proxy check from a node failed" in rows["c3"]["detail"] and "current subscription" not in r.stderr
    writes = emu.writes(since)
    assert all(w["path"].split("/")[2] != current for w in writes)  # nothing lands in the current subscription
    runs = [w for w in writes if w["path"].lower().endswith("/runcommand")]
    puts = [w for w in writes if w["method"] == "PUT" and MC in w["path"] and w["status"] in (200, 201)]
    assert all("/virtualMachineScaleSets/" in w["path"] and w["status"] == 202 for w in runs)
    runs_per_cluster = {}
    for w in runs:
        runs_per_cluster.setdefault(cluster_of(w["path"]), []).append(w)
    # the default targets' count of distinct hosts, each with a leaf of its own: ONE run command per cluster
    assert {k: len(v) for k, v in runs_per_cluster.items()} == {(SUB_A, "c1"): 1, (SUB_B, "c2"): 1, (SUB_B, "c3"): 1}
    assert sorted(cluster_of(w["path"]) for w in puts) == [(SUB_A, "c1"), (SUB_B, "c2")]  # c3: zero writes
    for put in puts:  # each proven from its own nodes before its single write
        (run,) = runs_per_cluster[cluster_of(put["path"])]
        assert run["seq"] < put["seq"] and put["headers"].get("if-match")
    assert not [w for w in writes if cluster_of(w["path"]) == (SUB_B, "c3") and w not in runs]


def test_check_from_cluster_in_another_subscription(az_ext, fleet, env, tmp_path, all_subscriptions, hosts_proxy):
    emu = fleet
    config = tmp_path / "proxy.json"
    config.write_text(json.dumps(proxy_config(hosts_proxy.url, hosts_proxy)))
    r = az_ext.az("aks", "http-proxy", "check", "-g", "rg1", "-n", "c2", "--from-cluster", "--config", str(config),
                  "--subscription", SUB_B, "-o", "json", "--timeout", "5", env=env)
    assert r.ok, r.stderr[-3000:]
    assert len(r.json) == len(HOSTS) and all(row["code"] == "reached" for row in r.json)
    (run,) = [w for w in emu.writes() if w["path"].lower().endswith("/runcommand")]
    assert cluster_of(run["path"]) == (SUB_B, "c2")
    assert [w for w in emu.writes() if not w["path"].lower().endswith("/runcommand")] == []
