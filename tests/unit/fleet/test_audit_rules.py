"""The fleet audit's pure core: a listed cluster's stored config through validate's rules, the fleet rules (CA
horizon, disabled proxy, drift from a reference), rows, summary and --fail-on."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from azext_aksproxy.cluster.model import ClusterModel, VnetSpace
from azext_aksproxy.fleet import audit_rules as fleet
from azext_aksproxy.fleet.audit_rules import (
    SubscriptionListing,
    audit,
    cluster_findings,
    drift_findings,
    fails,
)
from tests.unit.certs import CertFactory, trusted_ca

NOW = datetime(2030, 6, 1, tzinfo=UTC)
FQDN = "c1-dns-1a2b3c4d.hcp.westus2.azmk8s.io"
PROXY = "http://proxy.contoso.com:3128/"
USER_NO_PROXY = ["localhost", ".contoso.com", ".svc", ".cluster.local"]
# What AKS writes into a managed-VNet cluster's noProxy (the managed VNet's space 10.224.0.0/12 among them).
AKS_ADDED = ["127.0.0.1", "konnectivity", "10.224.0.0/12", "10.244.0.0/16", "10.0.0.0/16", "168.63.129.16",
             "169.254.169.254", FQDN]
SUB = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def certs():
    factory = CertFactory()
    return {
        "good": trusted_ca(factory.issuing_ca("Good CA")),
        "soon": trusted_ca(factory.make("Soon CA", sans=None, not_before=NOW - timedelta(days=300),
                                        not_after=NOW + timedelta(days=12))),
        "later": trusted_ca(factory.make("Later CA", sans=None, not_before=NOW - timedelta(days=300),
                                         not_after=NOW + timedelta(days=45))),
        "expired": trusted_ca(factory.make("Old CA", sans=None, not_before=NOW - timedelta(days=300),
                                           not_after=NOW - timedelta(days=1))),
    }


def listed(name="c1", rg="rg1", *, proxy=None, pools=None, aks_added=True):
    """A cluster as ARM lists it: noProxy grown by AKS and mirrored in effectiveNoProxy."""
    props = {"fqdn": FQDN, "networkProfile": {"podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16"},
             "agentPoolProfiles": pools or [{"name": "nodepool1", "osType": "Linux",
                                             "type": "VirtualMachineScaleSets"}]}
    if proxy is not None:
        proxy = dict(proxy)
        if aks_added and "noProxy" in proxy:
            custom_vnet = any(p.get("vnetSubnetID") for p in props["agentPoolProfiles"])
            added = [e for e in AKS_ADDED if not (custom_vnet and e == "10.224.0.0/12")]  # the managed VNet's
            proxy["noProxy"] = proxy["noProxy"] + [e for e in added if e not in proxy["noProxy"]]
            proxy["effectiveNoProxy"] = list(proxy["noProxy"])
        props["httpProxyConfig"] = proxy
    return {"id": f"/subscriptions/{SUB}/resourcegroups/{rg}/providers/Microsoft.ContainerService/managedClusters/"
                  f"{name}", "name": name, "properties": props}


def good_proxy(certs, **changes):
    return {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": list(USER_NO_PROXY), "trustedCa": certs["good"],
            **changes}


def user_config(cluster):
    return ClusterModel(cluster).user_config()


def codes(findings) -> list:
    return [f.code for f in findings]


def test_stored_config_is_what_the_user_wrote(certs):
    cluster = listed(proxy={**good_proxy(certs), "someFutureField": 1})
    # No effectiveNoProxy, no unknown keys, none of AKS's noProxy entries (localhost too: AKS adds it anyway).
    assert user_config(cluster) == good_proxy(certs, noProxy=[".contoso.com", ".svc", ".cluster.local"])
    assert user_config(listed()) is None


def test_a_good_cluster_has_no_finding(certs):
    assert cluster_findings(listed(proxy=good_proxy(certs)), now=NOW) == []
    assert cluster_findings(listed(proxy=good_proxy(certs)), reference=good_proxy(certs), now=NOW) == []
    assert cluster_findings(listed(), now=NOW) == []  # no proxy: nothing for the proxy rules to say
    for empty in ({}, {"enabled": False}, {"noProxy": [], "enabled": True}):  # no URL: no proxy either
        assert user_config(listed(proxy=empty)) is None and cluster_findings(listed(proxy=empty), now=NOW) == []


def test_config_rules_are_validates(certs):
    cluster = listed(proxy=good_proxy(certs, httpProxy="https://user:pw@proxy.contoso.com:3128/"))
    found = cluster_findings(cluster, now=NOW)
    assert {"url-scheme", "url-credentials"} <= set(codes(found))
    assert all("pw" not in str(f.to_dict()) for f in found)


@pytest.mark.parametrize(("ca", "horizon", "expected"), [
    ("soon", 30, ["ca-expiring"]),
    ("later", 30, []),
    ("later", 60, ["ca-expiring"]),
    ("soon", 0, []),
    ("expired", 30, ["ca-expired"]),  # expired is validate's error, not a horizon warning too
])
def test_expiry_horizon(certs, ca, horizon, expected):
    found = cluster_findings(listed(proxy=good_proxy(certs, trustedCa=certs[ca])), horizon_days=horizon, now=NOW)
    assert codes(found) == expected
    assert "ca-expiring-soon" not in codes(found)  # superseded by the horizon rule
    if expected == ["ca-expiring"]:
        assert found[0].value == f"CN={ca.capitalize()} CA" and "horizon" in found[0].message


def test_disabled_proxy_and_unsupported_pools(certs):
    windows = [{"name": "nodepool1", "osType": "Linux"}, {"name": "win", "osType": "Windows"}]
    assert codes(cluster_findings(listed(proxy=good_proxy(certs), pools=windows), now=NOW)) == ["pool-windows"]
    # The service refuses Windows pools only while a proxy is in effect.
    disabled = cluster_findings(listed(proxy=good_proxy(certs, enabled=False), pools=windows), now=NOW)
    assert codes(disabled) == ["proxy-disabled"] and disabled[0].severity == "warning"
    vmas = [{"name": "nodepool1", "osType": "Linux", "type": "AvailabilitySet"}]
    assert codes(cluster_findings(listed(proxy=good_proxy(certs), pools=vmas), now=NOW)) == ["pool-availability-set"]


def test_drift_field_by_field(certs):
    reference = good_proxy(certs)
    cluster = listed(proxy=good_proxy(certs, httpProxy="http://u:secret@old.contoso.com:3128/",
                                      noProxy=["localhost", ".svc", ".cluster.local", "extra.contoso.com"],
                                      trustedCa=certs["later"]))
    found = drift_findings(cluster, reference)
    by_path = {f.path: f for f in found}
    assert set(by_path) == {"$.httpProxy", "$.noProxy", "$.trustedCa"}
    assert all(f.code == "config-drift" and f.severity == "warning" for f in found)
    assert "secret" not in str([f.to_dict() for f in found])
    assert by_path["$.noProxy"].message == ("noProxy differs from the reference: missing .contoso.com; "
                                            "extra extra.contoso.com.")  # AKS's own entries not counted
    assert "Later CA" in by_path["$.trustedCa"].message and "Good CA" in by_path["$.trustedCa"].message
    assert codes(drift_findings(listed(), reference)) == ["config-drift"]  # no proxy at all
    assert drift_findings(listed(proxy=good_proxy(certs, enabled=False)), reference) == []  # enabled not given


def test_audit_rows_summary_and_unreadable(certs, monkeypatch):
    ok = listed("ok", proxy=good_proxy(certs))
    bad = listed("bad", rg="RG2", proxy=good_proxy(certs, trustedCa=certs["expired"], enabled=False))
    plain = listed("plain")
    listings = [SubscriptionListing("sub-b", "B", [bad, ok, plain]),
                SubscriptionListing("sub-a", "A", [], error="HTTP 403 (AuthorizationFailed) no"),
                SubscriptionListing("sub-c", "C", [listed("partial")], error="HTTP 500 (InternalError) boom")]
    rows, summary = audit(listings, now=NOW)
    assert [(r["subscription"], r["resourceGroup"], r["cluster"], r["code"]) for r in rows] == [
        ("A", None, None, "subscription-unreadable"),
        ("B", "RG2", "bad", "ca-expired"),
        ("B", "RG2", "bad", "proxy-disabled"),
        ("C", None, None, "subscription-unreadable"),
    ]
    assert "could not be listed: HTTP 403 (AuthorizationFailed)" in rows[0]["message"]
    assert rows[3]["message"].startswith("Listing stopped after 1 cluster(s): HTTP 500")
    assert summary.to_dict() == {"subscriptions": 3, "unreadable_subscriptions": 2, "clusters": 4, "with_errors": 1,
                                 "with_warnings_only": 0, "clean": 3, "without_proxy": 2, "errors": 1,
                                 "warnings": 1}
    assert summary.text().startswith("Audited 4 cluster(s) in 3 subscription(s): 1 with errors")
    assert [r["code"] for r in fails(rows, "error")] == ["subscription-unreadable", "ca-expired",
                                                         "subscription-unreadable"]
    assert len(fails(rows, "warning")) == 4 and fails(rows, "never") == []

    def broken(*_args, **_kwargs):
        raise KeyError("odd")

    monkeypatch.setattr(fleet, "cluster_findings", broken)
    rows, summary = audit([SubscriptionListing("sub", "S", [ok])], now=NOW)
    assert [(r["cluster"], r["code"], r["severity"]) for r in rows] == [("ok", "cluster-unreadable", "error")]
    assert "KeyError" in rows[0]["message"] and summary.with_errors == 1


def test_every_fleet_code_is_catalogued(certs):
    rows, _ = audit([SubscriptionListing("s", "S", [listed(proxy=good_proxy(certs, trustedCa=certs["soon"],
                                                                           enabled=False))], error="x")],
                    reference=good_proxy(certs), now=NOW)
    # Each row's severity is the catalogue's: findings.warning_at/error_at refuse any other.
    assert {"ca-expiring", "proxy-disabled", "config-drift", "subscription-unreadable"} <= {r["code"] for r in rows}


def test_a_healthy_managed_vnet_cluster_has_no_finding(certs):
    # AKS wrote 10.224.0.0/12 (the managed VNet's space) into noProxy: not the user's CIDR, not drift.
    healthy = listed(proxy=good_proxy(certs))
    assert "10.224.0.0/12" in healthy["properties"]["httpProxyConfig"]["noProxy"]
    assert cluster_findings(healthy, reference=good_proxy(certs), now=NOW) == []
    # The user's own CIDR still gets the notice.
    own = listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "192.168.0.0/16"]))
    assert codes(cluster_findings(own, now=NOW)) == ["noproxy-cidr"]


SUBNET = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/{}/subnets/nodes"
VNET = "/subscriptions/s/resourcegroups/net/providers/microsoft.network/virtualnetworks/{}"


def test_a_custom_vnet_space_read_is_aks_added_and_a_second_cidr_is_the_users(certs):
    pools = [{"name": "nodepool1", "osType": "Linux", "vnetSubnetID": SUBNET.format("vnet1")}]
    spaces = {VNET.format("vnet1"): VnetSpace(VNET.format("vnet1"), ("10.42.0.0/16",))}
    vnet_added = listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "10.42.0.0/16"]), pools=pools)
    assert cluster_findings(ClusterModel(vnet_added, spaces), reference=good_proxy(certs), now=NOW) == []
    two = listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "10.42.0.0/16", "192.168.0.0/16"]), pools=pools)
    assert codes(cluster_findings(ClusterModel(two, spaces), now=NOW)) == ["noproxy-cidr"]
    drift = drift_findings(ClusterModel(two, spaces), good_proxy(certs))
    assert [f.value for f in drift] == ["192.168.0.0/16"]


def test_an_unread_vnet_space_is_possibly_aks_added(certs):
    pools = [{"name": "nodepool1", "osType": "Linux", "vnetSubnetID": SUBNET.format("vnet1")}]
    vnet_added = listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "10.42.0.0/16"]), pools=pools)
    assert cluster_findings(vnet_added, now=NOW) == []
    assert drift_findings(vnet_added, good_proxy(certs)) == []
    # More CIDRs than unread VNets: at least one is the user's, so the notice stays and both are drift.
    two = listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "10.42.0.0/16", "192.168.0.0/16"]), pools=pools)
    assert codes(cluster_findings(two, now=NOW)) == ["noproxy-cidr"]
    assert [f.value for f in drift_findings(two, good_proxy(certs))] == ["10.42.0.0/16, 192.168.0.0/16"]
    two_vnets = pools + [{"name": "np2", "osType": "Linux", "vnetSubnetID": SUBNET.format("vnet2")}]
    assert cluster_findings(listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "10.42.0.0/16",
                                                                    "192.168.0.0/16"]), pools=two_vnets),
                            now=NOW) == []


def test_audit_uses_the_fleets_vnet_spaces(certs):
    pools = [{"name": "nodepool1", "osType": "Linux", "vnetSubnetID": SUBNET.format("vnet1")}]
    spaces = {VNET.format("vnet1"): VnetSpace(VNET.format("vnet1"), ("10.42.0.0/16",))}
    cluster = listed(proxy=good_proxy(certs, noProxy=[*USER_NO_PROXY, "10.42.0.0/16", "192.168.0.0/16"]),
                     pools=pools)
    rows, _ = audit([SubscriptionListing(SUB, "S", [cluster])], now=NOW, vnets=spaces)
    assert [(r["code"], r["value"]) for r in rows] == [("noproxy-cidr", "192.168.0.0/16")]


def test_a_cluster_is_identified_by_its_id_whatever_its_case_and_slashes():
    cluster_id = f"/subscriptions/{SUB}/RESOURCEGROUPS/rg1/providers/Microsoft.ContainerService/managedClusters/c1/"
    assert fleet.cluster_identity({"id": cluster_id}) == ("rg1", "c1")
    assert fleet.cluster_identity({"id": cluster_id, "name": "named"}) == ("rg1", "named")
    assert fleet.cluster_identity({"id": "odd"}) == (None, "odd")
    assert fleet.cluster_identity({}) == (None, None)
