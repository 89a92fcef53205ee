"""`az aks http-proxy rollout plan` decides what an edit may write, through the real az against the emulator: a
cluster without a proxy is out of scope and never written by any edit; one odd cluster (a Windows pool, a config
the edit breaks, an --exclude) is listed with why and the plan covers the rest; the write carries the stored config
with only the edit applied (localhost kept); the same rg/name in two subscriptions reads as two clusters; a healthy
run prints progress, not warnings; and an uncertain noProxy change is decided as az aks update decides it."""
from __future__ import annotations

import base64
import json

import trustme

from tests.proxies import dead_proxy

MC = "/providers/Microsoft.ContainerService/managedClusters/"
NOTHING_PLANNED = 3  # az's "not found": no plan was written
EU, US = "0f1ee700-0000-4000-8000-00000000e001", "0f1ee700-0000-4000-8000-00000000e002"


POOL = {"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System", "osType": "Linux"}


def seed(emu, name, config, *, rg="rg1", pools=None, **extra):
    emu.seed_cluster(rg, name, pools=pools or [dict(POOL)], http_proxy_config=config, **extra)


def proxy_config(url, *entries, trusted_ca=None) -> dict:
    config = {"httpProxy": url, "httpsProxy": url, "noProxy": list(entries or ("corp.example",))}
    return {**config, "trustedCa": trusted_ca} if trusted_ca else config


def plan(az_ext, tmp_path, *args, name="plan.json", scope=("-g", "rg1"), env=None):
    path = tmp_path / name
    r = az_ext.az("aks", "http-proxy", "rollout", "plan", *scope, "--plan-file", str(path), *args, "-o", "json",
                  env=env)
    return r, path


def apply(az_ext, path, *args, env=None):
    return az_ext.az("aks", "http-proxy", "rollout", "apply", "--plan-file", str(path), "--yes", "-o", "json",
                     "--timeout", "60", *args, env=env)


def puts(emu, since=0) -> list:
    """The accepted cluster PUTs (refused ones, run commands and other writes aside)."""
    return [w for w in emu.writes(since) if w["method"] == "PUT" and MC in w["path"] and w["path"].count("/") == 8
            and w["status"] in (200, 201)]


def put_names(emu, since=0) -> list:
    return sorted(w["path"].rsplit("/", 1)[-1] for w in puts(emu, since))


def warnings(stderr: str) -> list:
    """The WARNING lines, az's own notice that the command group is in preview aside."""
    return [line for line in stderr.splitlines() if line.startswith("WARNING:") and "is in preview" not in line]


def ca_pem(tmp_path, name) -> tuple:
    ca = trustme.CA()
    path = tmp_path / f"{name}.pem"
    ca.cert_pem.write_to_path(str(path))
    return path, base64.b64encode(ca.cert_pem.bytes()).decode()


def test_clusters_without_a_proxy_are_out_of_scope_and_never_written_by_any_edit(az_ext, fast, tmp_path):
    emu = fast
    new_ca, _ = ca_pem(tmp_path, "new-ca")
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps({"httpProxy": "http://proxy2.example:3128/",
                                     "httpsProxy": "http://proxy2.example:3128/"}))
    seed(emu, "c1", proxy_config(dead_proxy()))
    seed(emu, "bare", None)  # created without a proxy
    seed(emu, "empty", {})  # an API version's empty object: no proxy either
    edits = {"hosts": ["--http-proxy", "http://proxy2.example:3128/", "--https-proxy", "http://proxy2.example:3128/"],
             "no-proxy": ["--add-no-proxy", ".new.example"], "ca": ["--add-trusted-ca", str(new_ca)],
             "reference": ["--config", str(reference)]}
    for label, edit in edits.items():
        r, path = plan(az_ext, tmp_path, *edit, name=f"{label}.json")
        assert r.ok, r
        rows = {row["name"]: row for row in r.json}
        assert {n: row["action"] for n, row in rows.items()} == {
            "c1": "change", "bare": "out-of-scope", "empty": "out-of-scope"}, label
        assert rows["bare"]["reason"].startswith("no HTTP proxy") and rows["bare"]["stage"] is None
        doc = json.loads(path.read_text())
        assert [c["name"] for c in doc["clusters"]] == ["c1"]
        assert sorted(c["name"] for c in doc["leftOut"]) == ["bare", "empty"]
        assert "Left out: 2 out-of-scope" in r.stderr
        since = emu.journal_last()
        r = apply(az_ext, path, "--skip-check")
        assert r.ok, r
        assert put_names(emu, since) == ["c1"], label  # the proxy-less clusters: never a PUT
    assert put_names(emu) == ["c1"] * len(edits)
    for name in ("bare", "empty"):  # still without a proxy
        status, _, body = emu.arm("GET", f"/subscriptions/{emu.info()['subscription_id']}/resourceGroups/rg1{MC}{name}")
        assert status == 200 and not (body["properties"].get("httpProxyConfig") or {}).get("httpProxy")

    # A hand-edited plan that lists a left-out cluster as planned too is refused before anything is written.
    doc = json.loads((tmp_path / "hosts.json").read_text())
    doc["leftOut"].append({**doc["leftOut"][0], "id": doc["clusters"][0]["id"]})
    smuggled = tmp_path / "smuggled.json"
    smuggled.write_text(json.dumps(doc))
    since = emu.journal_last()
    r = apply(az_ext, smuggled, "--skip-check")
    assert r.rc == 1 and "both planned and left out" in r.stderr and not emu.writes(since), r


def test_one_odd_cluster_leaves_the_plan_for_the_rest(az_ext, fast, tmp_path):
    emu = fast
    new_ca, _ = ca_pem(tmp_path, "new-ca")
    seed(emu, "c1", proxy_config(dead_proxy()))
    seed(emu, "c2", proxy_config(dead_proxy()), tags={"team": "a"})
    seed(emu, "win", proxy_config(dead_proxy()),
         pools=[dict(POOL), {**POOL, "name": "win", "mode": "User", "osType": "Windows"}])
    seed(emu, "badca", {**proxy_config(dead_proxy()), "trustedCa": base64.b64encode(b"not a PEM").decode()})
    seed(emu, "bare", None)
    seed(emu, "legacy", proxy_config(dead_proxy()))
    seed(emu, "frozen", proxy_config(dead_proxy()), tags={"Freeze": "true"})
    r, path = plan(az_ext, tmp_path, "--add-trusted-ca", str(new_ca), "--exclude", "legacy", "freeze=true", "typo")
    assert r.rc == 0, r
    rows = {row["name"]: row for row in r.json}
    assert {n: row["action"] for n, row in rows.items()} == {
        "c1": "change", "c2": "change", "win": "skipped", "badca": "skipped", "bare": "out-of-scope",
        "legacy": "excluded", "frozen": "excluded"}
    assert [f["code"] for f in rows["win"]["findings"]] == ["pool-windows"]
    assert "trustedCa: no complete PEM CERTIFICATE block" in rows["badca"]["reason"]
    assert rows["legacy"]["reason"] == "--exclude legacy (name)" and rows["frozen"]["reason"] == "--exclude " \
        "freeze=true (tag)"
    assert "proxy" not in rows["bare"]["reason"].split(":", 1)[-1].replace("proxies", "")  # no advice to add one
    assert "--exclude typo matches no selected cluster" in r.stderr
    doc = json.loads(path.read_text())
    assert sorted(c["name"] for c in doc["clusters"]) == ["c1", "c2"]
    assert doc["totals"]["changed"] == 2
    r = apply(az_ext, path, "--skip-check")
    assert r.ok, r
    assert put_names(emu) == ["c1", "c2"]

    # Nothing at all planned: no plan file, the rows say why, exit code 3.
    since = emu.journal_last()
    r, path = plan(az_ext, tmp_path, "--add-trusted-ca", str(new_ca), "--names", "win", "bare", name="none.json")
    assert r.rc == NOTHING_PLANNED and not path.exists(), r
    assert {row["name"]: row["action"] for row in r.json} == {"win": "skipped", "bare": "out-of-scope"}
    assert "no plan was written" in r.stderr and not emu.writes(since)


def test_stored_no_proxy_entries_survive_a_ca_rotation(az_ext, fast, tmp_path):
    emu = fast
    _, old_b64 = ca_pem(tmp_path, "old-ca")
    new_ca, _ = ca_pem(tmp_path, "new-ca")
    proxy = dead_proxy()
    seed(emu, "c1", proxy_config(proxy, "localhost", "127.0.0.1", "own.example", trusted_ca=old_b64))
    code, _, before = emu.arm("GET", f"/subscriptions/{emu.info()['subscription_id']}/resourceGroups/rg1{MC}c1")
    assert code == 200, before
    stored = before["properties"]["httpProxyConfig"]
    assert {"localhost", "127.0.0.1", "own.example"} <= set(stored["noProxy"])
    r, path = plan(az_ext, tmp_path, "--add-trusted-ca", str(new_ca))
    assert r.ok, r
    (entry,) = json.loads(path.read_text())["clusters"]
    assert entry["changedFields"] == ["trustedCa"]
    assert entry["after"]["noProxy"] == stored["noProxy"]  # the stored list, localhost and 127.0.0.1 included
    r = apply(az_ext, path, "--skip-check")
    assert r.ok, r
    (put,) = puts(emu)
    sent = put["body"]["properties"]["httpProxyConfig"]
    assert sent["noProxy"] == stored["noProxy"]  # the PUT body: stored config + the edit, nothing dropped
    assert sent["httpProxy"] == sent["httpsProxy"] == proxy
    assert sent["trustedCa"] != old_b64 and base64.b64decode(old_b64) in base64.b64decode(sent["trustedCa"])
    assert put["headers"].get("if-match")


def test_the_same_rg_and_name_in_two_subscriptions_are_two_clusters(az_ext, fast, tmp_path):
    emu = fast
    config = proxy_config(dead_proxy())
    emu.seed_fleet([{"subscriptionId": sub, "displayName": name, "writable": True, "clusters": [
        {"resourceGroup": "rg1", "name": "c1", "properties": {"httpProxyConfig": config}}]}
        for sub, name in ((EU, "prod-eu"), (US, "prod-us"))])
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--stages", "rest",
                   scope=("--subscriptions", "prod-eu", "prod-us"))
    assert r.ok, r
    assert sorted((row["subscription"], row["subscriptionId"], row["resourceGroup"], row["name"]) for row in r.json) \
        == [("prod-eu", EU, "rg1", "c1"), ("prod-us", US, "rg1", "c1")]
    r = az_ext.az("aks", "http-proxy", "rollout", "plan", "--subscriptions", "prod-eu", "prod-us", "--add-no-proxy",
                  ".new.example", "--plan-file", str(tmp_path / "t.json"), "-o", "table")
    assert r.ok and "prod-eu" in r.stdout and "prod-us" in r.stdout, r
    since = emu.journal_last()
    with az_ext.every_subscription(emu.info()["subscription_id"]):  # az writes to the subscriptions of its profile
        r = apply(az_ext, path, "--skip-check")
    assert r.ok, r
    assert sorted(w["path"].split("/")[2] for w in puts(emu, since)) == [EU, US]
    assert "Rollout: rg1/c1 (prod-eu): writing" in r.stderr and "Rollout: rg1/c1 (prod-us): writing" in r.stderr
    assert sorted((row["subscription"], row["state"]) for row in r.json) == [("prod-eu", "done"), ("prod-us", "done")]
    report = tmp_path / "rollout.html"
    r = az_ext.az("aks", "http-proxy", "rollout", "status", "--plan-file", str(path), "--report", str(report),
                  "-o", "table")
    assert r.ok and "prod-eu" in r.stdout and "prod-us" in r.stdout, r
    page = report.read_text()
    assert "prod-eu" in page and "prod-us" in page


def test_a_healthy_run_says_progress_not_warnings(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    seed(emu, "c1", proxy_config(squid_proxy.url, ".svc", ".cluster.local"))
    seed(emu, "c2", proxy_config(squid_proxy.url, ".svc", ".cluster.local"))
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--stages", "1,rest")
    assert r.ok, r
    assert not warnings(r.stderr) and "Plan: written to" in r.stderr, r.stderr
    r = apply(az_ext, path, env=env)  # with the node check, through a real squid on loopback
    assert r.ok, r
    assert [w["path"].rsplit("/", 1)[-1] for w in emu.writes() if w["path"].lower().endswith("/runcommand")]
    assert put_names(emu) == ["c1", "c2"]
    assert not warnings(r.stderr), r.stderr  # no "WARNING: Rollout", nor the node check's progress as warnings
    sub_name = r.json[0]["subscription"]
    assert sub_name and f"Rollout: rg1/c1 ({sub_name}): checking the new config" in r.stderr
    assert f"Rollout: rg1/c1 ({sub_name}): Checking 1 target(s) from node" in r.stderr
    assert "Rollout: done: 2 done." in r.stderr
    r = az_ext.az("aks", "http-proxy", "audit", "-o", "json")
    assert r.ok and not warnings(r.stderr), r.stderr


def test_an_uncertain_no_proxy_change_is_left_to_the_service_as_aks_update_leaves_it(az_ext, fast, tmp_path):
    """Block refuses every reimage, but removing a CIDR that may be an unread VNet's space may change nothing:
    aks update announces it and sends it; the plan changes the cluster (not held), and apply writes it."""
    emu = fast
    (subnet,) = emu.seed_vnet(emu.info()["subscription_id"], "net", "vn", ["10.42.0.0/16"], {"nodes": "10.42.1.0/24"})
    seed(emu, "c1", proxy_config(dead_proxy(), "own.example", "10.60.0.0/16"),
         pools=[{**POOL, "vnetSubnetID": subnet}],
         properties={"nodeDisruptionProfile": {"nodeDisruptionPolicy": "Block"}})
    emu.add_fault("status", method="GET", path_regex="virtualNetworks/vn$", code=403, times=-1,
                  error_code="AuthorizationFailed", message="No read access to the VNet.")
    r, path = plan(az_ext, tmp_path, "--remove-no-proxy", "10.60.0.0/16")
    assert r.ok, r
    (row,) = r.json
    assert row["action"] == "change" and "the service decides" in row["reason"], row
    # The PUT goes to the service, which decides: 10.60.0.0/16 is the owner's (the VNet is 10.42.0.0/16), so a
    # reimage is due and Block refuses it. aks update with the same config does the same.
    r = apply(az_ext, path, "--skip-check")
    assert r.rc == 4 and "OperationBlockedByNodeDisruptionPolicy" in r.json[0]["detail"], r
    config = tmp_path / "after.json"
    config.write_text(json.dumps(json.loads(path.read_text())["clusters"][0]["after"]))
    r = az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config", str(config), "-o", "none")
    assert r.rc != 0 and "OperationBlockedByNodeDisruptionPolicy" in r.stderr, r
    assert "This update may change noProxy" in r.stderr
    refused = [w for w in emu.writes() if w["method"] == "PUT" and w["path"].endswith(MC + "c1")]
    assert [w["status"] for w in refused] == [400, 400], refused  # one PUT each, both refused by the service
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", name="certain.json")
    assert r.ok and r.json[0]["action"] == "held" and "Block" in r.json[0]["reason"], r
