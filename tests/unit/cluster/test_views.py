"""The show and diff documents and their -o table views, from raw ARM JSON."""
import base64
import hashlib

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from azext_aksproxy._format import (
    http_proxy_diff_table_format,
    http_proxy_show_table_format,
)
from azext_aksproxy.cluster.cluster_rules import enabled_findings
from azext_aksproxy.cluster.diff import NO_PROXY_VARS_ANNOTATION, diff_document
from azext_aksproxy.cluster.view import show_document

FQDN = "c1-dns-1a2b3c4d.hcp.westus2.azmk8s.io"
AKS_ADDED = ["konnectivity", FQDN, "10.244.0.0/16", "10.0.0.0/16", "168.63.129.16", "169.254.169.254"]


def ca_pem(name: str) -> bytes:
    return trustme.CA(organization_name=name).cert_pem.bytes()


def b64(*pems: bytes) -> str:
    return base64.b64encode(b"".join(pems)).decode()


def fingerprint(pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    return hashlib.sha256(der).hexdigest().upper()


def cluster(proxy=None, pools=None):
    props = {"fqdn": FQDN, "networkProfile": {"podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16"},
             "agentPoolProfiles": pools if pools is not None else [
                 {"name": "nodepool1", "mode": "System", "osType": "Linux", "provisioningState": "Succeeded",
                  "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202601.01.0"}]}
    if proxy is not None:
        props["httpProxyConfig"] = proxy
    return {"name": "c1", "properties": props}


LATEST = {"nodepool1": "AKSUbuntu-2204gen2containerd-202601.01.0"}


# ---- show -----------------------------------------------------------------------------------------------------


def test_show_reads_effective_no_proxy_and_decodes_the_ca_without_the_blob():
    pem = ca_pem("Contoso Proxy CA")
    proxy = {"httpProxy": "http://proxy.contoso.com:3128/", "noProxy": [".corp.example"],
             "effectiveNoProxy": [".corp.example", *AKS_ADDED], "trustedCa": b64(pem)}
    doc = show_document(cluster(proxy), "rg1", LATEST)
    assert (doc["configured"], doc["enabled"]) == (True, True)  # "enabled" omitted: the API default
    assert doc["effectiveNoProxy"] == [".corp.example", *AKS_ADDED]
    (cert,) = doc["trustedCa"]["certificates"]
    assert "Contoso Proxy CA" in cert["subject"] and cert["daysLeft"] > 300
    assert cert["sha256Fingerprint"].replace(":", "") == fingerprint(pem)
    assert "base64" not in doc["trustedCa"] and b64(pem) not in str(doc)
    assert show_document(cluster(proxy), "rg1", LATEST, include_ca_blob=True)["trustedCa"]["base64"] == b64(pem)


def test_show_masks_credentials_a_cluster_may_hold():
    proxy = {"httpProxy": "http://user:s3cret@proxy:3128/", "httpsProxy": "http://u:p%40ss@proxy:3129/"}
    doc = show_document(cluster(proxy), "rg1", LATEST)
    assert "s3cret" not in str(doc) and "p%40ss" not in str(doc)
    assert doc["httpProxy"] == "http://***@proxy:3128/"


@pytest.mark.parametrize("image, latest, state, current, pending", [
    ("v1", "v1", "Succeeded", True, False),
    ("v1", "v2", "Succeeded", False, True),
    ("v1", "v2", "UpgradingNodeImageVersion", False, False),  # already on its way: not pending
    ("v1", None, "Succeeded", None, None),  # upgrade profile unreadable: unknown, not guessed
])
def test_pool_node_image_state(image, latest, state, current, pending):
    pools = [{"name": "np1", "provisioningState": state, "nodeImageVersion": image}]
    doc = show_document(cluster({"httpProxy": "http://p:3128/"}, pools), "rg1", {"np1": latest})
    (pool,) = doc["nodePools"]
    assert (pool["nodeImageCurrent"], pool["pendingNodeImageUpgrade"]) == (current, pending)
    assert bool(doc["nextSteps"]) is bool(pending)
    if pending:
        assert "az aks http-proxy upgrade-nodes -g rg1 -n c1" in doc["nextSteps"][0]


def test_show_answers_per_pool_whether_its_nodes_run_the_config_apart_from_the_image():
    from azext_aksproxy.cluster.pools import NodeModel
    from azext_aksproxy.nodes.plan import plan_upgrade

    pools = [{"name": "cur", "nodeImageVersion": "v2", "provisioningState": "Succeeded"},
             {"name": "behind", "nodeImageVersion": "v2", "provisioningState": "Succeeded"},
             {"name": "old", "nodeImageVersion": "v1", "provisioningState": "Succeeded"},
             {"name": "off", "nodeImageVersion": "v1", "powerState": {"code": "Stopped"}}]
    models = {"cur": NodeModel(3, 3), "behind": NodeModel(2, 1), "old": NodeModel(1, 1)}
    latest = dict.fromkeys(("cur", "behind", "old", "off"), "v2")
    doc = show_document(cluster({"httpProxy": "http://p:3128/"}, pools), "rg1", latest, node_models=models)
    rows = {p["name"]: p for p in doc["nodePools"]}
    assert {n: (r["runsCurrentProxyConfig"], r["nodeImageCurrent"], r["pendingNodeImageUpgrade"])
            for n, r in rows.items()} == {"cur": ("yes", True, False), "behind": ("no", True, True),
                                          "old": ("yes", False, True), "off": ("unknown", False, False)}
    assert rows["behind"]["proxyConfigDetail"] == "1 of 2 nodes still run an older model"
    assert "nodepool start" in rows["off"]["nextStep"]
    assert doc["nextSteps"][0].startswith("Nodes of behind do not run the current proxy config yet")
    assert doc["nextSteps"][1].startswith("A newer node image exists for old (upgrading recreates")
    # the same rule as upgrade-nodes: what show calls pending is what it would start
    states = {n: r["runsCurrentProxyConfig"] for n, r in rows.items()}
    plan = plan_upgrade(pools, latest, proxy_states=states)
    assert {s.pool for s in plan.having("start")} == {n for n, r in rows.items() if r["pendingNodeImageUpgrade"]}


def test_show_without_proxy_config_and_with_a_disabled_one():
    doc = show_document(cluster(), "rg1", LATEST)
    assert (doc["configured"], doc["enabled"], doc["trustedCa"], doc["noProxy"]) == (False, False, None, [])
    doc = show_document(cluster({"httpProxy": "http://p:3128/", "enabled": False}), "rg1", LATEST)
    assert (doc["configured"], doc["enabled"]) == (True, False)


def test_show_reports_an_undecodable_ca_instead_of_failing():
    doc = show_document(cluster({"httpProxy": "http://p:3128/", "trustedCa": "bm90IGEgY2VydA=="}), "rg1", LATEST)
    assert doc["trustedCa"]["certificates"] == [] and doc["trustedCa"]["error"]


def test_show_table_has_one_row_per_setting_certificate_and_pool():
    proxy = {"httpProxy": "http://p:3128/", "noProxy": ["a", "b"], "trustedCa": b64(ca_pem("One"), ca_pem("Two"))}
    rows = http_proxy_show_table_format(show_document(cluster(proxy), "rg1", {"nodepool1": "newer"}))
    table = {r["Setting"]: r["Value"] for r in rows}
    assert table["Enabled"] == "true" and table["NoProxy"] == "a, b"
    assert "One" in table["TrustedCa[1]"] and "Two" in table["TrustedCa[2]"]
    assert "newer node image, upgrade pending" in table["NodePool nodepool1"]
    assert "upgrade-nodes" in table["NextStep"]


# ---- diff -----------------------------------------------------------------------------------------------------


def rows_by_field(doc):
    return {r["field"]: r for r in doc["changes"]}


def test_diff_announces_a_removed_trusted_ca_as_certificates_and_the_node_rollout():
    pem = ca_pem("Old CA")
    current = {"httpProxy": "http://p:3128/", "trustedCa": b64(pem)}
    doc = diff_document(cluster(current), {"httpProxy": "http://p:3128/"}, resource_group="rg1", name="c1",
                        config_path="my proxy.json")
    row = rows_by_field(doc)["trustedCa"]
    assert row["action"] == "remove" and row["after"] is None
    assert row["before"][0]["sha256Fingerprint"].replace(":", "") == fingerprint(pem)
    assert b64(pem) not in str(doc)  # certificates, never the blob
    assert [r["field"] for r in doc["removed"]] == ["trustedCa"] and "Old CA" in doc["removed"][0]["value"]
    assert doc["changed"] and doc["rollout"]["nodes"]["required"] and not doc["rollout"]["pods"]["required"]
    assert doc["rollout"]["nodes"]["pools"] == ["nodepool1"]
    assert "az aks update -g rg1 -n c1 --http-proxy-config 'my proxy.json' --upgrade-node-image" in \
        doc["rollout"]["nodes"]["commands"]
    reimage = doc["rollout"]["nodes"]["reimage"]
    assert reimage["required"] and [p["name"] for p in reimage["pools"]] == ["nodepool1"]
    assert reimage["summary"].startswith("AKS reimages every node pool as part of the update: nodepool1 (")
    assert doc["rollout"]["apply"] == "az aks update -g rg1 -n c1 --http-proxy-config 'my proxy.json'"


def test_diff_ignores_entries_aks_added_and_lists_user_removals():
    current = {"httpProxy": "http://p:3128/", "noProxy": ["localhost", "127.0.0.1", ".corp.example", "db.internal",
                                                          *AKS_ADDED]}
    new = {"httpProxy": "http://p:3128/", "noProxy": ["localhost", "127.0.0.1", ".corp.example", "new.internal"]}
    doc = diff_document(cluster(current), new, resource_group="rg1", name="c1", config_path="f.json")
    row = rows_by_field(doc)["noProxy"]
    assert row["before"] == ["localhost", "127.0.0.1", ".corp.example", "db.internal"]
    assert row["after"] == new["noProxy"]
    assert "adds new.internal" in row["note"] and "removes db.internal" in row["note"]
    assert doc["removed"] == [{"field": "noProxy", "value": "db.internal"}]
    assert doc["rollout"]["pods"]["required"] and doc["rollout"]["pods"]["fields"] == ["noProxy"]
    assert NO_PROXY_VARS_ANNOTATION in doc["rollout"]["pods"]["why"]
    assert any("kubectl rollout restart" in c for c in doc["rollout"]["pods"]["commands"])


def test_diff_of_the_same_config_changes_nothing_and_rolls_nothing():
    current = {"httpProxy": "http://p:3128/", "noProxy": ["localhost", *AKS_ADDED]}
    doc = diff_document(cluster(current), {"httpProxy": "http://p:3128/", "noProxy": ["localhost"]},
                        resource_group="rg1", name="c1", config_path="f.json")
    assert not doc["changed"] and doc["removed"] == []
    assert {r["action"] for r in doc["changes"]} == {"keep"}
    assert doc["rollout"]["nodes"].pop("reimage")["required"] is False
    for part in ("pods", "nodes"):
        assert doc["rollout"][part] | {"why": ""} == {"required": False, "fields": [], "commands": [], "why": ""} \
            | ({"pools": []} if part == "nodes" else {})


def test_diff_of_a_ca_rotation_names_the_added_and_removed_certificates():
    old, keep, new = ca_pem("Old CA"), ca_pem("Kept CA"), ca_pem("New CA")
    doc = diff_document(cluster({"httpProxy": "http://p:3128/", "trustedCa": b64(old, keep)}),
                        {"httpProxy": "http://p:3128/", "trustedCa": b64(keep, new)},
                        resource_group="rg1", name="c1", config_path="f.json")
    row = rows_by_field(doc)["trustedCa"]
    assert row["action"] == "change" and row["rollout"] == ["nodes"]
    added, removed = row["note"].split(", removes ")
    assert "O=New CA" in added and "O=Old CA" in removed and "Kept" not in row["note"]
    assert [r["value"].split(" (")[0] for r in doc["removed"]] == [row["before"][0]["subject"]]


def test_diff_masks_credentials_on_the_cluster_and_keeps_a_disabled_proxy_disabled():
    current = {"httpProxy": "http://user:s3cret@old:3128/", "enabled": False}
    doc = diff_document(cluster(current), {"httpProxy": "http://new:3128/"}, resource_group="rg1", name="c1",
                        config_path="f.json")
    rows = rows_by_field(doc)
    assert "s3cret" not in str(doc) and rows["httpProxy"]["before"] == "http://***@old:3128/"
    assert (rows["enabled"]["before"], rows["enabled"]["after"], rows["enabled"]["action"]) == (False, False, "keep")
    assert rows["httpProxy"]["rollout"] == ["pods", "nodes"]


def test_diff_table_lists_fields_then_the_commands():
    current = {"httpProxy": "http://a:3128/", "trustedCa": b64(ca_pem("Old CA"))}
    doc = diff_document(cluster(current), {"httpProxy": "http://b:3128/"}, resource_group="rg1", name="c1",
                        config_path="f.json")
    rows = http_proxy_diff_table_format(doc)
    assert [r["Field"] for r in rows] == ["httpProxy", "httpsProxy", "trustedCa", "noProxy", "enabled", "apply",
                                          "rollout: pods", "rollout: nodes", "reimage"]
    assert "Old CA" in rows[2]["Before"] and rows[2]["After"] == ""
    assert "kubectl rollout restart" in rows[6]["After"] and "--upgrade-node-image" in rows[7]["After"]
    assert rows[8]["Action"] == "all pools" and "nodepool1" in rows[8]["After"]


# ---- enabled state (validate -g -n and diff) ------------------------------------------------------------------


@pytest.mark.parametrize("current, new, codes", [
    ({"httpProxy": "http://p:3128/", "enabled": False}, {"httpProxy": "http://p:3128/"}, ["proxy-stays-disabled"]),
    ({"httpProxy": "http://p:3128/", "enabled": False}, {"httpProxy": "http://p:3128/", "enabled": True}, []),
    ({"httpProxy": "http://p:3128/"}, {"httpProxy": "http://p:3128/", "enabled": False}, ["update-disables-proxy"]),
    ({"httpProxy": "http://p:3128/", "enabled": True}, {"httpProxy": "http://p:3128/"}, []),
    (None, {"httpProxy": "http://p:3128/", "enabled": False}, []),  # nothing to disable
])
def test_enabled_state_notices(current, new, codes):
    findings = enabled_findings(cluster(current), new)
    assert [f.code for f in findings] == codes
    assert all(not f.is_error and f.path == "$.enabled" and f.fix for f in findings)


def test_diff_says_when_the_node_disruption_policy_would_refuse_the_reimage():
    import datetime

    from azext_aksproxy.cluster.pools import disruption_gate

    current = cluster({"httpProxy": "http://a:3128/"}, [{"name": "np1", "count": 2}])
    current["properties"]["nodeDisruptionProfile"] = {"nodeDisruptionPolicy": "Block"}
    gate = disruption_gate(current, None, datetime.datetime.now(datetime.UTC))
    doc = diff_document(current, {"httpProxy": "http://b:3128/"}, resource_group="rg1", name="c1",
                        config_path="f.json", gate=gate)
    reimage = doc["rollout"]["nodes"]["reimage"]
    assert reimage["nodeDisruption"] == {"nodeDisruptionPolicy": "Block", "allowed": False, "reason": gate.reason}
    assert reimage["summary"].startswith("AKS would refuse the update (OperationBlockedByNodeDisruptionPolicy)")
    row = http_proxy_diff_table_format(doc)[-1]
    assert (row["Field"], row["Action"]) == ("reimage", "refused") and "Block" in row["Note"]
