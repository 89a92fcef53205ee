"""In-cluster names in noProxy: AKS adds CIDRs but no names, and curl and Python ignore CIDRs, so a config without
`.svc` and `.cluster.local` sends `http://svc.ns.svc.cluster.local` from such pods to the proxy."""
from __future__ import annotations

import pytest

from azext_aksproxy.cluster.cluster_rules import cluster_network, with_cluster_advice
from azext_aksproxy.config.noproxy import (
    IN_CLUSTER_SUFFIXES,
    ClusterNetwork,
)

from ..expect import IN_CLUSTER, check_all, codes

URL = "http://proxy.contoso.com:3128/"


def advice(result):
    found = [f for f in result.findings if f.code == IN_CLUSTER]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("entries", [
    [".svc", ".cluster.local"],
    ["svc", "cluster.local"],
    [".svc", "local"],
])
def test_svc_and_cluster_local_suffixes_cover_in_cluster_names(entries):
    assert advice(check_all({"httpProxy": URL, "noProxy": ["localhost", *entries]})) is None


def test_no_noproxy_at_all_gets_the_advice_at_the_top():
    finding = advice(check_all({"httpProxy": URL}))
    assert finding is not None and finding.path == "$" and not finding.is_error
    assert "noProxy is not set" in finding.message
    assert "`.svc` and `.cluster.local`" in finding.fix


def test_the_advice_names_what_still_goes_to_the_proxy_and_why():
    finding = advice(check_all({"httpProxy": URL, "noProxy": ["localhost", "10.0.0.0/16"]}))
    assert finding.path == "$.noProxy"
    for text in ("`svc.ns.svc`", "`svc.ns.svc.cluster.local`", "`svc`, `svc.ns`", "curl and Python", "CIDRs"):
        assert text in finding.message


def test_only_the_missing_suffix_is_asked_for():
    finding = advice(check_all({"httpProxy": URL, "noProxy": [".svc.cluster.local"]}))
    assert "`.svc`" in finding.fix and "`.cluster.local`" not in finding.fix
    assert "`svc.ns.svc`" in finding.message and "`svc.ns.svc.cluster.local`" not in finding.message


def test_a_disabled_proxy_needs_no_advice():
    assert advice(check_all({"httpProxy": URL, "enabled": False})) is None


def test_a_refused_file_still_gets_the_advice_but_only_once():
    result = check_all({"httpProxy": "https://proxy:3128/", "noProxy": ["localhost"]})
    assert not result.ok and codes(result).count(IN_CLUSTER) == 1


def test_the_wrapper_case_is_left_to_the_wrapper_error():
    assert IN_CLUSTER not in codes(check_all({"httpProxyConfig": {"httpProxy": URL}}))


def test_the_suffixes_generate_adds_are_exactly_those_the_rule_wants():
    from azext_aksproxy.cluster.generated_config import build_document

    for given in (None, ["localhost"], [".svc"]):
        doc, _ = build_document(URL, no_proxy=given)
        assert IN_CLUSTER not in codes(check_all(doc)), doc
        assert set(IN_CLUSTER_SUFFIXES) <= {e.lower() for e in doc["noProxy"]}


CLUSTER = {"properties": {
    "networkProfile": {"serviceCidr": "10.0.0.0/16", "serviceCidrs": ["10.0.0.0/16"], "dnsServiceIP": "10.0.0.10"},
    "serviceMeshProfile": {"mode": "Istio"},
}}


def test_cluster_network_reads_service_cidrs_dns_and_istio():
    assert cluster_network(CLUSTER) == ClusterNetwork(("10.0.0.0/16",), "10.0.0.10", True)
    assert cluster_network({"properties": {"serviceMeshProfile": {"mode": "Disabled"}}}) == ClusterNetwork()


def test_with_a_cluster_the_advice_names_its_service_cidr_and_istio():
    result = check_all({"httpProxy": URL, "noProxy": ["localhost"]})
    refined = advice(result.__class__(findings=with_cluster_advice(result.findings, CLUSTER, result.config)))
    assert "10.0.0.0/16" in refined.message and "10.0.0.10" in refined.message
    assert "cluster.local" in refined.message and "ServiceEntry" in refined.message
    assert refined.path == "$.noProxy"
    others = [f for f in with_cluster_advice(result.findings, CLUSTER, result.config) if f.code != IN_CLUSTER]
    assert others == [f for f in result.findings if f.code != IN_CLUSTER]


def test_with_a_cluster_and_covered_names_nothing_is_added():
    result = check_all({"httpProxy": URL, "noProxy": [".svc", ".cluster.local"]})
    assert with_cluster_advice(result.findings, CLUSTER, result.config) == result.findings


def test_trailing_dot_suffixes_do_not_cover_in_cluster_names():
    # The node's Go matcher takes `svc.` literally: `svc.ns.svc` is not under it, so the advice must still come.
    from azext_aksproxy.config.bypass import NoProxy
    from azext_aksproxy.config.noproxy import (
        in_cluster_finding,
        missing_in_cluster_suffixes,
    )

    entries = ["svc.", "cluster.local."]
    assert NoProxy(entries).covering("svc.ns.svc", 80) is None
    assert missing_in_cluster_suffixes(entries) == [".svc", ".cluster.local"]
    assert in_cluster_finding(entries, "$.noProxy") is not None
    # Without the dot, or as a parent domain, they do.
    assert missing_in_cluster_suffixes(["svc", "cluster.local"]) == []
    assert missing_in_cluster_suffixes([".svc", "local"]) == []
