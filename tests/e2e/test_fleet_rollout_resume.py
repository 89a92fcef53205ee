"""`az aks http-proxy rollout apply` run again, through the real az and the wheel against the emulator, asserted on
its write journal: a re-run after a failed canary writes nothing later (until the failure is accepted by name or
written again), nodes on the old model are never done in the current subscription or another one (apply, status,
apply again), and SIGTERM or --stop-after leave a state whose re-run writes each cluster at most once."""
from __future__ import annotations

import json
import signal
import subprocess
import time

from tests.azcli import AZ
from tests.e2e.test_fleet_rollout import (
    MC,
    apply,
    cluster_puts,
    etag_of,
    node_checks,
    plan,
    seed,
    status,
)
from tests.proxies import dead_proxy

EXIT_HALTED, EXIT_HELD, EXIT_STOPPED = 4, 5, 6
OTHER = "0f1ee700-0000-4000-8000-00000000a002"
REIMAGE_FAILED = {"code": "ReimageFailed", "message": "Node reimage failed on aks-nodepool1-0."}


def states_of(result) -> dict:
    return {row["name"]: row["state"] for row in result.json}


def failed_canary(emu, az_ext, tmp_path, squid_proxy, names=("c1", "c2", "c3")):
    """Clusters of 1, 2, 3 nodes staged 1,10%,rest; the canary's reimage fails; the first apply halts."""
    for nodes, name in enumerate(names, start=1):
        seed(emu, name, dead_proxy(), nodes=nodes)
    r, path = plan(az_ext, tmp_path, "--http-proxy", squid_proxy.url, "--https-proxy", squid_proxy.url)
    assert r.ok, r
    emu.add_fault("operation_result", method="PUT", path_regex=MC + names[0] + "$", status="Failed",
                  error=REIMAGE_FAILED)
    return path


def test_a_rerun_after_a_failed_canary_writes_nothing_later_until_the_failure_is_accepted(
        az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    path = failed_canary(emu, az_ext, tmp_path, squid_proxy)
    r = apply(az_ext, path, env)
    assert r.rc == EXIT_HALTED and sorted(cluster_puts(emu)) == ["c1"], r
    assert status(az_ext, path) == {"c1": "failed", "c2": "pending", "c3": "pending"}

    since = emu.journal_last()
    for budget in ((), ("--allowed-failures", "1")):  # the CI "re-run" button, with or without a budget
        r = apply(az_ext, path, env, *budget)
        assert r.rc == EXIT_HALTED, r
        assert states_of(r) == {"c1": "failed", "c2": "pending", "c3": "pending"}
        rows = {row["name"]: row for row in r.json}
        assert rows["c2"]["detail"] == ("not started: an earlier stage holds a failed or unverified cluster"
                                        if budget else "not started: the rollout halted")
        assert "rg1/c1 (aksproxy-emulator) was failed before this run" in r.stderr and "--accept-failed" in r.stderr
    assert cluster_puts(emu, since) == {} and node_checks(emu, since) == []  # nothing later written, nor checked

    sub = emu.info()["subscription_id"]
    r = apply(az_ext, path, env, "--accept-failed", f"{sub}/rg1/c1", f"{sub}/rg1/nope")
    assert r.rc == 1 and f"not a cluster of the plan: {sub}/rg1/nope" in r.stderr, r
    r = apply(az_ext, path, env, "--accept-failed", f"{sub}/rg1/c2")
    assert r.rc == 1 and "not failed, drifted or unverified" in r.stderr and "c2 (pending)" in r.stderr, r
    assert emu.writes(since) == []

    r = apply(az_ext, path, env, "--accept-failed", f"{sub}/rg1/c1")  # c1 left as it is, the rest goes on
    assert r.rc == EXIT_HELD, r
    assert states_of(r) == {"c1": "failed", "c2": "done", "c3": "done"}
    assert {n: len(v) for n, v in cluster_puts(emu, since).items()} == {"c2": 1, "c3": 1}


def test_retry_failed_checks_and_writes_the_canary_again_over_the_etag_it_read(az_ext, fast, env, tmp_path,
                                                                               squid_proxy):
    emu = fast
    path = failed_canary(emu, az_ext, tmp_path, squid_proxy)
    assert apply(az_ext, path, env).rc == EXIT_HALTED
    # Someone writes between this run's read and its PUT: the If-Match on the eTag read answers 412.
    emu.add_fault("status", method="PUT", path_regex=MC + "c1$", code=412, error_code="PreconditionFailed",
                  message="The If-Match condition is not met.")
    since = emu.journal_last()
    r = apply(az_ext, path, env, "--retry-failed")
    assert r.rc == EXIT_HALTED, r
    assert states_of(r)["c1"] == "drifted" and cluster_puts(emu, since) == {}  # never overwritten, nothing later

    read = etag_of(emu, "c1")
    since = emu.journal_last()
    r = apply(az_ext, path, env, "--retry-failed")
    assert r.rc == 0, r
    assert states_of(r) == {"c1": "done", "c2": "done", "c3": "done"}
    puts = cluster_puts(emu, since)
    assert {n: len(v) for n, v in puts.items()} == {"c1": 1, "c2": 1, "c3": 1}
    assert puts["c1"][0]["headers"]["if-match"].strip('"') == read  # the eTag this run read, not the plan's
    assert puts["c1"][0]["t_end"] < puts["c2"][0]["t"]  # the canary proven again before the next stage
    assert "MC_rg1_c1_westus2" in {c["path"].split("/")[4] for c in node_checks(emu, since)}
    assert status(az_ext, path) == {"c1": "done", "c2": "done", "c3": "done"}


def test_nodes_on_the_old_model_are_never_done_in_either_subscription(az_ext, emu, env, tmp_path):
    # The older service: the PUT only changes the scale sets' model; the nodes keep the old one.
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=0.5, retry_after=1, proxy_change_reimages=False)
    proxy = dead_proxy()
    config = {"httpProxy": proxy, "httpsProxy": proxy, "noProxy": ["own.example"]}
    seed(emu, "c1", proxy, nodes=2)
    emu.seed_fleet([{"subscriptionId": OTHER, "displayName": "prod-3", "writable": True, "clusters": [
        {"resourceGroup": "rg1", "name": "p1", "properties": {"httpProxyConfig": config}}]}])
    az_ext.az("login", "--identity", "-o", "none", check=True)  # the other subscription into az's profile
    az_ext.az("account", "set", "-s", emu.info()["subscription_id"], check=True)
    path = tmp_path / "plan.json"
    r = az_ext.az("aks", "http-proxy", "rollout", "plan", "--all-subscriptions", "--add-no-proxy", ".new.example",
                  "--stages", "rest", "--max-concurrency", "2", "--plan-file", str(path), "-o", "json")
    assert r.ok, r.stderr
    since = emu.journal_last()
    r = apply(az_ext, path, env, "--skip-check", "--allowed-failures", "2")
    assert r.rc == EXIT_HELD, r
    rows = {row["name"]: row for row in r.json}
    for name, nodes in (("c1", 2), ("p1", 3)):
        assert rows[name]["state"] == "failed", rows
        assert f"still run the old model: nodepool1 (0 of {nodes} nodes on it)" in rows[name]["detail"]
    assert sorted(cluster_puts(emu, since)) == ["c1", "p1"]
    scale_set_reads = {e["path"].split("/")[2] for e in emu.journal(since)
                       if e["path"].lower().endswith("/virtualmachinescalesets")}
    assert scale_set_reads == {emu.info()["subscription_id"], OTHER}  # each read in its own subscription

    assert status(az_ext, path) == {"c1": "failed", "p1": "failed"}
    since = emu.journal_last()
    r = apply(az_ext, path, env, "--skip-check")
    assert r.rc == EXIT_HALTED and states_of(r) == {"c1": "failed", "p1": "failed"}, r  # never exit 0
    assert cluster_puts(emu, since) == {}

    # Scale sets that cannot be read: cannot tell, never done.
    emu.add_fault("status", method="GET", path_regex="/virtualMachineScaleSets$", code=403, times=-1,
                  error_code="AuthorizationFailed", message="The client does not have authorization.")
    r = az_ext.az("aks", "http-proxy", "rollout", "status", "--plan-file", str(path), "-o", "json")
    assert r.ok, r
    rows = {row["name"]: row for row in r.json}
    assert rows["c1"]["state"] == rows["p1"]["state"] == "unverified"
    assert "AuthorizationFailed" in rows["c1"]["detail"] and "cannot tell" in rows["p1"]["detail"]
    since = emu.journal_last()
    r = apply(az_ext, path, env, "--skip-check")
    assert r.rc == EXIT_HELD and states_of(r) == {"c1": "unverified", "p1": "unverified"}, r  # not done, not 0
    assert cluster_puts(emu, since) == {}


def run_apply(az_ext, path, env, *args) -> subprocess.Popen:
    return subprocess.Popen([AZ, "aks", "http-proxy", "rollout", "apply", "--plan-file", str(path), "--yes",
                             "-o", "json", *args], env={**az_ext.env, **env}, cwd=str(az_ext.home),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def many(emu, az_ext, tmp_path, count, concurrency):
    for i in range(1, count + 1):
        seed(emu, f"c{i}", dead_proxy(), nodes=1)
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--stages", "rest", "--max-concurrency",
                   str(concurrency))
    assert r.ok, r
    return path


def test_sigterm_stops_starting_clusters_and_the_rerun_writes_each_once(az_ext, emu, env, tmp_path):
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=4, retry_after=1)
    path = many(emu, az_ext, tmp_path, 4, 2)
    since = emu.journal_last()
    proc = run_apply(az_ext, path, env, "--skip-check")
    try:
        deadline = time.monotonic() + 90
        while len(cluster_puts(emu, since)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(cluster_puts(emu, since)) == 2, "the first two PUTs never came"
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == EXIT_STOPPED, err
    assert stopped_in < 10, stopped_in  # within the grace, not after the reimages
    rows = {row["name"]: row for row in json.loads(out)}
    assert {n: r["state"] for n, r in rows.items()} == {"c1": "running", "c2": "running", "c3": "pending",
                                                        "c4": "pending"}
    assert rows["c3"]["detail"] == "not started: the run stopped"
    assert "Rollout stopped (SIGTERM)" in err and "Apply the same plan again to resume" in err
    assert sorted(cluster_puts(emu, since)) == ["c1", "c2"]  # nothing half-written, nothing more started

    r = apply(az_ext, path, env, "--skip-check")
    assert r.rc == 0, r
    assert states_of(r) == {f"c{i}": "done" for i in range(1, 5)}
    assert {n: len(v) for n, v in cluster_puts(emu, since).items()} == {f"c{i}": 1 for i in range(1, 5)}


def test_stop_after_stops_resumably_and_a_bad_duration_is_refused(az_ext, emu, env, tmp_path):
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=2, retry_after=1)
    path = many(emu, az_ext, tmp_path, 3, 1)
    r = apply(az_ext, path, env, "--skip-check", "--stop-after", "5x")
    assert r.rc == 1 and "--stop-after: '5x' is not a duration" in r.stderr, r
    assert emu.writes() == []
    t0 = time.monotonic()
    r = apply(az_ext, path, env, "--skip-check", "--stop-after", "2s")
    assert r.rc == EXIT_STOPPED, r
    assert time.monotonic() - t0 < 30
    states = states_of(r)
    assert states["c3"] == "pending" and "Rollout stopped (--stop-after 2s)" in r.stderr
    written = cluster_puts(emu)
    assert "c3" not in written and all(len(v) == 1 for v in written.values())
    r = apply(az_ext, path, env, "--skip-check")
    assert r.rc == 0, r
    assert {n: len(v) for n, v in cluster_puts(emu).items()} == {"c1": 1, "c2": 1, "c3": 1}
