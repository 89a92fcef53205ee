"""az aks http-proxy validate / show / generate / diff through the real az against the emulator: output shapes,
-o table/tsv and --query, exit codes, good and bad inputs. The emulator's journal witnesses that none of them
writes anything."""
from __future__ import annotations

import base64
import json

import trustme

from tests.documents import write_file

RG, NAME = "rg1", "c1"
# With the in-cluster suffixes, so that the commands' findings here are only those each test is about.
PROXY = {"httpProxy": "http://proxy.corp.example:3128/",
         "noProxy": ["localhost", "127.0.0.1", ".corp.example", ".svc", ".cluster.local"]}
OLD_IMAGE, NEW_IMAGE = "AKSUbuntu-2204gen2containerd-202601.07.0", "AKSUbuntu-2204gen2containerd-202602.10.0"
POOLS = [{"name": "nodepool1", "mode": "System", "nodeImageVersion": NEW_IMAGE, "latestNodeImageVersion": NEW_IMAGE},
         {"name": "np2", "mode": "User", "nodeImageVersion": OLD_IMAGE, "latestNodeImageVersion": NEW_IMAGE}]


def ca_pem(org: str) -> bytes:
    return trustme.CA(organization_name=org).cert_pem.bytes()


def b64(*pems: bytes) -> str:
    return base64.b64encode(b"".join(pems)).decode()


def arm_requests(emu) -> list:
    return [(e["method"], e["path"]) for e in emu.journal() if e.get("kind", "arm") == "arm"]


# ---- validate -------------------------------------------------------------------------------------------------


def test_validate_good_file_exits_0_with_its_notices(az_ext, emu, tmp_path):
    path = write_file(tmp_path, "p.json", {**PROXY, "noProxy": [*PROXY["noProxy"], "10.0.0.0/8"]})
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path)
    assert r.rc == 0, r
    assert [(f["severity"], f["code"], f["path"]) for f in r.json] == [("warning", "noproxy-cidr", "$.noProxy")]
    strict = az_ext.az("aks", "http-proxy", "validate", "--config", path, "--strict")
    assert strict.rc == 1 and strict.json == r.json, strict  # the same findings, now failing
    assert "--strict" in strict.stderr
    assert emu.writes() == []


def test_validate_bad_file_lists_every_finding_and_exits_1(az_ext, tmp_path):
    doc = {"httpProxy": "http://user:hunter2@proxy:3128/", "noProxy": ["*.corp.example"], "trustedCa": "not base64!"}
    path = write_file(tmp_path, "bad.json", doc)
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path)
    assert r.rc == 1, r
    codes = {(f["code"], f["path"]) for f in r.json}
    assert {("url-credentials", "$.httpProxy"), ("noproxy-wildcard", "$.noProxy[0]"),
            ("ca-base64", "$.trustedCa")} <= codes
    assert all({"severity", "path", "message", "fix"} <= set(f) for f in r.json)
    assert "hunter2" not in r.stdout + r.stderr
    table = az_ext.az("aks", "http-proxy", "validate", "--config", path, "-o", "table")
    assert table.rc == 1 and table.stdout.split()[:5] == ["Severity", "Code", "Path", "Message", "Fix"], table
    codes_tsv = az_ext.az("aks", "http-proxy", "validate", "--config", path, "--query", "[].code", "-o", "tsv")
    assert set(codes_tsv.stdout.split()) == {c for c, _ in codes} and codes_tsv.rc == 1


def test_validate_missing_file_is_a_finding(az_ext, tmp_path):
    r = az_ext.az("aks", "http-proxy", "validate", "--config", str(tmp_path / "nope.json"))
    assert r.rc == 1 and [f["code"] for f in r.json] == ["file-not-found"], r


def test_validate_against_a_cluster_adds_pool_and_removal_findings(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, NAME, pools=[{"name": "nodepool1"}, {"name": "win1", "osType": "Windows"}],
                     http_proxy_config={**PROXY, "trustedCa": b64(ca_pem("Old CA"))})
    path = write_file(tmp_path, "p.json", PROXY)
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path, "-g", RG, "-n", NAME)
    assert r.rc == 1, r
    assert {f["code"]: f["severity"] for f in r.json} == {"pool-windows": "error",
                                                           "update-removes-trusted-ca": "warning"}
    assert "win1" in r.stdout
    assert emu.writes() == []


def test_validate_and_diff_against_a_disabled_proxy_say_it_stays_disabled(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, NAME, http_proxy_config={**PROXY, "enabled": False})
    path = write_file(tmp_path, "p.json", PROXY)
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path, "-g", RG, "-n", NAME)
    assert r.rc == 0 and [f["code"] for f in r.json] == ["proxy-stays-disabled"], r
    assert az_ext.az("aks", "http-proxy", "validate", "--config", path, "-g", RG, "-n", NAME, "--strict").rc == 1
    diff = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", path)
    assert diff.ok and [f["code"] for f in diff.json["findings"]] == ["proxy-stays-disabled"], diff
    enabled = {c["field"]: c for c in diff.json["changes"]}["enabled"]
    assert (enabled["action"], enabled["before"], enabled["after"]) == ("keep", False, False)
    assert "--enable-http-proxy" in diff.stderr
    assert emu.writes() == []


# ---- show -----------------------------------------------------------------------------------------------------


def seed_proxied_cluster(emu, **proxy_extra):
    pem = ca_pem("Contoso Proxy CA")
    emu.seed_cluster(RG, NAME, pools=POOLS, http_proxy_config={**PROXY, "trustedCa": b64(pem), **proxy_extra})
    return pem


def test_show_prints_the_config_in_effect_and_pending_node_image_upgrades(az_ext, emu):
    pem = seed_proxied_cluster(emu)
    r = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME)
    assert r.ok, r
    doc = r.json
    assert (doc["configured"], doc["enabled"], doc["httpProxy"]) == (True, True, PROXY["httpProxy"])
    fqdn = emu.cluster_state(RG, NAME)["rendered"]["properties"]["fqdn"]
    # effectiveNoProxy is not on the SDK model: it comes from the raw response, with what AKS adds
    assert {".corp.example", "konnectivity", "168.63.129.16", fqdn} <= set(doc["effectiveNoProxy"])
    (cert,) = doc["trustedCa"]["certificates"]
    assert "Contoso Proxy CA" in cert["subject"] and cert["issuer"] == cert["subject"]
    assert {"sans", "notAfter", "daysLeft", "sha256Fingerprint"} <= set(cert)
    assert b64(pem) not in r.stdout  # decoded, not dumped
    pools = {p["name"]: p for p in doc["nodePools"]}
    assert (pools["nodepool1"]["nodeImageCurrent"], pools["nodepool1"]["pendingNodeImageUpgrade"]) == (True, False)
    assert (pools["np2"]["nodeImageCurrent"], pools["np2"]["pendingNodeImageUpgrade"]) == (False, True)
    assert pools["np2"]["latestNodeImageVersion"] == NEW_IMAGE
    assert "az aks http-proxy upgrade-nodes -g rg1 -n c1" in doc["nextSteps"][0]
    assert emu.writes() == []
    upgrade_profiles = [p for m, p in arm_requests(emu) if p.endswith("/upgradeProfiles/default")]
    assert len(upgrade_profiles) == 2


def test_show_blob_only_when_asked_and_az_output_conventions(az_ext, emu):
    pem = seed_proxied_cluster(emu)
    blob = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME, "--show-ca-blob",
                     "--query", "trustedCa.base64", "-o", "tsv")
    assert blob.ok and blob.stdout.strip() == b64(pem), blob
    pending = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME,
                        "--query", "nodePools[?pendingNodeImageUpgrade].name", "-o", "tsv")
    assert pending.stdout.split() == ["np2"], pending
    table = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME, "-o", "table")
    assert table.ok, table
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["Setting", "Value"]
    assert any(line.startswith("TrustedCa[1]") and "Contoso Proxy CA" in line for line in lines)
    assert any(line.startswith("NodePool np2") and "upgrade pending" in line for line in lines)


def test_show_with_an_unreadable_upgrade_profile_says_unknown_instead_of_failing(az_ext, emu):
    seed_proxied_cluster(emu)
    emu.add_fault("status", method="GET", path_regex="agentPools/np2/upgradeProfiles/default$", code=403,
                  body={"error": {"code": "AuthorizationFailed", "message": "no read on upgrade profiles"}})
    r = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME)
    assert r.ok, r
    pools = {p["name"]: p for p in r.json["nodePools"]}
    assert (pools["np2"]["nodeImageCurrent"], pools["np2"]["pendingNodeImageUpgrade"]) == (None, None)
    assert pools["nodepool1"]["nodeImageCurrent"] is True and r.json["nextSteps"] == []
    assert "np2" in r.stderr and "no read on upgrade profiles" in r.stderr


def test_show_disabled_and_unconfigured_and_missing_clusters(az_ext, emu):
    emu.seed_cluster(RG, "off", http_proxy_config={**PROXY, "enabled": False})
    emu.seed_cluster(RG, "plain")
    off = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", "off", "--query", "[configured, enabled]")
    assert off.ok and off.json == [True, False], off
    plain = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", "plain")
    assert plain.ok and (plain.json["configured"], plain.json["enabled"], plain.json["trustedCa"]) == (
        False, False, None), plain
    missing = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", "nope")
    assert missing.rc == 3 and "not found" in missing.stderr, missing


# ---- generate -------------------------------------------------------------------------------------------------


def test_generate_prints_a_config_that_validate_and_create_accept(az_ext, emu, tmp_path):
    root, issuing = ca_pem("Root CA"), ca_pem("Issuing CA")
    ca_files = [write_file(tmp_path, "root.pem", root),
                write_file(tmp_path, "issuing.pem", issuing.replace(b"\n", b"\r\n"))]
    r = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", PROXY["httpProxy"],
                  "--no-proxy", "localhost,127.0.0.1", ".corp.example", "--trusted-ca-file", *ca_files)
    assert r.ok, r
    assert r.json == {**PROXY, "trustedCa": b64(root, issuing)}  # one line, CRLF normalised, files in order
    path = write_file(tmp_path, "generated.json", r.stdout.encode())
    assert az_ext.az("aks", "http-proxy", "validate", "--config", path).json == []
    created = az_ext.az("aks", "create", "-g", RG, "-n", NAME, "--ssh-key-value", az_ext.ssh_key,
                        "--http-proxy-config", path, "-o", "none")
    assert created.ok, created
    (put,) = [w for w in emu.writes() if w["method"] == "PUT"]
    assert put["body"]["properties"]["httpProxyConfig"] == r.json


def test_generate_writes_the_file_once_and_replaces_it_only_when_asked(az_ext, tmp_path):
    out = tmp_path / "proxy.json"
    args = ("aks", "http-proxy", "generate", "--http-proxy", PROXY["httpProxy"], "--enabled", "false",
            "--output-file", str(out))
    r = az_ext.az(*args)
    assert r.ok and r.stdout == "" and "Wrote" in r.stderr, r
    assert json.loads(out.read_text()) == {"httpProxy": PROXY["httpProxy"], "noProxy": [".svc", ".cluster.local"],
                                           "enabled": False}
    out.write_text("keep me")
    again = az_ext.az(*args)
    assert again.rc == 1 and "--overwrite-existing" in again.stderr and out.read_text() == "keep me", again
    forced = az_ext.az(*args, "--overwrite-existing")
    assert forced.ok and json.loads(out.read_text())["enabled"] is False, forced


def test_generate_refuses_what_validate_refuses_and_writes_nothing(az_ext, tmp_path):
    out = tmp_path / "proxy.json"
    key_file = write_file(tmp_path, "key.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    r = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", "http://bob:hunter2@proxy:3128/",
                  "--no-proxy", "*.corp.example", "--trusted-ca-file", key_file, "--output-file", str(out))
    assert r.rc == 1 and not out.exists(), r
    for code in ("url-credentials", "noproxy-wildcard", "ca-private-key"):
        assert f"[{code}]" in r.stderr
    assert "hunter2" not in r.stdout + r.stderr and "--http-proxy" in r.stderr
    der = write_file(tmp_path, "ca.der", base64.b64decode(b"".join(ca_pem("X").splitlines()[1:-1])))
    r = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", PROXY["httpProxy"], "--trusted-ca-file", der)
    assert r.rc == 1 and "ca.der is not a PEM file" in r.stderr, r
    missing = az_ext.az("aks", "http-proxy", "generate", "--enabled", "true")
    assert missing.rc == 1 and "[no-proxy-url]" in missing.stderr and "--http-proxy" in missing.stderr, missing


def test_generate_table_shortens_the_ca(az_ext, tmp_path):
    ca = write_file(tmp_path, "ca.pem", ca_pem("Root CA"))
    r = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", PROXY["httpProxy"], "--trusted-ca-file", ca,
                  "-o", "table")
    assert r.ok and "<base64, " in r.stdout and "LS0tLS1CRUdJTi" not in r.stdout, r


# ---- diff -----------------------------------------------------------------------------------------------------


def test_diff_shows_changes_removals_and_rollout_without_writing(az_ext, emu, tmp_path):
    seed_proxied_cluster(emu)
    new = {"httpProxy": "http://proxy2.corp.example:3128/",
           "noProxy": ["localhost", "127.0.0.1", "db.corp.example", ".svc", ".cluster.local"]}
    path = write_file(tmp_path, "new.json", new)
    r = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", path)
    assert r.ok, r
    rows = {c["field"]: c for c in r.json["changes"]}
    assert (rows["httpProxy"]["action"], rows["httpProxy"]["after"]) == ("change", new["httpProxy"])
    assert rows["trustedCa"]["action"] == "remove" and "Contoso Proxy CA" in rows["trustedCa"]["before"][0]["subject"]
    # the grown noProxy on the cluster (konnectivity, FQDN, CIDRs...) is not reported as removed
    assert rows["noProxy"]["before"] == PROXY["noProxy"] and rows["noProxy"]["after"] == new["noProxy"]
    assert sorted(x["field"] for x in r.json["removed"]) == ["noProxy", "trustedCa"]
    assert {"field": "noProxy", "value": ".corp.example"} in r.json["removed"]
    rollout = r.json["rollout"]
    assert rollout["pods"]["required"] and rollout["nodes"]["required"]
    assert rollout["nodes"]["pools"] == ["nodepool1", "np2"]
    assert f"az aks update -g {RG} -n {NAME} --http-proxy-config {path} --upgrade-node-image" in \
        rollout["nodes"]["commands"]
    assert [p["name"] for p in rollout["nodes"]["reimage"]["pools"]] == ["nodepool1", "np2"]
    assert rollout["apply"] == f"az aks update -g {RG} -n {NAME} --http-proxy-config {path}"
    assert "kubernetes.azure.com/no-http-proxy-vars" in rollout["pods"]["why"]
    assert "removes it from the nodes" in r.stderr  # the same warnings the update prints
    assert emu.writes() == []


def test_diff_of_the_current_config_changes_nothing(az_ext, emu, tmp_path):
    pem = seed_proxied_cluster(emu)
    path = write_file(tmp_path, "same.json", {**PROXY, "trustedCa": b64(pem)})
    r = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", path,
                  "--query", "{changed: changed, removed: removed, pods: rollout.pods.required, "
                             "nodes: rollout.nodes.required}")
    assert r.ok and r.json == {"changed": False, "removed": [], "pods": False, "nodes": False}, r


def test_diff_table_lists_fields_then_commands(az_ext, emu, tmp_path):
    seed_proxied_cluster(emu)
    path = write_file(tmp_path, "new.json", {**PROXY, "httpProxy": "http://proxy2.corp.example:3128/"})
    r = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", path, "-o", "table")
    assert r.ok, r
    fields = [line.split()[0] for line in r.stdout.splitlines()[2:]]
    assert fields == ["httpProxy", "httpsProxy", "trustedCa", "noProxy", "enabled", "apply", "rollout:", "rollout:",
                      "reimage"]


def test_diff_refuses_a_bad_file_before_reading_the_cluster(az_ext, emu, tmp_path):
    seed_proxied_cluster(emu)
    emu.clear_journal()
    path = write_file(tmp_path, "bad.json", {"httpProxyConfig": PROXY})
    r = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", path)
    assert r.rc == 1 and "[wrapper-object] $.httpProxyConfig" in r.stderr and r.stdout == "", r
    assert not [p for _, p in arm_requests(emu) if "managedClusters" in p]


def test_diff_on_a_cluster_the_update_would_refuse_prints_and_exits_1(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, NAME, pools=[{"name": "nodepool1"}, {"name": "win1", "osType": "Windows"}])
    r = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", write_file(tmp_path, "p.json", PROXY))
    assert r.rc == 1 and "win1" in r.stderr, r
    assert [f["code"] for f in r.json["findings"]] == ["pool-windows"]
    assert {c["field"]: c["action"] for c in r.json["changes"]}["httpProxy"] == "add"
    missing = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", "nope", "--config",
                        write_file(tmp_path, "q.json", PROXY))
    assert missing.rc == 3, missing
