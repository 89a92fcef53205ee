"""noProxy as users meet it, through the real az against the emulator: the in-cluster advice from validate, create
and update (naming the cluster's service CIDR and Istio add-on when the cluster is known), generate's in-cluster
suffixes, show's user vs AKS-added split, and generate --from-cluster round-tripping through diff with no change on a
cluster whose noProxy AKS has grown (as in the recordings: loopback, konnectivity, VNet, pod and service CIDRs,
wireserver, IMDS, API server FQDN)."""
from __future__ import annotations

import base64
import json

import trustme

from tests.documents import write_file

RG, NAME = "rg1", "c1"
URL = "http://proxy.corp.example:3128/"
SUBNET = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Network/"
          "virtualNetworks/vnet1/subnets/aks")
ADVICE = "noproxy-in-cluster"


def seed_grown_cluster(emu, **properties):
    """A cluster on a custom VNet whose noProxy AKS grows in every response (the VNet space included)."""
    ca = base64.b64encode(trustme.CA(organization_name="Contoso Proxy CA").cert_pem.bytes()).decode()
    config = {"httpProxy": URL, "httpsProxy": "https://proxy.corp.example:3129/",
              "noProxy": ["localhost", "127.0.0.1", "registry.corp.example", "my_host.corp.example"],
              "trustedCa": ca}
    # the VNet's space as the emulator's former default had it; AKS writes it into noProxy
    assert emu.seed_vnet(SUBNET.split("/")[2], RG, "vnet1", ["10.224.0.0/12"], {"aks": "10.224.0.0/16"}) == [SUBNET]
    emu.seed_cluster(RG, NAME, pools=[{"name": "nodepool1", "vnetSubnetID": SUBNET}], http_proxy_config=config,
                     properties=properties or None)
    return config


def test_validate_without_in_cluster_suffixes_warns_and_strict_fails(az_ext, tmp_path):
    path = write_file(tmp_path, "p.json", {"httpProxy": URL, "noProxy": ["localhost", "10.0.0.0/16"]})
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path)
    assert r.rc == 0, r
    (advice,) = [f for f in r.json if f["code"] == ADVICE]
    assert advice["severity"] == "warning" and "`.svc` and `.cluster.local`" in advice["fix"]
    assert "curl and Python" in advice["message"] and advice["source"].startswith("Azure/AKS#3174")
    assert az_ext.az("aks", "http-proxy", "validate", "--config", path, "--strict").rc == 1


def test_generate_adds_the_suffixes_says_so_and_passes_strict(az_ext, tmp_path):
    out = tmp_path / "proxy.json"
    r = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", URL, "--no-proxy", "localhost",
                  "--output-file", str(out))
    assert r.ok and "Added .svc and .cluster.local to noProxy" in r.stderr, r
    assert json.loads(out.read_text())["noProxy"] == ["localhost", ".svc", ".cluster.local"]
    strict = az_ext.az("aks", "http-proxy", "validate", "--config", str(out), "--strict")
    assert strict.rc == 0 and strict.json == [], strict
    # told not to: nothing added, and the advice shows instead
    bare = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", URL, "--no-in-cluster-suffixes")
    assert bare.ok and bare.json == {"httpProxy": URL} and "noProxy is not set" in bare.stderr, bare
    # already covered: nothing added, nothing said
    covered = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", URL, "--no-proxy", ".svc", "cluster.local")
    assert covered.ok and covered.json["noProxy"] == [".svc", "cluster.local"] and "Added" not in covered.stderr


def test_validate_with_a_cluster_names_its_service_cidr_and_istio(az_ext, emu, tmp_path):
    seed_grown_cluster(emu, serviceMeshProfile={"mode": "Istio", "istio": {"revisions": ["asm-1-25"]}})
    path = write_file(tmp_path, "p.json", {"httpProxy": URL, "noProxy": ["localhost"]})
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path, "-g", RG, "-n", NAME)
    assert r.rc == 0, r
    (advice,) = [f for f in r.json if f["code"] == ADVICE]
    assert "10.0.0.0/16" in advice["message"] and "10.0.0.10" in advice["message"]
    assert "Istio add-on" in advice["message"] and "ServiceEntry" in advice["message"]
    assert emu.writes() == []


def test_create_warns_and_update_warns_with_the_cluster_network(az_ext, emu, tmp_path):
    path = write_file(tmp_path, "p.json", {"httpProxy": URL, "noProxy": ["localhost"]})
    created = az_ext.az("aks", "create", "-g", RG, "-n", "c2", "--ssh-key-value", az_ext.ssh_key,
                        "--http-proxy-config", path, "-o", "none")
    assert created.ok and "noProxy has no `.svc` or `.cluster.local`" in created.stderr, created
    seed_grown_cluster(emu)
    updated = az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config", path, "-o", "none")
    assert updated.ok, updated
    assert updated.stderr.count("noProxy has no `.svc` or `.cluster.local`") == 1, updated
    assert "This cluster's services are in 10.0.0.0/16" in updated.stderr


def test_show_splits_user_and_aks_added_entries(az_ext, emu):
    seed_grown_cluster(emu)
    r = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME)
    assert r.ok, r
    doc = r.json
    assert doc["userNoProxy"] == ["registry.corp.example", "my_host.corp.example"]
    assert {"localhost", "127.0.0.1", "konnectivity", "168.63.129.16", "169.254.169.254", "10.244.0.0/16",
            "10.0.0.0/16"} <= set(doc["aksAddedNoProxy"])
    assert any(e.endswith(".azmk8s.io") for e in doc["aksAddedNoProxy"])
    # The custom VNet's space, read from the VNet (the cluster object does not hold it), is AKS's too.
    assert "10.224.0.0/12" in doc["aksAddedNoProxy"] and doc["possiblyAksAddedNoProxy"] == []
    table = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME, "-o", "table")
    assert "UserNoProxy" in table.stdout and "registry.corp.example, my_host.corp.example" in table.stdout


def test_generate_from_cluster_round_trips_through_diff_with_no_change(az_ext, emu, tmp_path):
    seeded = seed_grown_cluster(emu)
    grown = emu.cluster_state(RG, NAME)["rendered"]["properties"]["httpProxyConfig"]["noProxy"]
    assert "konnectivity" in grown and len(grown) > len(seeded["noProxy"])  # AKS's entries are there to drop
    out = tmp_path / "from-cluster.json"
    r = az_ext.az("aks", "http-proxy", "generate", "--from-cluster", "-g", RG, "-n", NAME, "--output-file", str(out))
    assert r.ok, r
    written = json.loads(out.read_text())
    assert written == {"httpProxy": seeded["httpProxy"], "httpsProxy": seeded["httpsProxy"],
                       "noProxy": ["registry.corp.example", "my_host.corp.example"],
                       "trustedCa": seeded["trustedCa"]}
    assert "Left out of noProxy, as AKS adds them by itself" in r.stderr and "10.224.0.0/12" in r.stderr
    assert "[noproxy-underscore]" not in r.stderr and "contains `_`" in r.stderr  # a warning, not a refusal
    diff = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config", str(out))
    assert diff.ok, diff
    assert diff.json["changed"] is False and diff.json["removed"] == [], diff.json["changes"]
    # the file has no in-cluster suffixes (the cluster had none): diff gives the advice with the cluster's network
    (advice,) = [f for f in diff.json["findings"] if f["code"] == ADVICE]
    assert "This cluster's services are in 10.0.0.0/16" in advice["message"] and advice["message"] in diff.stderr
    no_proxy = {c["field"]: c for c in diff.json["changes"]}["noProxy"]
    assert "konnectivity" in no_proxy["aksAdded"] and not diff.json["rollout"]["nodes"]["required"]
    assert emu.writes() == []


def test_generate_from_cluster_refuses_mixed_options_and_missing_clusters(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, "bare")
    mixed = az_ext.az("aks", "http-proxy", "generate", "--from-cluster", "-g", RG, "-n", "bare", "--http-proxy", URL)
    assert mixed.rc == 1 and "drop --http-proxy" in mixed.stderr, mixed
    needs = az_ext.az("aks", "http-proxy", "generate", "--from-cluster")
    assert needs.rc != 0 and "--resource-group" in needs.stderr, needs
    stray = az_ext.az("aks", "http-proxy", "generate", "--http-proxy", URL, "-g", RG, "-n", "bare")
    assert stray.rc != 0 and "--from-cluster" in stray.stderr, stray
    none = az_ext.az("aks", "http-proxy", "generate", "--from-cluster", "-g", RG, "-n", "bare",
                     "--output-file", str(tmp_path / "x.json"))
    assert none.rc == 1 and "no HTTP proxy config" in none.stderr and not (tmp_path / "x.json").exists(), none
    missing = az_ext.az("aks", "http-proxy", "generate", "--from-cluster", "-g", RG, "-n", "nope")
    assert missing.rc == 3, missing
