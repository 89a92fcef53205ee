"""The one cluster model: what AKS adds to noProxy, what the user set, one meaning of `enabled`, and one answer to
"does this file change what the user set?". Re-applying the file a cluster runs must be a no-op."""
from __future__ import annotations

import pytest

from azext_aksproxy.cluster.model import (
    MANAGED_VNET_SPACE,
    ClusterModel,
    VnetSpace,
    vnet_ids,
)

FQDN = "c1-dns-1a2b3c4d.hcp.westus2.azmk8s.io"
PROXY = "http://proxy.contoso.com:3128/"
USER = [".contoso.com", ".svc", ".cluster.local"]
SUBNET = "/subscriptions/s/resourceGroups/Net/providers/Microsoft.Network/virtualNetworks/{}/subnets/{}"


def vnet(name):
    return SUBNET.format(name, "x").lower().split("/subnets/")[0]


def cluster(no_proxy, *, subnets=(), enabled=None, private_fqdn=None, pod_cidr="10.244.0.0/16"):
    pools = [{"name": f"np{i}", "osType": "Linux", **({"vnetSubnetID": s} if s else {})}
             for i, s in enumerate(subnets or [None])]
    proxy = {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": list(no_proxy),
             "effectiveNoProxy": list(no_proxy)}
    if enabled is not None:
        proxy["enabled"] = enabled
    props = {"fqdn": FQDN, "networkProfile": {"serviceCidr": "10.0.0.0/16", **({"podCidr": pod_cidr} if pod_cidr
                                                                                else {})},
             "agentPoolProfiles": pools, "httpProxyConfig": proxy}
    if private_fqdn:
        props["privateFQDN"] = private_fqdn
    return {"name": "c1", "properties": props}


AKS_FIXED = ["localhost", "127.0.0.1", "konnectivity", "168.63.129.16", "169.254.169.254"]
MANAGED = [*USER, *AKS_FIXED, MANAGED_VNET_SPACE, "10.244.0.0/16", "10.0.0.0/16", FQDN]


def file_config(**changes):
    return {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": list(USER), **changes}


def test_a_managed_vnet_cluster_re_applied_changes_nothing():
    model = ClusterModel(cluster(MANAGED))
    assert model.user_no_proxy() == USER
    assert model.changed_fields(file_config()) == []
    assert model.config_to_send(file_config()) == model.stored  # the PUT carries what the cluster stores
    split = model.no_proxy_by_origin()
    assert MANAGED_VNET_SPACE in split["aksAdded"] and split["possiblyAksAdded"] == []


def test_every_aks_entry_names_its_source():
    model = ClusterModel(cluster(MANAGED, private_fqdn="c1.privatelink.westus2.azmk8s.io"))
    values = [e.value for e in model.aks_added]
    assert set(AKS_FIXED + [FQDN, "c1.privatelink.westus2.azmk8s.io", "10.244.0.0/16", "10.0.0.0/16",
                            MANAGED_VNET_SPACE]) == set(values)
    assert all(e.why and e.source for e in model.aks_added)


def test_azure_cni_without_a_pod_cidr_adds_none():
    model = ClusterModel(cluster(MANAGED, pod_cidr=None))
    assert "10.244.0.0/16" not in {e.value for e in model.aks_added}
    assert model.user_no_proxy() == [*USER, "10.244.0.0/16"]


def test_a_custom_vnet_cluster_with_its_space_read_changes_nothing():
    subnets = [SUBNET.format("vnet1", "a"), SUBNET.format("vnet1", "b"), SUBNET.format("vnet2", "c")]
    stored = [*USER, *AKS_FIXED, "10.42.0.0/16", "10.43.0.0/16", "172.16.0.0/12", "10.244.0.0/16", "10.0.0.0/16",
              FQDN]
    assert vnet_ids(cluster(stored, subnets=subnets)) == [vnet("vnet1"), vnet("vnet2")]  # once per VNet
    spaces = {vnet("vnet1"): VnetSpace(vnet("vnet1"), ("10.42.0.0/16", "10.43.0.0/16")),
              vnet("vnet2"): VnetSpace(vnet("vnet2"), ("172.16.0.0/12",))}
    model = ClusterModel(cluster(stored, subnets=subnets), spaces)
    assert model.user_no_proxy() == USER
    assert model.changed_fields(file_config()) == []
    assert not [c for c in model.changes(file_config()) if getattr(c, "removed", ())]
    assert MANAGED_VNET_SPACE not in {e.value for e in model.aks_added}  # not a managed VNet


def test_an_unread_vnet_keeps_the_cautious_wording_for_its_cidrs_only():
    stored = [*USER, *AKS_FIXED, "10.42.0.0/16", "10.244.0.0/16", "10.0.0.0/16", FQDN]
    refused = {vnet("vnet1"): VnetSpace(vnet("vnet1"), error="(AuthorizationFailed) no read access")}
    model = ClusterModel(cluster(stored, subnets=[SUBNET.format("vnet1", "a")]), refused)
    assert [v.name for v in model.unread_vnets] == ["vnet1"]
    assert model.no_proxy_by_origin()["possiblyAksAdded"] == ["10.42.0.0/16"]
    no_proxy = {c.field: c for c in model.changes(file_config())}["noProxy"]
    assert no_proxy.removed == ("10.42.0.0/16",) and "VNet vnet1" in no_proxy.note
    # The user's other entries are still compared exactly.
    assert {c.field: c for c in model.changes(file_config(noProxy=[*USER, ".new"]))}["noProxy"].added == (".new",)


@pytest.mark.parametrize("listed", [
    [".SVC", ".cluster.local", ".contoso.com"],  # order and case
    [*USER, "localhost", MANAGED_VNET_SPACE, FQDN],  # entries AKS adds anyway
])
def test_what_aks_adds_anyway_and_order_change_nothing(listed):
    model = ClusterModel(cluster(MANAGED))
    assert model.changed_fields(file_config(noProxy=listed)) == []


def test_a_real_change_sends_the_file():
    model = ClusterModel(cluster(MANAGED))
    new = file_config(noProxy=[*USER, ".fabrikam.com"])
    assert model.changed_fields(new) == ["noProxy"]
    assert model.config_to_send(new) == new
    removed = {c.field: c for c in model.changes(file_config(noProxy=[".svc"]))}["noProxy"]
    assert removed.removed == (".contoso.com", ".cluster.local") and removed.note == ""


@pytest.mark.parametrize("stored, file_enabled, after, changed", [
    (None, None, True, False),  # absent means true, the API's default
    (None, True, True, False),
    (True, None, True, False),
    (False, None, False, False),  # a file without enabled keeps a disabled proxy disabled
    (False, True, True, True),
    (True, False, False, True),
])
def test_enabled_has_one_meaning(stored, file_enabled, after, changed):
    model = ClusterModel(cluster(MANAGED, enabled=stored))
    new = file_config(**({"enabled": file_enabled} if file_enabled is not None else {}))
    assert model.enabled_after(new) is after
    assert (model.changed_fields(new) == ["enabled"]) is changed


def test_a_disabled_proxy_stays_disabled_in_what_is_sent():
    model = ClusterModel(cluster(MANAGED, enabled=False))
    sent = model.config_to_send(file_config(httpsProxy="http://other:3128/"))
    assert sent["enabled"] is False and sent["httpsProxy"] == "http://other:3128/"


def test_no_proxy_means_no_user_config_and_any_file_changes_it():
    empty = {"name": "c1", "properties": {"httpProxyConfig": {}, "agentPoolProfiles": []}}
    model = ClusterModel(empty)
    assert model.user_config() is None and model.enabled is None
    assert set(model.changed_fields(file_config())) == {"httpProxy", "httpsProxy", "noProxy", "enabled"}


def test_vnet_reads_are_needed_only_where_they_change_an_answer():
    subnet = [SUBNET.format("vnet1", "a")]
    healthy = ClusterModel(cluster([*USER, *AKS_FIXED, "10.42.0.0/16", FQDN], subnets=subnet))
    assert not healthy.needs_vnet_reads  # one CIDR for one VNet: AKS's
    own_cidr = ClusterModel(cluster([*USER, "192.168.0.0/16", *AKS_FIXED, "10.42.0.0/16", FQDN], subnets=subnet))
    assert own_cidr.needs_vnet_reads  # two CIDRs, one VNet: which is the user's?
    read = {vnet("vnet1"): VnetSpace(vnet("vnet1"), ("10.42.0.0/16",))}
    assert not ClusterModel(own_cidr.cluster, read).needs_vnet_reads
    assert ClusterModel(own_cidr.cluster, read).user_no_proxy() == [*USER, "192.168.0.0/16"]
    assert not ClusterModel(cluster(MANAGED)).needs_vnet_reads  # a managed VNet's space is known


def test_a_change_that_may_be_none_is_uncertain_not_certain():
    stored = [*USER, *AKS_FIXED, "10.42.0.0/16", "10.244.0.0/16", "10.0.0.0/16", FQDN]
    refused = {vnet("vnet1"): VnetSpace(vnet("vnet1"), error="(AuthorizationFailed) no read access")}
    model = ClusterModel(cluster(stored, subnets=[SUBNET.format("vnet1", "a")]), refused)
    assert model.changed_fields(file_config()) == ["noProxy"] and model.certain_fields(file_config()) == []
    # an entry of the user's makes it certain; another field is certain on its own
    assert model.certain_fields(file_config(noProxy=[".only"])) == ["noProxy"]
    assert model.certain_fields(file_config(httpsProxy="http://other:3128/")) == ["httpsProxy"]
