"""Nothing lost: `az aks update --http-proxy-config FILE` through the real az changes httpProxyConfig and nothing
else. The emulator's stored cluster is compared field by field before and after, on a cluster with most of what
AKS lets one set; noProxy entries go only when the file drops them, and that is announced; `enabled` changes only
when the file or a flag asks. (CA rotation and an announced trustedCa removal are in test_create_update.py.)"""
from __future__ import annotations

import base64
import re

import pytest
import trustme

from tests.armemu.fixtures import SUB, as_sent
from tests.documents import leaf_diff, write_file
from tests.reliability_report import trial_fixture

RG, NAME = "rg1", "c1"
CA = base64.b64encode(trustme.CA().cert_pem.bytes()).decode()
PROXY = {"httpProxy": "http://proxy.corp.example:3128/", "httpsProxy": "http://proxy.corp.example:3128/",
         "noProxy": ["localhost", "127.0.0.1", ".corp.example", "10.1.0.0/16", "db.internal"], "trustedCa": CA}
SUBNET = f"{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"
UAI = f"{SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/control-plane"
VNET_CIDR = "10.20.0.0/16"  # the address space of SUBNET's VNet, which AKS writes into noProxy
RICH = {
    "tags": {"team": "platform", "cost-center": "42", "env": "prod"},
    "sku": {"name": "Base", "tier": "Standard"},
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}},
    "properties": {
        "kubernetesVersion": "1.33",
        "dnsPrefix": "rich",
        "agentPoolProfiles": [
            {"name": "system", "mode": "System", "count": 3, "vmSize": "Standard_D4s_v5", "enableAutoScaling": True,
             "minCount": 3, "maxCount": 6, "availabilityZones": ["1", "2", "3"], "maxPods": 50,
             "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"], "osDiskType": "Ephemeral", "osDiskSizeGB": 64,
             "vnetSubnetID": SUBNET, "upgradeSettings": {"maxSurge": "33%"}},
            {"name": "user1", "mode": "User", "count": 2, "vmSize": "Standard_D8s_v5", "enableAutoScaling": True,
             "minCount": 1, "maxCount": 10, "nodeLabels": {"workload": "batch"}, "osSKU": "AzureLinux",
             "vnetSubnetID": SUBNET, "upgradeSettings": {"maxSurge": "1", "drainTimeoutInMinutes": 30}},
        ],
        "linuxProfile": {"adminUsername": "azureuser", "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAAAB3NzaC1yc2E"}]}},
        "addonProfiles": {"azurepolicy": {"enabled": True},
                          "azureKeyvaultSecretsProvider": {"enabled": True,
                                                           "config": {"enableSecretRotation": "true"}}},
        "enableRBAC": True,
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "cilium",
                           "networkDataplane": "cilium", "podCidr": "192.168.0.0/16", "serviceCidr": "10.10.0.0/16",
                           "dnsServiceIP": "10.10.0.10", "outboundType": "loadBalancer", "loadBalancerSku": "standard"},
        "aadProfile": {"managed": True, "enableAzureRBAC": True,
                       "adminGroupObjectIDs": ["6e5de8c1-5a4b-409b-994f-0706e4403b77"]},
        "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"], "enablePrivateCluster": False},
        "autoScalerProfile": {"scan-interval": "20s", "expander": "least-waste",
                              "max-graceful-termination-sec": "600"},
        "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
        "disableLocalAccounts": True,
        "securityProfile": {"workloadIdentity": {"enabled": True},
                            "imageCleaner": {"enabled": True, "intervalHours": 48}},
        "oidcIssuerProfile": {"enabled": True},
        "workloadAutoScalerProfile": {"keda": {"enabled": True}},
        "storageProfile": {"blobCSIDriver": {"enabled": True}, "diskCSIDriver": {"enabled": True},
                           "fileCSIDriver": {"enabled": False}, "snapshotController": {"enabled": True}},
        "nodeResourceGroup": "MC_rich_nodes",
        "httpProxyConfig": PROXY,
    },
}

# What stock az 2.91 rewrites on every `az aks update`, whatever the flags: it sends loadBalancerSku lower-cased,
# and storageProfile as {} (each driver unset, which AKS reads as "unchanged"; the emulator stores its create-time
# defaults for it). The rich-cluster test checks that stock az changes exactly these with the same file.
CORE_REWRITES = {"$.properties.networkProfile.loadBalancerSku", "$.properties.storageProfile.blobCSIDriver",
                 "$.properties.storageProfile.fileCSIDriver.enabled"}

trial = trial_fixture("nothing-lost")


def stored(emu) -> dict:
    return emu.cluster_state(RG, NAME)["stored"]


def count_leaves(doc) -> int:
    if isinstance(doc, dict):
        return sum(count_leaves(v) for v in doc.values())
    if isinstance(doc, list):
        return sum(count_leaves(v) for v in doc)
    return 1


def update(session, path, *extra):
    return session.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config", path, "-o", "json", *extra)


def removal_warnings(result) -> list:
    return re.findall(r"The update removes these noProxy entries from the cluster: ([^.]+(?:\.[^ .][^.]*)*)\.",
                      result.stderr)


def test_an_update_of_a_rich_cluster_changes_http_proxy_config_and_nothing_else(az_ext, az_stock, emu, tmp_path,
                                                                                trial):
    t = trial("Update of a cluster with network profile, addons, autoscaler, zones, taints, tags, identity, AAD, "
              "API server access, security, storage, OIDC, KEDA set", "az aks update --http-proxy-config FILE",
              "stored cluster before/after compared leaf by leaf: only httpProxyConfig differs, and no more than "
              "stock az changes with the same file")
    new = {**PROXY, "httpProxy": "http://proxy2.corp.example:3128/", "httpsProxy": "http://proxy2.corp.example:3128/"}
    path = write_file(tmp_path, "proxy.json", new)
    changed = {}
    for name, session in (("aksproxy", az_ext), ("stock", az_stock)):
        emu.reset()
        emu.seed_vnet(SUB.split("/")[-1], "net", "vnet", [VNET_CIDR], {"nodes": "10.20.1.0/24"})
        emu.seed_cluster(RG, NAME, **RICH)
        before = stored(emu)
        r = update(session, path)
        assert r.ok, r
        after = stored(emu)
        assert as_sent(after["properties"]["httpProxyConfig"], new) == new
        changed[name] = list(leaf_diff(before, after))
        if name == "aksproxy":
            # Same CA, same noProxy: no removal is announced, not even of the VNet's space, which AKS writes into
            # noProxy itself (read from the VNet: the cluster object does not name it).
            assert removal_warnings(r) == [], r
            assert "may be the" not in r.stderr
            assert "trustedCa" not in r.stderr
            compared = count_leaves(before)
    t.observed(f"aksproxy changed {changed['aksproxy']}; stock changed {changed['stock']}")
    # The service gives the cluster and its pools new eTags on every write (AKS docs, "Use eTags in AKS").
    changed = {name: [p for p in leaves if not p.endswith(".eTag")] for name, leaves in changed.items()}
    ours, stock = ([p for p in changed[n] if not p.startswith("$.properties.httpProxyConfig.")]
                   for n in ("aksproxy", "stock"))
    assert ours == stock  # aksproxy changes nothing stock az does not change with the same file
    assert set(ours) <= CORE_REWRITES, ours
    assert sorted(changed["aksproxy"]) == sorted(ours + ["$.properties.httpProxyConfig.httpProxy",
                                                         "$.properties.httpProxyConfig.httpsProxy"])
    t.passed(f"{compared} stored leaves compared: httpProxy and httpsProxy changed; otherwise only what stock az "
             f"rewrites on every update ({len(ours)} leaves)")


def announced_removals(result) -> list:
    """The noProxy entries the update announced it removes, from the `update-removes-no-proxy` warning."""
    found = re.findall(r"The update removes these noProxy entries from the cluster: (.+?)\.(?: |$)", result.stderr,
                       re.MULTILINE)
    assert len(found) <= 1, result
    return found[0].split(", ") if found else []


USER_ENTRIES = [".corp.example", "10.1.0.0/16", "db.internal"]  # PROXY's noProxy less what AKS adds by itself
NO_PROXY_CASES = [
    pytest.param(PROXY["noProxy"], [], id="same-entries"),
    pytest.param(["DB.internal", ".corp.example", "127.0.0.1", "10.1.0.0/16", "localhost"], [],
                 id="reordered-and-recased"),
    pytest.param([".corp.example", "10.1.0.0/16", "db.internal"], [], id="aks-added-entries-left-out"),
    pytest.param(["localhost", ".corp.example", "10.1.0.0/16"], ["db.internal"], id="one-dropped"),
    pytest.param(["localhost", "db.internal"], [".corp.example", "10.1.0.0/16"], id="two-dropped"),
    pytest.param(None, USER_ENTRIES, id="noProxy-omitted"),
]


@pytest.mark.parametrize("no_proxy, dropped", NO_PROXY_CASES)
def test_no_proxy_entries_go_only_when_the_file_drops_them_and_each_drop_is_announced(
        az_ext, emu, tmp_path, trial, no_proxy, dropped):
    t = trial("noProxy entries kept, reordered, left to AKS, or dropped by the file",
              "az aks update --http-proxy-config FILE",
              "stored noProxy = the file's; the entries announced as removed = exactly the user's entries the file "
              "drops (never those AKS adds)")
    emu.seed_cluster(RG, NAME, http_proxy_config=PROXY)
    new = {k: v for k, v in PROXY.items() if k != "noProxy"}
    new["httpProxy"] = "http://proxy2.corp.example:3128/"
    if no_proxy is not None:
        new["noProxy"] = no_proxy
    r = update(az_ext, write_file(tmp_path, "proxy.json", new))
    t.observed(f"exit {r.rc}; announced {announced_removals(r)}")
    assert r.ok, r
    assert announced_removals(r) == dropped
    after = stored(emu)["properties"]["httpProxyConfig"]
    if no_proxy is None:  # the service's own entries only
        assert not set(after["noProxy"]) & set(USER_ENTRIES)
    else:
        assert as_sent(after, new)["noProxy"] == no_proxy
    assert after["trustedCa"] == CA
    if "10.1.0.0/16" in dropped:  # the managed VNet's space is 10.224.0.0/12: this CIDR is the user's, said plainly
        assert "may be the" not in r.stderr
    t.passed(f"dropped {dropped or 'nothing'}: announced {announced_removals(r) or 'nothing'}; stored noProxy = file")


ENABLED_CASES = [
    # cluster's `enabled` (None: unset, which means true), the file's (None: omitted), flag, effective after
    pytest.param(True, None, None, True, id="enabled-file-silent"),
    pytest.param(None, None, None, True, id="unset-file-silent"),
    pytest.param(False, None, None, False, id="disabled-file-silent-stays-disabled"),
    pytest.param(False, None, "--enable-http-proxy", True, id="disabled-enable-flag"),
    pytest.param(True, None, "--disable-http-proxy", False, id="enabled-disable-flag"),
    pytest.param(True, False, None, False, id="enabled-file-false"),
    pytest.param(False, True, None, True, id="disabled-file-true"),
]


@pytest.mark.parametrize("before, in_file, flag, expected", ENABLED_CASES)
def test_enabled_changes_only_when_the_file_or_a_flag_asks(az_ext, emu, tmp_path, trial, before, in_file, flag,
                                                          expected):
    t = trial("`enabled`: cluster state against the file's value and --enable/--disable-http-proxy",
              "az aks update --http-proxy-config FILE [--enable-http-proxy|--disable-http-proxy]",
              "stored `enabled` (unset = true) changes only when the file or a flag asks; a kept disabled state "
              "is announced")
    cluster_cfg = {**PROXY, **({} if before is None else {"enabled": before})}
    emu.seed_cluster(RG, NAME, http_proxy_config=cluster_cfg)
    new = {**PROXY, "httpProxy": "http://proxy2.corp.example:3128/",
           **({} if in_file is None else {"enabled": in_file})}
    r = update(az_ext, write_file(tmp_path, "proxy.json", new), *([flag] if flag else []))
    after = stored(emu)["properties"]["httpProxyConfig"]
    t.observed(f"exit {r.rc}; enabled {before} -> {after.get('enabled')}")
    assert r.ok, r
    assert after.get("enabled", True) is expected
    assert after["httpProxy"] == new["httpProxy"]
    asked = in_file is not None or flag is not None
    assert ("stays disabled" in r.stderr) == (before is False and not asked)
    if not asked:
        assert after.get("enabled", True) is (before is not False)
    t.passed(f"enabled {'unset' if before is None else before} -> {expected} "
             f"({'asked by ' + (flag or 'the file') if asked else 'not asked: kept'})")
