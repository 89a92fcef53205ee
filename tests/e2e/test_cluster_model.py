"""Re-applying the file a cluster runs changes nothing, through the real az against the emulator, on a managed VNet
(AKS writes 10.224.0.0/12 into noProxy) and on a custom VNet (AKS writes the VNet's address space, read with one GET
per distinct VNet): no reimage announced, no refusal under a Block disruption policy, the PUT carrying
httpProxyConfig exactly as stored; diff keeps every field; audit finds nothing; show lists the VNet's space under
what AKS added. A VNet that cannot be read is said once and degrades nothing else."""
from __future__ import annotations

import pytest

from tests.armemu.fixtures import load_data
from tests.documents import write_file

SUB = "00000000-0000-0000-0000-000000000000"
RG, NAME = "rg1", "c1"
FILE = {"httpProxy": "http://proxy.corp.example:3128/", "httpsProxy": "http://proxy.corp.example:3128/",
        "noProxy": [".corp.example", ".svc", ".cluster.local"]}
BLOCK = {"nodeDisruptionProfile": {"nodeDisruptionPolicy": "Block"}}
NO_CHANGE = "this update changes no proxy setting"


def custom_vnet(emu, name="vnet1", prefixes=("10.42.0.0/16",), subnet="10.42.1.0/24", sub=SUB) -> str:
    (subnet_id,) = emu.seed_vnet(sub, RG, name, list(prefixes), {"aks-subnet": subnet})
    return subnet_id


def seed(emu, subnet_id=None, properties=None, config=None):
    pools = [{"name": "nodepool1", "count": 2, **({"vnetSubnetID": subnet_id} if subnet_id else {})}]
    emu.seed_cluster(RG, NAME, pools=pools, http_proxy_config=config or FILE, properties=properties)


def stored_config(emu) -> dict:
    return emu.cluster_state(RG, NAME)["rendered"]["properties"]["httpProxyConfig"]


def vnet_reads(emu) -> list:
    return [e["path"] for e in emu.journal() if "/virtualnetworks/" in e["path"].lower()]


@pytest.fixture(params=["managed", "custom"])
def cluster_kind(request, emu):
    """A cluster running FILE, with what AKS wrote into its noProxy: the managed VNet's space, or the custom
    VNet's; (the space, the VNet id or None)."""
    if request.param == "managed":
        seed(emu, properties=BLOCK)
        return "10.224.0.0/12", None
    subnet_id = custom_vnet(emu)
    seed(emu, subnet_id, properties=BLOCK)
    return "10.42.0.0/16", subnet_id.split("/subnets/")[0]


def test_re_applying_the_running_file_is_a_no_op_even_under_block(az_ext, emu, tmp_path, cluster_kind):
    space, vnet = cluster_kind
    stored = stored_config(emu)
    assert space in stored["noProxy"]  # AKS's own entry: the file does not have it
    emu.clear_journal()
    r = az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config",
                  write_file(tmp_path, "proxy.json", FILE), "-o", "none")
    assert r.ok, r
    assert "reimage" not in r.stderr and "removes these noProxy" not in r.stderr and NO_CHANGE in r.stderr
    (put,) = [w for w in emu.writes() if w["method"] == "PUT"]
    assert put["body"]["properties"]["httpProxyConfig"]["noProxy"] == stored["noProxy"]  # exactly as stored
    assert {k: v for k, v in put["body"]["properties"]["httpProxyConfig"].items() if k != "effectiveNoProxy"} == \
        {k: v for k, v in stored.items() if k != "effectiveNoProxy"}
    assert len(vnet_reads(emu)) == (1 if vnet else 0)  # the custom VNet read once; nothing for a managed one


def test_diff_keeps_every_field_and_show_lists_the_vnet_space_as_aks_added(az_ext, emu, tmp_path, cluster_kind):
    space, _ = cluster_kind
    d = az_ext.az("aks", "http-proxy", "diff", "-g", RG, "-n", NAME, "--config",
                  write_file(tmp_path, "proxy.json", FILE))
    assert d.ok, d
    assert not d.json["changed"] and {row["field"]: row["action"] for row in d.json["changes"]} == \
        dict.fromkeys(("httpProxy", "httpsProxy", "trustedCa", "noProxy", "enabled"), "keep")
    assert d.json["removed"] == [] and not d.json["rollout"]["nodes"]["required"]
    s = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME)
    assert s.ok, s
    assert s.json["userNoProxy"] == FILE["noProxy"]
    assert space in s.json["aksAddedNoProxy"] and s.json["possiblyAksAddedNoProxy"] == []
    (vnet_source,) = [e for e in s.json["aksAddedNoProxySources"] if e["value"] == space]
    assert "VNet" in vnet_source["why"] and vnet_source["source"]
    # generate --from-cluster writes the user's part, which diff shows unchanged
    g = az_ext.az("aks", "http-proxy", "generate", "--from-cluster", "-g", RG, "-n", NAME)
    assert g.ok and g.json["noProxy"] == FILE["noProxy"], g


def test_audit_of_healthy_managed_and_custom_vnet_clusters_finds_nothing(az_ext, emu, tmp_path):
    seed(emu)
    emu.seed_cluster(RG, "c2", pools=[{"name": "nodepool1", "vnetSubnetID": custom_vnet(emu)}],
                     http_proxy_config=FILE)
    # vnet2 has two address prefixes: AKS writes both, more CIDRs than VNets, so only its read can tell whose
    # they are; its two clusters share one read.
    subnets = emu.seed_vnet(SUB, RG, "vnet2", ["10.50.0.0/16", "10.51.0.0/16"], {"a": "10.50.1.0/24",
                                                                                  "b": "10.50.2.0/24"})
    for name, subnet in zip(("c3", "c5"), subnets):
        emu.seed_cluster(RG, name, pools=[{"name": "nodepool1", "vnetSubnetID": subnet}], http_proxy_config=FILE)
    emu.clear_journal()
    r = az_ext.az("aks", "http-proxy", "audit", "--config", write_file(tmp_path, "proxy.json", FILE), "-o", "json")
    assert r.ok, r
    assert r.json == [] and "4 clean" in r.stderr
    assert [p.rsplit("/", 1)[-1] for p in vnet_reads(emu)] == ["vnet2"]  # once, and only where it decides
    assert emu.writes() == []
    # the user's own CIDR is still the user's, on a managed VNet and next to a custom VNet's space
    emu.seed_cluster(RG, "c4", pools=[{"name": "nodepool1"}],
                     http_proxy_config={**FILE, "noProxy": [*FILE["noProxy"], "192.168.0.0/16"]})
    emu.seed_cluster(RG, "c6", pools=[{"name": "nodepool1", "vnetSubnetID": custom_vnet(emu, "vnet3")}],
                     http_proxy_config={**FILE, "noProxy": [*FILE["noProxy"], "172.20.0.0/16"]})
    r = az_ext.az("aks", "http-proxy", "audit", "-o", "json")
    assert sorted((row["cluster"], row["code"], row["value"]) for row in r.json) == \
        [("c4", "noproxy-cidr", "192.168.0.0/16"), ("c6", "noproxy-cidr", "172.20.0.0/16")]


def test_the_azure_cli_recorded_case_gives_no_removal_warning(az_ext, emu, recorded_data):
    # The Azure CLI's http-proxy scenario: VNet 10.42.0.0/16, subnet 10.42.1.0/24; AKS writes the VNet's space.
    subnet_id = custom_vnet(emu, "cliakstest000002")
    seed(emu, subnet_id, config=load_data("httpproxyconfig.json"))
    assert "10.42.0.0/16" in stored_config(emu)["noProxy"]
    r = az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config",
                  recorded_data / "httpproxyconfig_update.json", "-o", "none")
    assert r.ok, r
    assert "removes these noProxy" not in r.stderr and "may be the" not in r.stderr
    assert "reimages every node pool" in r.stderr  # the recorded update changes trustedCa: that is real


def test_a_refused_vnet_read_is_one_clear_line_and_nothing_else_degrades(az_ext, emu, tmp_path):
    subnet_id = custom_vnet(emu)
    vnet = subnet_id.split("/subnets/")[0]
    seed(emu, subnet_id)
    emu.deny_vnet_read(vnet)
    r = az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config",
                  write_file(tmp_path, "proxy.json", FILE), "-o", "none")
    assert r.ok, r
    lines = [line for line in r.stderr.splitlines() if "Could not read the address space of VNet" in line]
    assert len(lines) == 1 and vnet.lower() in lines[0].lower() and "AuthorizationFailed" in lines[0], r.stderr
    # Only that VNet's CIDR keeps the cautious wording; the update itself goes on, saying it may reimage.
    assert "10.42.0.0/16 may be the address space of VNet vnet1" in r.stderr
    assert "This update may change noProxy" in r.stderr and "AKS reimages every node pool as part" not in r.stderr
    # Under Block the service decides: a change that may be none is not refused here.
    emu.seed_cluster(RG, "c9", pools=[{"name": "nodepool1", "vnetSubnetID": subnet_id}], http_proxy_config=FILE,
                     properties=BLOCK)
    blocked = az_ext.az("aks", "update", "-g", RG, "-n", "c9", "--http-proxy-config",
                        write_file(tmp_path, "proxy.json", FILE), "-o", "none")
    assert blocked.ok and "OperationBlockedByNodeDisruptionPolicy" not in blocked.stderr, blocked
    s = az_ext.az("aks", "http-proxy", "show", "-g", RG, "-n", NAME)
    assert s.ok and s.json["possiblyAksAddedNoProxy"] == ["10.42.0.0/16"] and s.json["userNoProxy"] == FILE["noProxy"]
    assert [v["id"].lower() for v in s.json["unreadVnets"]] == [vnet.lower()]
    assert "10.224.0.0/12" not in s.json["aksAddedNoProxy"]  # not a managed VNet
