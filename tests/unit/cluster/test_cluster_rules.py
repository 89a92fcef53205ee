"""Rules that combine the file with the cluster: unsupported pools and what an update removes."""
import pytest

from azext_aksproxy.cluster.cluster_rules import (
    cluster_findings,
    pool_findings,
    update_findings,
)
from azext_aksproxy.cluster.model import ClusterModel


def compare(cluster, new):
    return ClusterModel(cluster).changes(new)

FQDN = "c1-dns-1a2b3c4d.hcp.westus2.azmk8s.io"


def cluster(pools=None, proxy=None):
    props = {
        "fqdn": FQDN,
        "networkProfile": {"podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16"},
        "agentPoolProfiles": pools if pools is not None else [{"name": "nodepool1", "osType": "Linux",
                                                              "type": "VirtualMachineScaleSets"}],
    }
    if proxy is not None:
        props["httpProxyConfig"] = proxy
    return {"name": "c1", "properties": props}


@pytest.mark.parametrize("pool, code", [
    ({"name": "win1", "osType": "Windows", "type": "VirtualMachineScaleSets"}, "pool-windows"),
    ({"name": "vmas1", "osType": "Linux", "type": "AvailabilitySet"}, "pool-availability-set"),
])
def test_unsupported_pools_are_errors_naming_the_pool(pool, code):
    linux = {"name": "nodepool1", "osType": "Linux", "type": "VirtualMachineScaleSets"}
    findings = pool_findings(cluster([linux, pool]))
    assert [f.code for f in findings] == [code]
    assert findings[0].is_error
    assert pool["name"] in findings[0].message and "nodepool1" not in findings[0].message
    assert findings[0].fix


def test_linux_scale_set_pools_pass():
    assert pool_findings(cluster()) == []


def test_aks_managed_entries_come_from_the_cluster():
    managed = {e.value for e in ClusterModel(cluster()).aks_added}
    assert {FQDN, "10.244.0.0/16", "10.0.0.0/16", "konnectivity", "168.63.129.16", "10.224.0.0/12"} <= managed


def test_aks_added_no_proxy_entries_are_not_reported_as_removed():
    grown = ["localhost", "127.0.0.1", "konnectivity", FQDN, "10.244.0.0/16", "10.0.0.0/16", "168.63.129.16",
             "169.254.169.254", ".corp.example"]
    current = {"httpProxy": "http://p:3128/", "noProxy": grown}
    new = {"httpProxy": "http://p:3128/", "noProxy": ["localhost", "127.0.0.1", ".corp.example"]}
    changes = {c.field: c for c in compare(cluster(proxy=current), new)}
    assert changes["noProxy"].action == "keep"
    assert update_findings(cluster(proxy=current), new) == []


def test_removed_user_entries_and_trusted_ca_are_announced():
    current = {"httpProxy": "http://p:3128/", "noProxy": ["localhost", ".corp.example", "db.internal"],
               "trustedCa": "QUJD"}
    new = {"httpProxy": "http://p:3128/", "noProxy": ["localhost"]}
    codes = {f.code: f for f in update_findings(cluster(proxy=current), new)}
    assert set(codes) == {"update-removes-trusted-ca", "update-removes-no-proxy"}
    assert ".corp.example" in codes["update-removes-no-proxy"].message
    assert "db.internal" in codes["update-removes-no-proxy"].message
    assert all(not f.is_error for f in codes.values())


def test_cluster_findings_are_the_pool_errors_then_the_update_notices():
    windows = {"name": "win1", "osType": "Windows", "type": "VirtualMachineScaleSets"}
    disabled = {"httpProxy": "http://p:3128/", "noProxy": ["db.internal"], "enabled": False}
    mc = cluster([windows], proxy=disabled)
    new = {"httpProxy": "http://p:3128/"}
    assert [f.code for f in cluster_findings(mc, new)] == \
        ["pool-windows", "update-removes-no-proxy", "proxy-stays-disabled"]
    assert [f.code for f in cluster_findings(mc, None)] == ["pool-windows"]  # a refused file: pools only


def test_removed_cidr_is_flagged_as_possibly_the_space_of_a_vnet_that_was_not_read():
    subnet = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/nodes"
    pools = [{"name": "nodepool1", "osType": "Linux", "vnetSubnetID": subnet}]
    current = {"httpProxy": "http://p:3128/", "noProxy": ["10.42.0.0/16"]}
    change = {c.field: c for c in compare(cluster(pools, proxy=current), {"httpProxy": "http://p:3128/"})}["noProxy"]
    assert change.removed == ("10.42.0.0/16",) and change.added == ()
    assert "VNet vnet1" in change.note
    # On a managed VNet the space is known (10.224.0.0/12): another CIDR is the user's, with no such note.
    change = {c.field: c for c in compare(cluster(proxy=current), {"httpProxy": "http://p:3128/"})}["noProxy"]
    assert change.removed == ("10.42.0.0/16",) and change.note == ""


@pytest.mark.parametrize("field, before, after, action, rollout", [
    ("httpProxy", "http://a:3128/", "http://b:3128/", "change", ("pods", "nodes")),
    ("trustedCa", None, "QUJD", "add", ("nodes",)),
    ("trustedCa", "QUJD", None, "remove", ("nodes",)),
    ("httpsProxy", "http://a:3128/", "http://a:3128/", "keep", ()),
])
def test_each_field_change_says_what_must_roll(field, before, after, action, rollout):
    current = {"httpProxy": "http://a:3128/"} | ({field: before} if before else {})
    new = {"httpProxy": "http://a:3128/"} | ({field: after} if after else {})
    change = {c.field: c for c in compare(cluster(proxy=current), new)}[field]
    assert (change.action, change.rollout) == (action, rollout)


def test_enabled_defaults_to_the_clusters_state():
    current = {"httpProxy": "http://a:3128/", "enabled": False}
    change = {c.field: c for c in compare(cluster(proxy=current), {"httpProxy": "http://a:3128/"})}["enabled"]
    assert (change.before, change.after, change.action) == (False, False, "keep")
    change = {c.field: c for c in compare(cluster(), {"httpProxy": "http://a:3128/"})}["enabled"]
    assert (change.before, change.after) == (None, True)
