"""`az aks http-proxy rollout plan|apply|status` through the real az against the emulator: the proxy check from a node
(the emulator's run commands, a real squid on loopback), PUTs with If-Match asserted on the write journal, a canary
failure halting before the next stage, a cluster changed after the plan refused, a Block-policy cluster held, an
unchanged cluster never written, a killed apply resumed with each cluster written once, a CA rotation as two
rollouts, and bad input refused with zero writes."""
from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.azcli import AZ
from tests.proxies import dead_proxy

MC = "/providers/Microsoft.ContainerService/managedClusters/"
RUN_COMMAND = "/runcommand"
EXIT_HALTED, EXIT_HELD = 4, 5  # az's own: 1 error, 2 usage, 3 not found


def seed(emu, name, proxy, *, rg="rg1", nodes=3, no_proxy=("localhost", "corp.example"), tags=None, **props):
    emu.seed_cluster(rg, name, pools=[{"name": "nodepool1", "count": nodes, "vmSize": "Standard_DS2_v2",
                                       "mode": "System", "osType": "Linux"}],
                     http_proxy_config={"httpProxy": proxy, "httpsProxy": proxy, "noProxy": list(no_proxy)},
                     properties=props or None, **({"tags": tags} if tags else {}))


def plan(az_ext, tmp_path, *args, name="plan.json", env=None):
    path = tmp_path / name
    r = az_ext.az("aks", "http-proxy", "rollout", "plan", "-g", "rg1", "--plan-file", str(path), *args,
                  "-o", "json", env=env)
    return r, path


def apply(az_ext, path, env, *args):
    return az_ext.az("aks", "http-proxy", "rollout", "apply", "--plan-file", str(path), "--yes", "-o", "json",
                     "--timeout", "60", *args, env=env)


def status(az_ext, path, env=None):
    r = az_ext.az("aks", "http-proxy", "rollout", "status", "--plan-file", str(path), "-o", "json", env=env)
    assert r.ok, r
    return {row["name"]: row["state"] for row in r.json}


def cluster_puts(emu, since=0) -> dict:
    """{cluster name: [accepted PUT journal entries]} (refused ones, run commands and other writes aside)."""
    out: dict = {}
    for w in emu.writes(since):
        if w["method"] == "PUT" and MC in w["path"] and w["path"].count("/") == 8 and w["status"] in (200, 201):
            out.setdefault(w["path"].rsplit("/", 1)[-1], []).append(w)
    return out


def node_checks(emu, since=0) -> list:
    return [w for w in emu.writes(since) if w["path"].lower().endswith(RUN_COMMAND)]


def etag_of(emu, name, rg="rg1") -> str:
    status, _, body = emu.arm("GET", cluster_path(emu, name, rg))
    assert status == 200, body
    return body["eTag"]


def cluster_path(emu, name, rg="rg1") -> str:
    return f"/subscriptions/{emu.info()['subscription_id']}/resourceGroups/{rg}{MC}{name}"


def test_plan_apply_status_then_apply_again_writes_nothing(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    seed(emu, "c1", dead_proxy(), nodes=1)
    seed(emu, "c2", dead_proxy(), nodes=3, no_proxy=("localhost", "own.c2.example"))
    seed(emu, "c3", squid_proxy.url)  # already runs the new proxy: unchanged
    etags = {n: etag_of(emu, n) for n in ("c1", "c2", "c3")}

    r, path = plan(az_ext, tmp_path, "--http-proxy", squid_proxy.url, "--https-proxy", squid_proxy.url,
                   "--stages", "1,rest")
    assert r.ok, r
    assert not emu.writes()  # planning writes nothing
    doc = json.loads(path.read_text())
    assert doc["schemaVersion"] == 1
    by_name = {c["name"]: c for c in doc["clusters"]}
    assert {n: (c["stage"], c["action"]) for n, c in by_name.items()} == {
        "c1": ("stage-1", "change"), "c2": ("stage-2", "change"), "c3": ("stage-2", "unchanged")}
    # The stored config with only the edit applied: its own entries and localhost kept, the proxies replaced.
    assert {"localhost", "own.c2.example"} <= set(by_name["c2"]["after"]["noProxy"])
    assert by_name["c2"]["changedFields"] == ["httpProxy", "httpsProxy"] and by_name["c2"]["nodes"] == 3
    assert {n: c["eTag"] for n, c in by_name.items()} == etags
    assert doc["totals"] == {"clusters": 3, "changed": 2, "unchanged": 1, "held": 0, "nodes": 4}
    assert "2 to change (4 node(s) reimaged), 1 unchanged, 0 held" in r.stderr

    since = emu.journal_last()
    r = apply(az_ext, path, env)
    assert r.rc == 0, r
    assert {row["name"]: row["state"] for row in r.json} == {"c1": "done", "c2": "done", "c3": "unchanged"}
    puts = cluster_puts(emu, since)
    assert sorted(puts) == ["c1", "c2"] and all(len(v) == 1 for v in puts.values())  # c3 never written
    for name, (put,) in puts.items():
        assert put["headers"]["if-match"].strip('"') == etags[name]  # the plan's eTag
        assert put["body"]["properties"]["httpProxyConfig"]["httpsProxy"] == squid_proxy.url
    assert puts["c1"][0]["t_end"] < puts["c2"][0]["t"]  # the canary stage before the next
    assert len(node_checks(emu, since)) >= 2  # proven from a node of each written cluster
    assert "Rollout: rg1/c1 (aksproxy-emulator): checking the new config from one of its nodes" in r.stderr
    assert "Rollout: done" in r.stderr

    assert status(az_ext, path) == {"c1": "done", "c2": "done", "c3": "unchanged"}
    html = tmp_path / "rollout.html"
    r = az_ext.az("aks", "http-proxy", "rollout", "status", "--plan-file", str(path), "--report", str(html),
                  "-o", "none")
    assert r.ok and "Report written to" in r.stderr, r
    page = html.read_text()
    assert "HTTP proxy rollout plan.json" in page and "st-done" in page and squid_proxy.url not in page
    since = emu.journal_last()
    again = apply(az_ext, path, env)
    assert again.rc == 0, again
    assert not emu.writes(since)  # done clusters are not written again, not even checked


def test_canary_check_failure_halts_before_the_next_stage(az_ext, fast, env, tmp_path):
    emu = fast
    for name, nodes in (("c1", 1), ("c2", 2), ("c3", 3)):
        seed(emu, name, dead_proxy(), nodes=nodes)
    r, path = plan(az_ext, tmp_path, "--http-proxy", dead_proxy(), "--https-proxy", dead_proxy())
    assert r.ok, r
    since = emu.journal_last()
    r = apply(az_ext, path, env)
    assert r.rc == EXIT_HALTED, r
    rows = {row["name"]: row for row in r.json}
    assert rows["c1"]["state"] == "failed" and "proxy check from a node failed" in rows["c1"]["detail"]
    assert rows["c2"]["state"] == rows["c3"]["state"] == "pending"
    assert "not started: the rollout halted" in rows["c2"]["detail"]
    assert cluster_puts(emu, since) == {}  # nothing written anywhere
    assert {c["path"].split("/")[4] for c in node_checks(emu, since)} == {"MC_rg1_c1_westus2"}  # only the canary
    assert "Rollout halted after 1 failure(s)" in r.stderr


def test_canary_reimage_failure_halts_with_zero_writes_to_later_clusters(az_ext, fast, env, tmp_path,
                                                                         squid_proxy):
    emu = fast
    for name, nodes in (("c1", 1), ("c2", 2), ("c3", 3)):
        seed(emu, name, dead_proxy(), nodes=nodes)
    r, path = plan(az_ext, tmp_path, "--http-proxy", squid_proxy.url, "--https-proxy", squid_proxy.url)
    assert r.ok, r
    emu.add_fault("operation_result", method="PUT", path_regex=MC + "c1$", status="Failed",
                  error={"code": "ReimageFailed", "message": "Node reimage failed on aks-nodepool1-0."})
    since = emu.journal_last()
    r = apply(az_ext, path, env)
    assert r.rc == EXIT_HALTED, r
    rows = {row["name"]: row for row in r.json}
    assert rows["c1"]["state"] == "failed" and "ReimageFailed" in rows["c1"]["detail"]
    assert sorted(cluster_puts(emu, since)) == ["c1"]  # c2 and c3 (later stages) never written
    assert status(az_ext, path) == {"c1": "failed", "c2": "pending", "c3": "pending"}


def test_cluster_changed_after_the_plan_is_refused_and_a_block_cluster_held(az_ext, fast, env, tmp_path,
                                                                           squid_proxy):
    emu = fast
    seed(emu, "c1", squid_proxy.url, nodes=1)
    seed(emu, "c2", squid_proxy.url, nodes=2)
    seed(emu, "c3", squid_proxy.url, nodes=3, nodeDisruptionProfile={"nodeDisruptionPolicy": "Block"})
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--stages", "rest",
                   "--max-concurrency", "1")
    assert r.ok, r
    by_name = {c["name"]: c for c in json.loads(path.read_text())["clusters"]}
    assert by_name["c3"]["action"] == "held" and "Block" in by_name["c3"]["reason"]
    # Someone else changes c2 after the plan (a new eTag, another noProxy).
    emu.arm("PUT", cluster_path(emu, "c2"), {
        "location": "westus2", "properties": {"httpProxyConfig": {
            "httpProxy": squid_proxy.url, "httpsProxy": squid_proxy.url, "noProxy": ["someone.else"]}}})
    time.sleep(1.2)  # that update's own operation ends
    since = emu.journal_last()
    r = apply(az_ext, path, env, "--allowed-failures", "1")
    assert r.rc == EXIT_HELD, r
    rows = {row["name"]: row for row in r.json}
    assert rows["c1"]["state"] == "done"
    assert rows["c2"]["state"] == "drifted" and "never overwritten" in rows["c2"]["detail"]
    assert rows["c3"]["state"] == "held"
    assert sorted(cluster_puts(emu, since)) == ["c1"]  # 0 writes to c2 and c3
    # The CI "re-run": the drift is read again, the same outcome, and nothing is written.
    since = emu.journal_last()
    again = apply(az_ext, path, env, "--allowed-failures", "1")
    assert again.rc == EXIT_HELD and {row["name"]: row["state"] for row in again.json} == {
        "c1": "done", "c2": "drifted", "c3": "held"}, again
    assert cluster_puts(emu, since) == {}


# az as a terminal starts it, with SIGINT's default action: a shell's background job (a CI step run with `&`, say)
# ignores SIGINT and passes that on to every child (POSIX), and then Python installs no KeyboardInterrupt handler.
DEFAULT_SIGINT_THEN_EXEC = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); " \
                           "os.execv(sys.argv[1], sys.argv[1:])"
WITH_DEFAULT_SIGINT = (sys.executable, "-c", DEFAULT_SIGINT_THEN_EXEC)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_a_killed_apply_resumed_writes_each_cluster_once(az_ext, emu, env, tmp_path, squid_proxy, how):
    # long enough a reimage for status and the next apply (two az start-ups on a busy machine) to find it running
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=20, retry_after=1)
    seed(emu, "c1", dead_proxy(), nodes=1)
    seed(emu, "c2", dead_proxy(), nodes=2)
    r, path = plan(az_ext, tmp_path, "--http-proxy", squid_proxy.url, "--https-proxy", squid_proxy.url,
                   "--stages", "1,rest")
    assert r.ok, r
    since = emu.journal_last()
    # PYTHONFAULTHANDLER: should az not end in time, SIGABRT makes it print every thread's stack to its stderr
    full_env = {**az_ext.env, **env, "PYTHONFAULTHANDLER": "1"}
    stderr = tmp_path / "apply.stderr"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([*WITH_DEFAULT_SIGINT, AZ, "aks", "http-proxy", "rollout", "apply", "--plan-file",
                                 str(path), "--yes"], env=full_env, cwd=str(az_ext.home), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 90
        while not cluster_puts(emu, since) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cluster_puts(emu, since), "the first PUT never came"
        proc.send_signal(how)
        try:
            proc.wait(timeout=15)  # Ctrl-C ends it at once: the reimage goes on in Azure, not in this process
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=10)
            pytest.fail(f"az did not end within 15 s of {how.name}; its threads:\n"
                        f"{stderr.read_text(errors='replace')[-6000:]}")
    finally:
        proc.kill()
        proc.wait()
    assert status(az_ext, path) == {"c1": "running", "c2": "pending"}  # mid-reimage, read from Azure
    r = apply(az_ext, path, env)
    assert r.rc == 0, r
    assert {row["name"]: row["state"] for row in r.json} == {"c1": "done", "c2": "done"}
    puts = cluster_puts(emu, since)
    assert {n: len(v) for n, v in puts.items()} == {"c1": 1, "c2": 1}  # c1 followed, not rewritten
    assert "already written; following" in r.stderr


def pem_and_fingerprint(ca: trustme.CA) -> tuple[bytes, str]:
    pem = ca.cert_pem.bytes()
    return pem, x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex()


def bundle_fingerprints(trusted_ca: str) -> list[str]:
    text = base64.b64decode(trusted_ca).decode()
    blocks = ["-----BEGIN CERTIFICATE-----" + b for b in text.split("-----BEGIN CERTIFICATE-----")[1:]]
    return [x509.load_pem_x509_certificate(b.encode()).fingerprint(hashes.SHA256()).hex() for b in blocks]


def test_ca_rotation_runs_as_two_rollouts(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    old_pem, old_fp = pem_and_fingerprint(trustme.CA(organization_name="Old Corp CA"))
    new_pem, new_fp = pem_and_fingerprint(trustme.CA(organization_name="New Corp CA"))
    for name, own in (("c1", "c1.example"), ("c2", "c2.example")):
        emu.seed_cluster("rg1", name, http_proxy_config={
            "httpProxy": squid_proxy.url, "httpsProxy": squid_proxy.url, "noProxy": [own],
            "trustedCa": base64.b64encode(old_pem).decode()})
    (tmp_path / "new-ca.pem").write_bytes(new_pem)

    r, add = plan(az_ext, tmp_path, "--add-trusted-ca", str(tmp_path / "new-ca.pem"), name="add.json")
    assert r.ok, r
    # Another operation in progress (409, no Retry-After: AKS sends none) and throttling (429) are waited out.
    emu.add_fault("status", method="PUT", path_regex=MC + "c1$", code=409,
                  error_code="OperationNotAllowed", message="Operation is not allowed: Another operation is in "
                                                            "progress.")
    emu.add_fault("status", method="PUT", path_regex=MC + "c2$", code=429, retry_after=1,
                  error_code="TooManyRequests", message="Too many requests.")
    r = apply(az_ext, add, env)
    assert r.rc == 0, r
    refused = sorted((w["path"].rsplit("/", 1)[-1], w["status"]) for w in emu.writes()
                     if w["method"] == "PUT" and w["status"] >= 400)
    assert refused == [("c1", 409), ("c2", 429)]
    assert "rg1/c1 (aksproxy-emulator): another operation is in progress; waiting 2 s" in r.stderr
    r, drop = plan(az_ext, tmp_path, "--remove-trusted-ca", old_fp, name="drop.json")
    assert r.ok, r
    # Typed in lower case without colons; the plan says it as `openssl x509 -fingerprint -sha256` prints it.
    openssl = {fp: bytes.fromhex(fp).hex(":").upper() for fp in (old_fp, new_fp)}
    (added,) = json.loads(add.read_text())["edit"]
    assert added.startswith("trustedCa += ") and added.endswith(f"New Corp CA (SHA-256 {openssl[new_fp]})"), added
    assert json.loads(drop.read_text())["edit"] == [f"trustedCa -= SHA-256 {openssl[old_fp]}"]
    assert apply(az_ext, drop, env).rc == 0

    puts = cluster_puts(emu)
    for name, own in (("c1", "c1.example"), ("c2", "c2.example")):
        first, second = (p["body"]["properties"]["httpProxyConfig"] for p in puts[name])
        assert bundle_fingerprints(first["trustedCa"]) == [old_fp, new_fp]
        assert bundle_fingerprints(second["trustedCa"]) == [new_fp]
        assert first["noProxy"] == second["noProxy"] and {own, "localhost"} <= set(first["noProxy"])  # as stored


def test_bad_input_is_refused_with_zero_writes(az_ext, fast, env, tmp_path):
    emu = fast
    seed(emu, "c1", dead_proxy(), nodes=1)
    seed(emu, "c2", dead_proxy(), nodes=1)
    # An edit that makes every cluster's config invalid: each cluster skipped with validate's finding, no plan.
    r, path = plan(az_ext, tmp_path, "--http-proxy", "ftp://proxy.example:21/")
    assert r.rc == 3 and not path.exists(), r
    assert "Every selected cluster (2) is left out" in r.stderr
    assert {row["name"]: [f["code"] for f in row["findings"]] for row in r.json} == {
        "c1": ["url-scheme"], "c2": ["url-scheme"]}
    # A selection that matches nothing.
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", "x.example", "--names", "nope")
    assert r.rc == 3 and "matches no cluster" in r.stderr and not path.exists(), r

    r, path = plan(az_ext, tmp_path, "--add-no-proxy", "x.example")
    assert r.ok, r
    doc = json.loads(path.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**doc, "schemaVersion": 3}))
    r = apply(az_ext, other, env)
    assert r.rc == 1 and "schemaVersion 3; this aksproxy reads version 1 or 2" in r.stderr, r
    broken = tmp_path / "broken.json"
    broken.write_text(path.read_text()[:-40])
    r = apply(az_ext, broken, env)
    assert r.rc == 1 and "is not JSON" in r.stderr, r
    smuggled = tmp_path / "smuggled.json"
    doc["clusters"][0]["after"]["httpProxy"] = "http://user:pw@proxy.example:3128/"
    smuggled.write_text(json.dumps(doc))
    r = apply(az_ext, smuggled, env)
    assert r.rc == 1 and "[url-credentials]" in r.stderr and "pw@" not in r.stderr + r.stdout, r
    assert not emu.writes()

    emu.delete_cluster("rg1", "c2")  # deleted after the plan: gone, the others go on
    assert status(az_ext, path) == {"c1": "pending", "c2": "gone"}
    r = apply(az_ext, path, env, "--skip-check")
    assert r.rc == EXIT_HELD, r
    assert {row["name"]: row["state"] for row in r.json} == {"c1": "done", "c2": "gone"}
    assert sorted(cluster_puts(emu)) == ["c1"]


def test_fleet_strategy_file_one_pipeline_stage_at_a_time(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    for name, group in (("c1", "canary"), ("c2", "prod-eu"), ("c3", "prod-us")):
        seed(emu, name, squid_proxy.url, nodes=1, tags={"update-group": group})
    strategy = tmp_path / "strategy.json"
    strategy.write_text(json.dumps({"properties": {"strategy": {"stages": [  # a Fleet UpdateStrategy resource
        {"name": "canary", "groups": [{"name": "canary", "maxConcurrency": "1"}], "afterStageWaitInSeconds": 0},
        {"name": "prod", "groups": [{"name": "prod-eu", "maxConcurrency": "1"}, {"name": "prod-us"}]}]}}}))
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--strategy-file", str(strategy),
                   "--group-tag", "update-group")
    assert r.ok, r.stderr
    assert {c["name"]: (c["stage"], c["group"]) for c in json.loads(path.read_text())["clusters"]} == {
        "c1": ("canary", "canary"), "c2": ("prod", "prod-eu"), "c3": ("prod", "prod-us")}

    r = apply(az_ext, path, env, "--stage", "prod")  # before the canary: refused
    assert r.rc == 1 and "Stage prod waits for the stages before it" in r.stderr and "rg1/c1 (aksproxy-emulator) (pending)" in r.stderr, r
    assert not emu.writes()
    r = apply(az_ext, path, env, "--stage", "canary")
    assert r.rc == 0, r
    assert sorted(cluster_puts(emu)) == ["c1"]
    assert status(az_ext, path) == {"c1": "done", "c2": "pending", "c3": "pending"}
    r = apply(az_ext, path, env, "--stage", "prod")
    assert r.rc == 0, r
    puts = cluster_puts(emu)
    assert {n: len(v) for n, v in puts.items()} == {"c1": 1, "c2": 1, "c3": 1}
    # The two groups of a stage run side by side.
    assert puts["c2"][0]["t"] < puts["c3"][0]["t_end"] + 1 and puts["c3"][0]["t"] < puts["c2"][0]["t_end"] + 1


def test_fleet_manager_members_and_update_strategy(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    for name in ("c1", "c2", "c3"):
        seed(emu, name, squid_proxy.url, nodes=1)
    emu.seed_fleet_manager("fleets", "platform", members=[
        {"name": "m1", "clusterResourceId": cluster_path(emu, "c1"), "group": "first"},
        {"name": "m2", "clusterResourceId": cluster_path(emu, "c2"), "group": "second"}],  # c3 is no member
        update_strategies=[{"name": "safe", "strategy": {"stages": [
            {"name": "one", "groups": [{"name": "first"}], "afterStageWaitInSeconds": 1},
            {"name": "two", "groups": [{"name": "second", "maxConcurrency": "50%"}]}]}}])
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--fleet-name", "platform",
                   "--fleet-resource-group", "fleets", "--fleet-strategy", "safe")
    assert r.ok, r.stderr
    doc = json.loads(path.read_text())
    assert {c["name"]: (c["stage"], c["group"]) for c in doc["clusters"]} == {"c1": ("one", "first"),
                                                                            "c2": ("two", "second")}
    assert [s["afterStageWaitInSeconds"] for s in doc["stages"]] == [1, 0]
    fleet_reads = [e["path"] for e in emu.journal() if "/fleets/" in e["path"]]
    assert [p.rsplit("/", 2)[-2:] for p in fleet_reads] == [["platform", "members"], ["updateStrategies", "safe"]]
    r = apply(az_ext, path, env)
    assert r.rc == 0, r
    puts = cluster_puts(emu)
    assert sorted(puts) == ["c1", "c2"]
    # c1's operation (1 s) and the 1 s soak after stage one come before c2 is written.
    assert puts["c2"][0]["t"] - puts["c1"][0]["t_end"] >= 2
    assert "soaking until the next stage" in r.stderr

    r, _ = plan(az_ext, tmp_path, "--add-no-proxy", ".x.example", "--fleet-name", "platform",
                "--fleet-resource-group", "fleets", "--fleet-strategy", "nope", name="nope.json")
    assert r.rc == 3 and "has no update strategy nope" in r.stderr, r


def test_a_write_refused_with_412_is_never_retried_over(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    seed(emu, "c1", squid_proxy.url, nodes=1)
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example")
    assert r.ok, r
    # Someone writes between the apply's read and its PUT: AKS answers the If-Match with 412.
    emu.add_fault("status", method="PUT", path_regex=MC + "c1$", code=412, times=-1, error_code="PreconditionFailed",
                  message="The If-Match condition is not met.")
    r = apply(az_ext, path, env)
    assert r.rc == EXIT_HALTED, r
    (row,) = r.json
    assert row["state"] == "drifted" and "412 Precondition Failed" in row["detail"]
    assert [w["status"] for w in emu.writes() if w["method"] == "PUT" and MC in w["path"]] == [412]  # once


def test_windows_pools_are_skipped_at_plan_time(az_ext, fast, tmp_path):
    emu = fast
    seed(emu, "c1", dead_proxy(), nodes=1)
    emu.seed_cluster("rg1", "w1", pools=[{"name": "nodepool1", "count": 1, "mode": "System"},
                                         {"name": "win", "count": 1, "mode": "User", "osType": "Windows"}],
                     http_proxy_config={"httpProxy": dead_proxy(), "httpsProxy": dead_proxy()})
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example")
    assert r.rc == 0 and [c["name"] for c in json.loads(path.read_text())["clusters"]] == ["c1"], r
    rows = {row["name"]: row for row in r.json}
    assert rows["w1"]["action"] == "skipped" and [f["code"] for f in rows["w1"]["findings"]] == ["pool-windows"]
    assert rows["c1"]["action"] == "change" and "Skipped 1 cluster(s)" in r.stderr
    assert "rg1/w1 (aksproxy-emulator): 1 problem(s)" in r.stderr


def test_custom_vnet_clusters_each_vnet_read_once_its_space_never_the_users(az_ext, fast, env, tmp_path,
                                                                           squid_proxy):
    emu = fast
    sub = emu.info()["subscription_id"]
    (shared,) = emu.seed_vnet(sub, "net", "shared", ["10.42.0.0/16"], {"nodes": "10.42.1.0/24"})
    (other,) = emu.seed_vnet(sub, "net", "other", ["10.50.0.0/16", "10.51.0.0/16"], {"nodes": "10.50.1.0/24"})
    for name, subnet, entries in (("c1", shared, ["own.c1.example"]), ("c2", shared, ["own.c2.example"]),
                                  ("c3", other, ["own.c3.example", ".new.example"])):
        emu.seed_cluster("rg1", name, pools=[{"name": "nodepool1", "count": 1, "mode": "System",
                                              "vnetSubnetID": subnet}],
                         http_proxy_config={"httpProxy": squid_proxy.url, "httpsProxy": squid_proxy.url,
                                            "noProxy": entries})
    since = emu.journal_last()
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example")
    assert r.ok, r.stderr
    # The edit starts from the stored config, where AKS's VNet spaces stay on both sides: no VNet is read.
    assert not [e for e in emu.journal(since) if "/virtualnetworks/" in e["path"].lower()]
    by_name = {c["name"]: c for c in json.loads(path.read_text())["clusters"]}
    assert by_name["c1"]["changedFields"] == ["noProxy"]  # AKS's 10.42.0.0/16 is not the user's: kept as stored
    assert by_name["c1"]["after"]["noProxy"][-1] == ".new.example" and "10.42.0.0/16" in by_name["c1"]["after"]["noProxy"]
    assert by_name["c3"]["action"] == "unchanged"  # its VNet's two prefixes are AKS's: nothing the user set changes
    r = apply(az_ext, path, env)
    assert r.rc == 0, r
    assert sorted(cluster_puts(emu, since)) == ["c1", "c2"]
    assert status(az_ext, path) == {"c1": "done", "c2": "done", "c3": "unchanged"}
    # Removing a CIDR the clusters store may be removing a VNet's space: those VNets are read, each once.
    since = emu.journal_last()
    r, path = plan(az_ext, tmp_path, "--remove-no-proxy", "10.42.0.0/16", name="remove.json")
    assert r.ok, r.stderr
    vnet_reads = [e["path"] for e in emu.journal(since) if "/virtualnetworks/" in e["path"].lower()]
    assert [p.rsplit("/", 1)[-1] for p in vnet_reads] == ["shared"]  # c3's VNet holds no such CIDR: not read
    assert {c["name"]: c["action"] for c in json.loads(path.read_text())["clusters"]} == {
        "c1": "unchanged", "c2": "unchanged", "c3": "unchanged"}  # 10.42.0.0/16 is AKS's: it adds it back


def test_a_rollout_across_subscriptions_writes_each_in_its_own(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    other = "0f1ee700-0000-4000-8000-00000000a001"
    config = {"httpProxy": squid_proxy.url, "httpsProxy": squid_proxy.url, "noProxy": ["own.example"]}
    seed(emu, "c1", squid_proxy.url, nodes=1)
    emu.seed_fleet([{"subscriptionId": other, "displayName": "prod-2", "writable": True, "clusters": [
        {"resourceGroup": "rg1", "name": "p1", "properties": {"httpProxyConfig": config}},
        {"resourceGroup": "rg9", "name": "p2", "properties": {"httpProxyConfig": config}}]}])
    path = tmp_path / "plan.json"
    r = az_ext.az("aks", "http-proxy", "rollout", "plan", "--all-subscriptions", "--add-no-proxy", ".new.example",
                  "--stages", "rest", "--max-concurrency", "3", "--plan-file", str(path), "-o", "json")
    assert r.ok, r.stderr
    assert sorted((row["subscriptionId"], row["name"]) for row in r.json) == [
        (emu.info()["subscription_id"], "c1"), (other, "p1"), (other, "p2")]
    since = emu.journal_last()
    with az_ext.every_subscription(emu.info()["subscription_id"]):  # az reaches the subscriptions of its profile
        r = apply(az_ext, path, env)  # each proven from its own nodes and written in its own subscription
    assert r.rc == 0, r
    puts = [w for w in emu.writes(since) if w["method"] == "PUT" and w["status"] in (200, 201)]
    assert sorted(w["path"].split("/")[2] + "/" + w["path"].rsplit("/", 1)[-1] for w in puts) == [
        f"{emu.info()['subscription_id']}/c1", f"{other}/p1", f"{other}/p2"]
    assert all(w["headers"].get("if-match") for w in puts)
    runs = node_checks(emu, since)
    assert sorted(w["path"].split("/")[2] for w in runs) == [emu.info()["subscription_id"], other, other]
    assert status(az_ext, path) == {"c1": "done", "p1": "done", "p2": "done"}
