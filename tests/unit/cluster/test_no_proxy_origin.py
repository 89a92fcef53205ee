"""The cluster's noProxy by origin: what the user set, what AKS wrote into it (the Terraform drift), and CIDRs that
may be either. Checked on real recorded responses, whose noProxy AKS grew from two entries to nine."""
from __future__ import annotations

import pytest

from azext_aksproxy.cluster.diff import diff_document
from azext_aksproxy.cluster.model import ClusterModel, VnetSpace, vnet_ids
from azext_aksproxy.cluster.view import show_document
from azext_aksproxy.config import check_document
from tests.armemu.fixtures import CREATE_UPDATE, load_recording

FQDN = "cliakstest-clitestmywpca234-0b1f64-svh6xc7o.hcp.westus2.azmk8s.io"


def split_no_proxy(cluster, vnets=None):
    return ClusterModel(cluster, vnets).no_proxy_by_origin()


def user_config(cluster, vnets=None):
    return ClusterModel(cluster, vnets).user_config()


def read_vnet(cluster):
    """The recording's VNet as its own GET would answer: 10.42.0.0/16 (the subnet is 10.42.1.0/24)."""
    vnet, = vnet_ids(cluster)
    return {vnet: VnetSpace(vnet, ("10.42.0.0/16",))}


def recorded_cluster() -> dict:
    """The GET before `az aks update` in the recording: the client sent ["localhost", "127.0.0.1"] at create."""
    gets = [i for i in load_recording(CREATE_UPDATE) if i["method"] == "GET" and i["command"] == "aks update"
            and isinstance(i.get("response_body"), dict) and "properties" in i["response_body"]]
    return gets[0]["response_body"]


def test_the_recorded_noproxy_splits_into_aks_added_and_a_possible_vnet_cidr():
    split = split_no_proxy(recorded_cluster())
    assert split["user"] == []
    assert sorted(split["aksAdded"]) == sorted(["konnectivity", "10.244.0.0/16", "localhost", "10.0.0.0/16",
                                                "168.63.129.16", "127.0.0.1", "169.254.169.254", FQDN])
    assert split["possiblyAksAdded"] == ["10.42.0.0/16"]  # the VNet space: not in the cluster object


def test_with_the_vnet_read_every_recorded_entry_is_aks_added():
    cluster = recorded_cluster()
    split = split_no_proxy(cluster, read_vnet(cluster))
    assert split["user"] == [] and split["possiblyAksAdded"] == []
    assert "10.42.0.0/16" in split["aksAdded"] and len(split["aksAdded"]) == 9
    # Re-applying what the client sent at create changes nothing, and the PUT would carry the stored config.
    model = ClusterModel(cluster, read_vnet(cluster))
    sent = {**user_config(cluster, read_vnet(cluster)), "noProxy": ["localhost", "127.0.0.1"]}
    assert model.changed_fields(sent) == []
    assert model.config_to_send(sent) == cluster["properties"]["httpProxyConfig"]
    assert not [f for f in model.changes(sent) if getattr(f, "removed", ())]


def test_user_entries_keep_their_order_and_spelling():
    cluster = recorded_cluster()
    cluster["properties"]["httpProxyConfig"]["noProxy"] = ["Registry.Contoso.com", "konnectivity", ".svc",
                                                           "10.9.0.0/16"]
    split = split_no_proxy(cluster)
    assert split == {"user": ["Registry.Contoso.com", ".svc"], "aksAdded": ["konnectivity"],
                     "possiblyAksAdded": ["10.9.0.0/16"]}


def test_show_answers_what_was_set_without_the_aks_entries():
    doc = show_document(recorded_cluster(), "clitest000001", {})
    assert doc["userNoProxy"] == [] and doc["possiblyAksAddedNoProxy"] == ["10.42.0.0/16"]
    assert FQDN in doc["aksAddedNoProxy"] and len(doc["noProxy"]) == 9
    sources = {e["value"]: e for e in doc["aksAddedNoProxySources"]}
    assert set(sources) == set(doc["aksAddedNoProxy"]) and all(e["why"] and e["source"] for e in sources.values())


def test_user_config_round_trips_through_diff_with_no_change():
    cluster = recorded_cluster()
    written = user_config(cluster)
    assert "effectiveNoProxy" not in written and written["noProxy"] == ["10.42.0.0/16"]
    result = check_document(written)
    assert result.ok, [str(f) for f in result.errors]
    doc = diff_document(cluster, result.config, resource_group="rg", name="c", config_path="proxy.json")
    assert not doc["changed"] and doc["removed"] == [], doc["changes"]
    no_proxy = next(row for row in doc["changes"] if row["field"] == "noProxy")
    assert FQDN in no_proxy["aksAdded"] and "10.42.0.0/16" not in no_proxy["aksAdded"]


@pytest.mark.parametrize("enabled", [True, False])
def test_user_config_keeps_enabled_and_the_ca_verbatim(enabled):
    cluster = recorded_cluster()
    cluster["properties"]["httpProxyConfig"]["enabled"] = enabled
    written = user_config(cluster)
    current = cluster["properties"]["httpProxyConfig"]
    assert written["enabled"] is enabled and written["trustedCa"] == current["trustedCa"]
    assert list(written) == ["httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled"]


def test_no_config_means_nothing_to_write():
    assert user_config({"properties": {}}) is None
