"""aks create / aks update with aksproxy installed, through the real az against the local ARM emulator."""
from __future__ import annotations

import base64
import json
import re

import pytest
import trustme

from tests.armemu.fixtures import load_data
from tests.documents import leaf_diff, write_file

RG = "rg1"
PROXY = {"httpProxy": "http://proxy.corp.example:3128/", "httpsProxy": "http://proxy.corp.example:3128/",
         "noProxy": ["localhost", "127.0.0.1", ".corp.example"]}


def new_ca_bundle() -> str:
    return base64.b64encode(trustme.CA().cert_pem.bytes()).decode()


def sent_proxy_config(emu):
    puts = [w for w in emu.writes() if w["method"] == "PUT"]
    assert len(puts) == 1, emu.writes()
    return puts[0]["body"]["properties"].get("httpProxyConfig")


def test_create_sends_the_canonical_config(az_ext, emu, tmp_path, recorded_data):
    config = load_data("httpproxyconfig.json")
    r = az_ext.az("aks", "create", "-g", RG, "-n", "c1", "--ssh-key-value", az_ext.ssh_key,
                  "--http-proxy-config", recorded_data / "httpproxyconfig.json", "-o", "json")
    assert r.ok, r
    assert sent_proxy_config(emu) == config
    assert r.json["httpProxyConfig"]["trustedCa"] == config["trustedCa"]


def test_create_normalises_key_case_and_duplicates_before_sending(az_ext, emu, tmp_path):
    ca = new_ca_bundle()
    doc = {"httpProxy": PROXY["httpProxy"], "noProxy": ["localhost", "LOCALHOST", ".corp.example"], "trustedCA": ca}
    r = az_ext.az("aks", "create", "-g", RG, "-n", "c1", "--ssh-key-value", az_ext.ssh_key,
                  "--http-proxy-config", write_file(tmp_path, "p.json", doc), "-o", "json")
    assert r.ok, r
    assert sent_proxy_config(emu) == {"httpProxy": PROXY["httpProxy"], "noProxy": ["localhost", ".corp.example"],
                                      "trustedCa": ca}
    assert "trustedCA" in r.stderr and "noProxy" in r.stderr  # both notices shown as az warnings


def test_create_with_availability_set_and_proxy_is_refused_before_any_write(az_ext, emu, tmp_path):
    r = az_ext.az("aks", "create", "-g", RG, "-n", "c1", "--ssh-key-value", az_ext.ssh_key,
                  "--vm-set-type", "AvailabilitySet", "--load-balancer-sku", "basic",
                  "--http-proxy-config", write_file(tmp_path, "p.json", PROXY))
    assert r.rc == 1, r
    assert "availability-set" in r.stderr and "VirtualMachineScaleSets" in r.stderr
    assert emu.writes() == []


RICH_CLUSTER = {
    "properties": {"enableRBAC": True, "disableLocalAccounts": True,
                   "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
                   "addonProfiles": {"azurepolicy": {"enabled": True}}},
    "tags": {"team": "platform", "cost-center": "42"},
}


_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scrub_guids(doc):
    """The emulator gives every seeded cluster fresh identity GUIDs; they are not what is being compared."""
    return json.loads(_GUID.sub("<guid>", json.dumps(doc)))


def without(doc, *keys):
    return {k: v for k, v in doc.items() if k not in keys}


def test_update_rotates_the_ca_and_keeps_every_other_property(az_ext, az_stock, emu, tmp_path):
    old_ca, new_ca = new_ca_bundle(), new_ca_bundle()
    rotated = write_file(tmp_path, "rotated.json", {**PROXY, "trustedCa": new_ca})
    bodies = {}
    for name, session in (("stock", az_stock), ("aksproxy", az_ext)):
        emu.reset()
        emu.seed_cluster(RG, "c1", http_proxy_config={**PROXY, "trustedCa": old_ca}, **RICH_CLUSTER)
        before = emu.cluster_state(RG, "c1")["stored"]
        r = session.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", rotated, "-o", "json")
        assert r.ok, r
        after = emu.cluster_state(RG, "c1")["stored"]
        assert after["properties"]["httpProxyConfig"]["trustedCa"] == new_ca
        assert sent_proxy_config(emu) == {**PROXY, "trustedCa": new_ca}
        bodies[name] = emu.writes()[0]["body"]
        # Nothing but httpProxyConfig changed. (Core az itself sends loadBalancerSku lower-cased; stock does too.)
        for doc in (before, after):
            doc["properties"]["networkProfile"]["loadBalancerSku"] = "standard"
            for pool in doc["properties"]["agentPoolProfiles"]:  # AKS gives the pools new eTags on every write
                pool.pop("eTag", None)
        assert without(after["properties"], "httpProxyConfig", "provisioningState") == \
               without(before["properties"], "httpProxyConfig", "provisioningState")
        assert without(after, "properties") == without(before, "properties")
    # The PUT aksproxy sends is exactly stock az's: it changes only the proxy step.
    assert leaf_diff(*map(scrub_guids, (bodies["aksproxy"], bodies["stock"]))) == {}


def test_update_announces_a_removed_trusted_ca(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, "c1", http_proxy_config={**PROXY, "trustedCa": new_ca_bundle()})
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", write_file(tmp_path, "p.json", PROXY),
                  "-o", "json")
    assert r.ok, r
    assert "The cluster has a trustedCa and this file has none: the update removes it from the nodes." in r.stderr
    assert "trustedCa" not in sent_proxy_config(emu)


def test_disable_then_update_keeps_the_proxy_disabled_until_enabled(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--disable-http-proxy", "-o", "json")
    assert r.ok, r
    assert sent_proxy_config(emu)["enabled"] is False
    emu.clear_journal()

    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", write_file(tmp_path, "p.json", PROXY),
                  "-o", "json")
    assert r.ok, r
    assert sent_proxy_config(emu)["enabled"] is False
    assert "stays disabled" in r.stderr
    emu.clear_journal()

    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", write_file(tmp_path, "p.json", PROXY),
                  "--enable-http-proxy", "-o", "json")
    assert r.ok, r
    assert sent_proxy_config(emu)["enabled"] is True


def test_enabled_in_the_file_conflicting_with_a_flag_is_refused(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--enable-http-proxy",
                  "--http-proxy-config", write_file(tmp_path, "p.json", {**PROXY, "enabled": False}))
    assert r.rc != 0, r
    assert "--enable-http-proxy" in r.stderr and '"enabled": false' in r.stderr
    assert emu.writes() == []


@pytest.mark.parametrize("pool, code", [
    ({"name": "win1", "osType": "Windows", "mode": "User"}, "pool-windows"),
    ({"name": "vmas1", "type": "AvailabilitySet", "mode": "User"}, "pool-availability-set"),
])
def test_update_of_a_cluster_with_unsupported_pools_is_refused_before_any_write(az_ext, emu, tmp_path, pool, code):
    emu.seed_cluster(RG, "c1", pools=[{"name": "nodepool1", "mode": "System"}, pool])
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", write_file(tmp_path, "p.json", PROXY))
    assert r.rc == 1, r
    assert code in r.stderr and pool["name"] in r.stderr
    assert emu.writes() == []


def test_several_problems_are_reported_at_once_and_nothing_is_written(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    bad = {"httpProxy": "https://proxy.corp.example:3128/", "noProxy": ["*.corp.example", "10.0.0.0/33"],
           "trustedCa": "-----BEGIN CERTIFICATE-----", "bogusKey": 1}
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", write_file(tmp_path, "bad.json", bad))
    assert r.rc == 1, r
    for expected in ("$.httpProxy", "$.noProxy[0]", "$.noProxy[1]", "$.trustedCa", "bogusKey", "Fix:"):
        assert expected in r.stderr, r
    assert "nothing was sent to Azure" in r.stderr
    assert emu.writes() == []
    # Not even the GET: the file is checked before the first request.
    assert [e for e in emu.journal() if e["kind"] == "arm"] == []


def test_credentials_are_refused_and_never_echoed(az_ext, emu, tmp_path):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    secret = "Sup3r-S3cret-pw"
    path = write_file(tmp_path, "cred.json", {"httpProxy": f"http://alice:{secret}@proxy.corp.example:3128/"})
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--http-proxy-config", path, "--debug")
    assert r.rc == 1, r
    assert "url-credentials" in r.stderr
    assert secret not in r.stdout + r.stderr
    assert emu.writes() == []


def test_help_shows_aksproxy_parameters_and_core_validation_still_applies(az_ext):
    def help_text(*command):
        r = az_ext.az(*command, "--help")
        assert r.ok, r
        return " ".join(r.stdout.split())  # az wraps help to the terminal width

    create_help = help_text("aks", "create")
    assert "validated by aksproxy" in create_help and "--check-proxy" in create_help
    assert "nothing is written if the check fails" in create_help
    assert "--enable-managed-identity" in create_help  # core's parameters are all still there
    update_help = help_text("aks", "update")
    assert "--upgrade-node-image" in update_help and "Rotate the proxy CA" in update_help
    assert "Wait until every node runs the new proxy config" in update_help
    bogus = az_ext.az("aks", "create", "-g", RG, "-n", "c1", "--tier", "bogus")
    assert bogus.rc == 2 and "'bogus' is not a valid value for '--tier'" in bogus.stderr


def test_commands_without_a_proxy_config_behave_as_stock(az_ext, az_stock, emu):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    ours = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--tags", "env=test", "-o", "json")
    assert ours.ok, ours
    ours_body = emu.writes()[0]["body"]
    emu.reset()
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    stock = az_stock.az("aks", "update", "-g", RG, "-n", "c1", "--tags", "env=test", "-o", "json")
    assert stock.ok, stock
    assert leaf_diff(scrub_guids(emu.writes()[0]["body"]), scrub_guids(ours_body)) == {}
