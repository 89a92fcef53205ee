"""`az aks http-proxy check --from-cluster` and `az aks update --check-proxy` taking the in-cluster route: the real az
with the extension, the emulator's run commands running the generated script as the "node" (tests/armemu/node.py),
real squid and mitmdump on loopback.

The seeded cluster's CURRENT proxy is a dead port: the emulator puts it into the node's environment, so a probe that
used the node's own proxy variables instead of the new config would fail. The origins' trustme CA plays the public
roots (AZURE_AKSPROXY_PUBLIC_CA_BUNDLE).
"""
from __future__ import annotations

import json

import pytest

from tests.proxies import (
    b64_pem,
    cn_only_chain,
    dead_proxy,
    mitm_ca_pem,
    mitmdump,
    origin,
    squid,
    write_config,
)

HIDDEN = "origin.aksproxy.test"  # resolved by squid only: behind the proxy, not reachable from the node directly
RUN_COMMAND = "/runcommand"


@pytest.fixture(scope="module")
def hidden_origin(origin_ca):
    with origin(origin_ca, names=(HIDDEN,)) as o:
        yield o


@pytest.fixture(scope="module")
def squid_proxy():
    with squid(hosts={HIDDEN: "127.0.0.1"}) as proxy:
        yield proxy


@pytest.fixture
def cluster(emu):
    emu.seed_cluster("rg1", "c1", http_proxy_config={"httpProxy": dead_proxy(), "httpsProxy": dead_proxy()})
    return emu


def check(az_ext, config, env, *targets, timeout=5, az_timeout=None):
    """check --from-cluster of rg1/c1; ``timeout`` per probe, ``az_timeout`` for the whole az call."""
    args = ["aks", "http-proxy", "check", "-g", "rg1", "-n", "c1", "--from-cluster", "--config", config,
            "--timeout", str(timeout), "-o", "json"]
    for target in targets:
        args += ["--target", target]
    return az_ext.az(*args, env=env, timeout=az_timeout)


def cluster_writes(emu):
    """Writes other than the run commands (which run a script and change nothing)."""
    return [w for w in emu.writes() if not w["path"].lower().endswith(RUN_COMMAND)]


def node_runs(emu):
    return [w for w in emu.writes() if w["path"].lower().endswith(RUN_COMMAND)]


def assert_ran_on_a_node(emu, row):
    assert row["ranOn"].startswith("node aks-nodepool1-") and row["ranOn"].endswith("vmss000000")
    runs = node_runs(emu)
    assert runs and all("/virtualMachineScaleSets/" in r["path"] and r["status"] == 202 for r in runs)
    assert runs[0]["body"]["commandId"] == "RunShellScript"
    assert cluster_writes(emu) == []


def test_good_config_passes_from_a_node_and_ignores_the_nodes_current_proxy(
        az_ext, cluster, env, tmp_path, squid_proxy, https_origin, hidden_origin):
    hidden = f"https://{HIDDEN}:{hidden_origin.port}/"
    config = write_config(tmp_path, squid_proxy.url)
    r = check(az_ext, config, env, https_origin.url, hidden)
    assert r.ok, r
    rows = r.json
    assert [row["code"] for row in rows] == ["reached", "reached"]
    for row in rows:
        assert_ran_on_a_node(cluster, row)
        assert row["via"] == "httpsProxy" and row["status"] == 200 and row["tls"]["trustedBy"] == "public roots"
        assert row["message"].startswith(f"From {row['ranOn']}: reached through httpsProxy {squid_proxy.url}")
    log = (squid_proxy.workdir / "access.log").read_text()
    assert f"CONNECT 127.0.0.1:{https_origin.port}" in log and f"CONNECT {HIDDEN}:{hidden_origin.port}" in log
    (run,) = cluster.run_commands()
    assert run["kind"] == "vmss" and run["done"] and run["exitCode"] == 0
    assert "env -i" in run["script"] and squid_proxy.url in run["script"]
    assert "Checking 2 target(s) from node aks-nodepool1-" in r.stderr


def test_dead_proxy_is_refused_naming_the_node(az_ext, cluster, env, tmp_path, https_origin):
    dead = dead_proxy()
    r = check(az_ext, write_config(tmp_path, dead), env, https_origin.url)
    assert r.rc == 1, r
    (row,) = r.json
    assert row["code"] == "proxy-unreachable" and row["severity"] == "error"
    assert_ran_on_a_node(cluster, row)
    assert row["message"].startswith(f"{row['ranOn'].capitalize()} cannot reach httpsProxy {dead}")
    assert "1 of 1 target(s) failed" in r.stderr


def test_interception_with_a_ca_missing_from_trusted_ca_is_refused(az_ext, cluster, env, tmp_path, mitm,
                                                                   https_origin):
    r = check(az_ext, write_config(tmp_path, mitm.url), env, https_origin.url)
    assert r.rc == 1, r
    (row,) = r.json
    assert row["code"] == "tls-untrusted" and "O=mitmproxy,CN=mitmproxy" in row["message"]
    assert row["tls"]["intercepted"] and row["tls"]["verified"] is False
    assert_ran_on_a_node(cluster, row)
    assert row["message"].startswith(f"From {row['ranOn']}: ")


def test_interception_with_a_ca_without_sans_is_refused(az_ext, cluster, env, tmp_path, origin_ca, https_origin):
    certs_pem, ca_pem = cn_only_chain()
    with mitmdump(origin_ca, certs_pem=certs_pem) as proxy:
        r = check(az_ext, write_config(tmp_path, proxy.url, trustedCa=b64_pem(ca_pem)), env, https_origin.url)
    (run,) = cluster.run_commands()
    assert b64_pem(ca_pem) not in run["script"] and "-----BEGIN" not in run["script"]  # trust is judged by aksproxy
    assert r.rc == 1, r
    (row,) = r.json
    assert row["code"] == "tls-no-san" and "CN-only" in row["message"]
    assert row["tls"]["trustedBy"] == "trustedCa" and row["tls"]["sans"] is None
    assert_ran_on_a_node(cluster, row)


def test_no_proxy_target_the_node_cannot_reach_directly_is_refused(az_ext, cluster, env, tmp_path, squid_proxy,
                                                                    hidden_origin):
    hidden = f"https://{HIDDEN}:{hidden_origin.port}/"
    config = write_config(tmp_path, squid_proxy.url, noProxy=["localhost", ".aksproxy.test"])
    log = squid_proxy.workdir / "access.log"
    seen = len(log.read_text()) if log.exists() else 0
    r = check(az_ext, config, env, hidden)
    assert r.rc == 1, r
    required, row = r.json
    assert required["code"] == "reached" and required["via"] == "httpsProxy"
    assert (row["code"], row["via"]) == ("direct-unreachable", "noProxy")
    assert "'.aksproxy.test'" in row["message"] and "Remove '.aksproxy.test' from noProxy" in row["fix"]
    assert_ran_on_a_node(cluster, row)
    assert HIDDEN not in (log.read_text()[seen:] if log.exists() else "")  # the node went direct, not via squid


def test_a_chain_shared_by_many_targets_comes_back_once(az_ext, cluster, env, tmp_path, mitm, https_origin):
    targets = [f"{https_origin.url}p{i}" for i in range(12)]
    config = write_config(tmp_path, mitm.url, trustedCa=b64_pem(mitm_ca_pem(mitm)))
    r = check(az_ext, config, env, *targets)
    assert r.ok, r
    assert [row["target"] for row in r.json] == [https_origin.url, *targets]  # the required endpoint first
    assert all(row["code"] == "reached" and row["tls"]["trustedBy"] == "trustedCa" for row in r.json)
    (run,) = cluster.run_commands()  # 12 intercepted chains once overflowed one run command's 4,096 bytes
    # the leaf was checked on the node against the new trustedCa, which aksproxy has: no certificate comes back
    assert len(run["stdout"].encode()) < 4096 and run["stdout"].count(" cert ") == 0


@pytest.mark.parametrize("locked", [False, True], ids=["scale-set run command", "probe pod"])
def test_a_hundred_targets_each_get_a_row_in_a_few_runs(az_ext, emu, env, tmp_path, mitm, https_origin, locked):
    emu.seed_cluster("rg1", "c1", properties=LOCKED if locked else {})
    targets = [f"{https_origin.url}t{i}" for i in range(100)]
    config = write_config(tmp_path, mitm.url, trustedCa=b64_pem(mitm_ca_pem(mitm)))
    r = check(az_ext, config, env, *targets)
    assert r.ok, [row["message"] for row in r.json or [] if row["severity"] == "error"][:3] or r.stderr[-2000:]
    assert [row["target"] for row in r.json] == [https_origin.url, *targets]
    assert all(row["code"] == "reached" and row["tls"]["trustedBy"] == "trustedCa" for row in r.json)
    runs = [run for run in emu.run_commands() if run["kind"] == ("aks" if locked else "vmss")]
    if locked:
        assert len(runs) == 1  # AKS run command returns up to 512 KB
    else:
        assert 2 <= len(runs) <= 3  # each certificate comes once: 101 short records fit into a few 4,096-byte tails
        assert len(runs[0]["stdout"].encode()) > 4096  # the first output was cut: the rest asked again


LOCKED = {"nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"}}
NODE = "aks-nodepool1-"


def pod_events(emu):
    return emu.kube_events("rg1", "c1")


def assert_pod_deleted(emu):
    """One probe pod was created on a node and deleted; nothing else was created or left behind."""
    events = pod_events(emu)
    created = [e for e in events if e["verb"] == "create" and e["allowed"]]
    assert len(created) >= 1 and all(e["namespace"] == "default" for e in created)
    deleted = {(e["namespace"], e["name"]) for e in events if e["verb"] == "delete"}
    assert {(e["namespace"], e["name"]) for e in created} == deleted
    assert not [e for e in events if e["verb"] == "left-running"]
    return created


def test_locked_node_resource_group_gets_a_verdict_from_a_pod_on_a_node(az_ext, emu, env, tmp_path, squid_proxy,
                                                                         https_origin, hidden_origin):
    emu.seed_cluster("rg1", "c1", properties=LOCKED, http_proxy_config={"httpProxy": dead_proxy()})
    emu.configure(aks_command_pod_missing_tools=["curl", "openssl"])  # the run command pod's image has neither
    hidden = f"https://{HIDDEN}:{hidden_origin.port}/"
    r = check(az_ext, write_config(tmp_path, squid_proxy.url), env, hidden)
    assert r.ok, r
    rows = r.json
    assert [row["code"] for row in rows] == ["reached", "reached"]
    for row in rows:
        assert row["ranOn"].startswith(f"node {NODE}") and row["ranOn"].endswith("vmss000000 (pod)")
        assert row["message"].startswith(f"From {row['ranOn']}: reached through httpsProxy")
    assert "AuthorizationFailed" in r.stderr and "through AKS run command" in r.stderr
    vmss_run, aks_run = node_runs(emu)
    assert vmss_run["status"] == 403 and vmss_run["response"]["error"]["code"] == "AuthorizationFailed"
    assert aks_run["path"].lower().endswith("/managedclusters/c1/runcommand") and aks_run["status"] == 202
    assert aks_run["body"]["command"] == "bash aksproxy-node-pod.sh"
    assert cluster_writes(emu) == []
    (created,) = assert_pod_deleted(emu)
    pod = created["pod"]
    spec = pod["spec"]
    assert created["node"] == row["ranOn"].split()[1] == spec["nodeName"]
    assert spec["hostNetwork"] and spec["hostPID"] and spec["volumes"][0]["hostPath"]["path"] == "/"
    assert spec["containers"][0]["image"] == emu.config()["aks_command_pod_image"]  # the run command pod's own
    assert spec["containers"][0]["command"][:2] == ["chroot", "/host"]
    assert pod["metadata"]["annotations"]["kubernetes.azure.com/no-http-proxy-vars"] == "true"
    assert f"CONNECT {HIDDEN}:{hidden_origin.port}" in (squid_proxy.workdir / "access.log").read_text()


@pytest.mark.parametrize("admission, cause, said", [
    ("PodSecurity", "Pod Security admission", 'violates PodSecurity "baseline:latest": host namespaces'),
    ("Gatekeeper", "Azure Policy (Gatekeeper)", 'admission webhook "validation.gatekeeper.sh" denied the request'),
    ("RBAC", "Kubernetes RBAC", 'cannot create resource "pods"'),
])
def test_a_refused_probe_pod_fails_closed_naming_the_cause(az_ext, emu, env, tmp_path, squid_proxy, https_origin,
                                                          admission, cause, said):
    emu.seed_cluster("rg1", "c1", properties=LOCKED)
    emu.configure(kube_admission=admission)
    r = check(az_ext, write_config(tmp_path, squid_proxy.url), env, https_origin.url)
    assert r.rc == 1 and r.json is None, r
    assert f"The probe pod on node {NODE}" in r.stderr and f"was refused by {cause}: " in r.stderr
    assert said in r.stderr and "Nothing was checked and nothing was written" in r.stderr
    assert cluster_writes(emu) == []
    events = pod_events(emu)
    assert [(e["verb"], e["allowed"]) for e in events] == [("create", False)]  # refused: no pod, nothing to delete


@pytest.mark.parametrize("behaviour, said", [
    ("fail", "ended Failed; it was deleted and nothing was written"),
    ("hang", "did not finish within 3 s (last phase Pending"),
])
def test_the_probe_pod_is_deleted_when_it_fails_or_times_out(az_ext, emu, env, tmp_path, squid_proxy, https_origin,
                                                             behaviour, said):
    emu.seed_cluster("rg1", "c1", properties=LOCKED)
    emu.configure(kube_pod_behaviour=behaviour)
    r = check(az_ext, write_config(tmp_path, squid_proxy.url), {**env, "AZURE_AKSPROXY_NODE_POD_TIMEOUT": "3"},
              https_origin.url)
    assert r.rc == 1 and r.json is None, r
    assert said in r.stderr, r.stderr
    assert cluster_writes(emu) == []
    assert_pod_deleted(emu)


def test_the_probe_pod_is_deleted_after_a_failing_probe(az_ext, emu, env, tmp_path, https_origin):
    emu.seed_cluster("rg1", "c1", properties=LOCKED)
    dead = dead_proxy()
    r = check(az_ext, write_config(tmp_path, dead), env, https_origin.url)
    assert r.rc == 1, r
    (row,) = r.json
    assert row["code"] == "proxy-unreachable" and row["ranOn"].endswith("(pod)")
    assert_pod_deleted(emu)


def test_from_cluster_needs_the_cluster(az_ext, env, tmp_path, squid_proxy):
    r = az_ext.az("aks", "http-proxy", "check", "--config", write_config(tmp_path, squid_proxy.url),
                  "--from-cluster", env=env)
    assert r.rc == 2 or r.rc == 1, r
    assert "--from-cluster needs the cluster" in r.stderr


def update(az_ext, config, env, *extra):
    return az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config", config, "--check-proxy",
                     *extra, "-o", "json", env=env)


def test_update_check_proxy_runs_from_a_node_and_a_failing_probe_stops_it(az_ext, cluster, env, tmp_path):
    env = {**env, "AZURE_AKSPROXY_CHECK_TIMEOUT": "5"}
    r = update(az_ext, write_config(tmp_path, dead_proxy()), env)
    assert r.rc != 0, r
    assert "--check-proxy: 1 of 1 target(s) failed" in r.stderr and "proxy-unreachable" in r.stderr
    assert "Node aks-nodepool1-" in r.stderr and "nothing was written to the cluster" in r.stderr
    assert "Details: az aks http-proxy check --config FILE -g rg1 -n c1 --from-cluster" in r.stderr
    assert node_runs(cluster) and cluster_writes(cluster) == []


def test_update_check_proxy_from_a_node_lets_a_good_update_through(az_ext, cluster, env, tmp_path, squid_proxy):
    config = write_config(tmp_path, squid_proxy.url)
    r = update(az_ext, config, env)
    assert r.ok, r
    assert "--check-proxy: 1 target(s) checked from node aks-nodepool1-" in r.stderr
    writes = cluster_writes(cluster)
    assert [w["method"] for w in writes] == ["PUT"]
    assert node_runs(cluster)[0]["seq"] < writes[0]["seq"]
    assert writes[0]["body"]["properties"]["httpProxyConfig"] == json.loads(config.read_text())


def test_update_check_proxy_on_a_locked_cluster_probes_from_a_pod_then_writes(az_ext, emu, env, tmp_path,
                                                                                squid_proxy):
    emu.seed_cluster("rg1", "c1", properties=LOCKED)
    config = write_config(tmp_path, squid_proxy.url)
    r = update(az_ext, config, env)
    assert r.ok, r
    assert "--check-proxy: 1 target(s) checked from node aks-nodepool1-" in r.stderr and "(pod)" in r.stderr
    writes = cluster_writes(emu)
    assert [w["method"] for w in writes] == ["PUT"]
    assert node_runs(emu)[-1]["seq"] < writes[0]["seq"]
    assert_pod_deleted(emu)


def test_update_check_proxy_from_local_does_not_touch_the_nodes(az_ext, cluster, env, tmp_path, squid_proxy):
    r = update(az_ext, write_config(tmp_path, squid_proxy.url), env, "--check-proxy-from", "local")
    assert r.ok, r
    assert "--check-proxy: 1 target(s) checked from this machine, none failed." in r.stderr
    assert node_runs(cluster) == [] and cluster.run_commands() == []


def test_a_node_busy_with_another_run_command_is_skipped_for_the_next(az_ext, cluster, env, tmp_path, squid_proxy,
                                                                      https_origin):
    nrg = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/MC_rg1_c1_westus2"
    status, _, body = cluster.arm("GET", nrg + "/providers/Microsoft.Compute/virtualMachineScaleSets",
                                  api_version="2024-11-01")
    vmss = body["value"][0]["name"]
    status, _, _ = cluster.arm("POST", f"{nrg}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}/"
                                       "virtualMachines/0/runCommand",
                               {"commandId": "RunShellScript", "script": ["sleep 20"]}, api_version="2024-11-01")
    assert status == 202
    cluster.clear_journal()
    r = check(az_ext, write_config(tmp_path, squid_proxy.url), env, https_origin.url)
    assert r.ok, r
    (row,) = r.json
    assert row["code"] == "reached" and row["ranOn"] == f"node {vmss}000001"
    assert f"Node {vmss}000000 is running another run command" in r.stderr
    assert [w["status"] for w in node_runs(cluster)] == [409, 202]


def test_help_documents_the_in_cluster_route(az_ext):
    check_help = az_ext.az("aks", "http-proxy", "check", "--help")
    text = " ".join(check_help.stdout.split())  # help is wrapped to the terminal's width
    assert check_help.ok and "--from-cluster" in text and "AKS run command" in text
    assert "Check them from one of the cluster's nodes" in text and "or one of the cluster's nodes" in text
    update_help = az_ext.az("aks", "update", "--help")
    text = " ".join(update_help.stdout.split())
    assert update_help.ok and "--check-proxy-from" in text and "Check the new proxy from this machine instead" in text


def test_table_output_says_where_each_row_ran(az_ext, cluster, env, tmp_path, squid_proxy, https_origin):
    config = write_config(tmp_path, squid_proxy.url)
    r = az_ext.az("aks", "http-proxy", "check", "-g", "rg1", "-n", "c1", "--from-cluster", "--config", config,
                  "--target", https_origin.url, "-o", "table", env=env)
    assert r.ok, r
    header, _, row = r.stdout.splitlines()[:3]
    assert header.split()[:5] == ["Result", "Code", "Target", "Via", "RanOn"]
    cells = row.split()
    assert cells[:5] == ["info", "reached", https_origin.url, "httpsProxy", "node"]
    assert cells[5].startswith("aks-nodepool1-") and cells[5].endswith("vmss000000")


def test_check_proxy_from_needs_check_proxy(az_ext, cluster, env, tmp_path, squid_proxy):
    r = az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                  write_config(tmp_path, squid_proxy.url), "--check-proxy-from", "local", env=env)
    assert r.rc != 0 and "--check-proxy-from says where --check-proxy probes from: add --check-proxy." in r.stderr
    assert cluster.writes() == []


def test_nodepool_name_picks_the_pool_whose_node_runs_the_check(az_ext, emu, env, tmp_path, squid_proxy):
    emu.seed_cluster("rg1", "c1", pools=[{"name": "nodepool1", "count": 1, "mode": "System"},
                                         {"name": "egress2", "count": 2, "mode": "User"}])
    config = write_config(tmp_path, squid_proxy.url)
    r = az_ext.az("aks", "http-proxy", "check", "-g", "rg1", "-n", "c1", "--from-cluster", "--config", config,
                  "--nodepool-name", "egress2", "-o", "json", env=env)
    assert r.ok, r
    (row,) = r.json
    assert row["ranOn"].startswith("node aks-egress2-") and row["ranOn"].endswith("vmss000000")
    unknown = az_ext.az("aks", "http-proxy", "check", "-g", "rg1", "-n", "c1", "--from-cluster", "--config", config,
                        "--nodepool-name", "nope", env=env)
    assert unknown.rc != 0 and "--nodepool-name nope: the cluster has no such node pool; it has egress2, nodepool1" \
        in unknown.stderr
    assert cluster_writes(emu) == [] and len(node_runs(emu)) == 1


def test_both_routes_refused_is_an_error_that_says_what_to_do(az_ext, emu, env, tmp_path, squid_proxy):
    emu.seed_cluster("rg1", "c1", properties={"nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"},
                                              "apiServerAccessProfile": {"disableRunCommand": True}})
    r = check(az_ext, write_config(tmp_path, squid_proxy.url), env)
    assert r.rc == 1 and r.json is None, r
    assert "AKS run command was refused too: (RunCommandDisabled)" in r.stderr
    assert emu.kube_events("rg1", "c1") == []
    assert "from a machine in the cluster's network" in r.stderr
    assert [w["status"] for w in node_runs(emu)] == [403, 400] and cluster_writes(emu) == []
