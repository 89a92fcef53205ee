"""az aks update --http-proxy-config FILE --upgrade-node-image through the real az against the emulator in the older
service's mode (no reimage by AKS, so every pool needs a node image upgrade): the output stays the cluster, the
per-pool result goes to stderr, and the exit code says whether the pools made it. Today's mode:
test_node_reimage.py."""
from __future__ import annotations

from tests.armemu.fixtures import load_data
from tests.armemu.state import DEFAULT_CONFIG

OLD, NEW = DEFAULT_CONFIG["node_images"]["ubuntu"]


def seed(emu, *pools, **config):
    emu.configure(proxy_change_reimages=False, **config)
    emu.seed_cluster("rg1", "c1", http_proxy_config=load_data("httpproxyconfig.json"),
                     pools=[{"name": p} for p in pools])


def update(az_ext, recorded_data, *extra):
    return az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                     recorded_data / "httpproxyconfig_update.json", "--upgrade-node-image", *extra)


def summary(result):
    """The per-pool rows of the stderr table: {pool: [fields...]}."""
    return {line.split()[0]: line.split()[1:] for line in result.stderr.splitlines()
            if line.split() and line.split()[0] in ("np1", "np2")}


def writes(emu):
    return [(e["method"], e["path"].rsplit("/", 2)[-2:], e["status"], e["t"]) for e in emu.writes()]


def test_update_then_every_pool_upgraded_with_the_cluster_as_output(az_ext, emu, recorded_data):
    seed(emu, "np1", "np2", cluster_update_seconds=2, pool_upgrade_seconds=2)
    r = update(az_ext, recorded_data)
    assert r.ok, r
    assert r.json["httpProxyConfig"]["httpProxy"] == load_data("httpproxyconfig_update.json")["httpProxy"]
    assert {pool: fields[:3] for pool, fields in summary(r).items()} == {p: [OLD, NEW, "Succeeded"]
                                                                         for p in ("np1", "np2")}
    put, *pool_posts = writes(emu)
    assert put[0] == "PUT" and sorted(w[1][0] for w in pool_posts) == ["np1", "np2"]
    # the pools were started only once the 2 s cluster update had finished
    assert all(w[0] == "POST" and w[2] == 202 and w[3] - put[3] >= 2 for w in pool_posts)


def test_a_failing_pool_keeps_the_cluster_output_and_fails_the_exit_code(az_ext, emu, recorded_data):
    seed(emu, "np1", "np2", cluster_update_seconds=1, pool_upgrade_seconds=1)
    emu.add_fault("operation_result", method="POST", path_regex="/agentPools/np2/upgradeNodeImageVersion$")
    r = update(az_ext, recorded_data)
    assert r.rc == 1
    assert r.json["name"] == "c1"  # the update itself succeeded: its output is intact
    rows = summary(r)
    assert rows["np1"][2] == "Succeeded" and rows["np2"][2] == "Failed"
    assert "np2 Failed. Re-run `az aks http-proxy upgrade-nodes -g rg1 -n c1`" in r.stderr


def test_no_wait_waits_for_the_update_and_only_starts_the_pools(az_ext, emu, recorded_data):
    seed(emu, "np1", "np2", cluster_update_seconds=1, pool_upgrade_seconds=30)
    r = update(az_ext, recorded_data, "--no-wait")
    assert r.ok, r
    assert {rows[2] for rows in summary(r).values()} == {"InProgress"}
    assert sorted((w[1][0], w[2]) for w in writes(emu) if w[0] == "POST") == [("np1", 202), ("np2", 202)]
    pools = emu.cluster_state("rg1", "c1")["stored"]["properties"]["agentPoolProfiles"]
    assert {p["provisioningState"] for p in pools} == {"UpgradingNodeImageVersion"}
    emu.finish_operations()
