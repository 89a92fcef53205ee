"""The monitoring add-on's documented limits behind a proxy, wherever the cluster is known: validate -g -n and diff
(cluster.cluster_findings), audit (fleet.cluster_findings), create/update (addon_findings on the cluster)."""
from __future__ import annotations

import pytest

from azext_aksproxy.cluster.addons import addon_findings, monitoring_enabled
from azext_aksproxy.cluster.cluster_rules import cluster_findings
from azext_aksproxy.fleet import audit_rules

from ..certs import trusted_ca
from ..conftest import NOW

PROXY = {"httpProxy": "http://proxy.contoso.com:3128/", "noProxy": [".svc", ".cluster.local"]}


def cluster(addons=None, private=False, config=None, monitor=None):
    props = {"agentPoolProfiles": [{"name": "sys", "osType": "Linux", "count": 1}], "fqdn": "c1.hcp.azmk8s.io",
             "addonProfiles": addons or {}, "apiServerAccessProfile": {"enablePrivateCluster": private}}
    if monitor:
        props["azureMonitorProfile"] = monitor
    if config:
        props["httpProxyConfig"] = config
    return {"name": "c1", "id": "/subscriptions/s/resourceGroups/rg/providers/x/managedClusters/c1",
            "properties": props}


@pytest.mark.parametrize(("addons", "monitor", "on"), [
    ({"omsagent": {"enabled": True}}, None, True),
    ({"omsAgent": {"enabled": "true"}}, None, True),  # as templates copied from the docs write it
    ({"omsagent": {"enabled": False}}, None, False),
    ({}, {"containerInsights": {"enabled": True}}, True),
    ({"azurepolicy": {"enabled": True}}, None, False),
])
def test_the_monitoring_add_on_is_recognised_in_every_spelling(addons, monitor, on):
    assert monitoring_enabled(cluster(addons, monitor=monitor)) is on


def test_trusted_ca_with_the_add_on_warns_in_validate_and_in_audit(certs):
    config = {**PROXY, "trustedCa": trusted_ca(certs.proxy_ca())}
    on = cluster({"omsagent": {"enabled": True}}, config=config)
    assert "monitoring-trusted-ca" in [f.code for f in cluster_findings(on, config)]
    assert "monitoring-trusted-ca" in [f.code for f in audit_rules.cluster_findings(on, now=NOW)]
    off = cluster({"omsagent": {"enabled": False}}, config=config)
    assert "monitoring-trusted-ca" not in [f.code for f in cluster_findings(off, config)]


def test_a_private_cluster_with_the_add_on_behind_a_proxy_warns_and_no_proxy_no_warning():
    private = cluster({"omsagent": {"enabled": True}}, private=True)
    [finding] = addon_findings(private, PROXY)
    assert finding.code == "monitoring-private-https-proxy" and not finding.is_error
    assert addon_findings(private, None) == [] and addon_findings(private, {**PROXY, "enabled": False}) == []
