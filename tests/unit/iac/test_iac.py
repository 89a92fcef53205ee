"""Templates and plans (azext_aksproxy/iac): ARM templates as the AKS docs, quickstarts and the Bicep compiler write
them, and Terraform plan JSON in its documented shape, through the same rules as a config file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from azext_aksproxy.config.findings import CATALOGUE
from azext_aksproxy.iac import IacError, check_plan, check_template, fails
from azext_aksproxy.iac.expressions import NotEvaluated, Scope, evaluate
from azext_aksproxy.iac.render import arm_template, bicep_object, terraform_block
from tests.iac_samples import plans as P

from ..certs import trusted_ca
from ..conftest import NOW

SAMPLES = Path(__file__).resolve().parent.parent.parent / "iac_samples"


def template(name: str, *params: str):
    return check_template((SAMPLES / name).read_text(encoding="utf-8"), name, list(params), now=NOW)


def codes(result) -> list[tuple[str, str]]:
    return [(r["code"], r["path"]) for r in result.rows]


# ---- expressions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("[concat('http://', parameters('host'), ':3128/')]", "http://proxy.contoso.com:3128/"),
    ("[format('http://{0}:{1}/', parameters('host'), 3128)]", "http://proxy.contoso.com:3128/"),
    ("[toLower('HTTP://A')]", "http://a"),
    ("[variables('cfg').noProxy[1]]", ".svc"),
    ("[variables('cfg')['httpProxy']]", "http://p:1/"),
    ("[if(bool('true'), 'a', 'b')]", "a"),
    ("[string(true())]", "True"),
    ("[union(createArray('a', 'b'), createArray('b', 'c'))]", ["a", "b", "c"]),
    ("[split('a,b', ',')]", ["a", "b"]),
    ("[concat('it''s')]", "it's"),
    ("[format('{{0}} {0}', 'x')]", "{0} x"),
])
def test_expressions_aksproxy_evaluates_exactly(text, expected):
    scope = Scope({"host": "proxy.contoso.com"}, {"cfg": {"httpProxy": "http://p:1/", "noProxy": ["a", ".svc"]}})
    assert evaluate(text, scope) == expected


@pytest.mark.parametrize("text", ["[resourceGroup().location]", "[reference('vnet').id]",
                                  "[uniqueString(resourceGroup().id)]", "[parameters('nope')]", "[concat('a'"])
def test_an_expression_that_needs_the_deployment_is_not_evaluated(text):
    with pytest.raises(NotEvaluated):
        evaluate(text, Scope({}, {}))


# ---- ARM templates -------------------------------------------------------------------------------------------


def test_the_docs_arm_sample_enabled_string_and_trailing_comma_wildcard_found_with_its_template_path():
    result = template("docs_arm.json")
    assert result.clusters == [("aks-proxy", "resources[0]")]
    found = codes(result)
    base = "resources[0].properties.httpProxyConfig"
    assert ("enabled-string", f"{base}.enabled") in found
    assert ("noproxy-wildcard", f"{base}.noProxy[5]") in found
    assert ("ca-empty", f"{base}.trustedCa") in found  # the securestring's empty default
    assert all(r["resource"] == "aks-proxy" for r in result.rows)
    assert fails(result.rows, "error") and not fails(result.rows, "never")


def test_parameters_file_json_and_name_value_resolve_in_order_and_secure_values_never_show(tmp_path, certs):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"$schema": "x", "contentVersion": "1.0.0.0",
                                  "parameters": {"proxyHost": {"value": "proxy.fabrikam.com"}}}))
    ca = trusted_ca(certs.proxy_ca())
    result = template("docs_arm.json", str(params), json.dumps({"trustedCa": {"value": ca}}))
    assert "ca-empty" not in [c for c, _ in codes(result)]
    secret = "-----BEGIN CERTIFICATE-----sekrit"
    result = template("docs_arm.json", f"trustedCa={secret}", "proxyHost=https://u:pw@h")
    text = json.dumps(result.rows)
    assert "sekrit" not in text and "pw@" not in text
    assert ("ca-not-base64", "resources[0].properties.httpProxyConfig.trustedCa") in codes(result)


def test_a_parameter_the_template_does_not_declare_is_refused_by_name():
    with pytest.raises(IacError, match="no parameter typo"):
        template("docs_arm.json", "typo=1")


def test_nested_deployment_child_pools_and_an_unevaluable_entry():
    result = template("nested.json")
    cluster_path = "resources[0].properties.template.resources[0]"
    assert result.clusters == [("aks-nested", cluster_path)]
    found = codes(result)
    assert ("not-evaluated", f"{cluster_path}.properties.httpProxyConfig.noProxy[2]") in found
    assert ("pool-windows", f"{cluster_path}.resources[0]") in found  # nested agentPools child
    assert ("pool-availability-set", "resources[1]") in found  # top-level "cluster/pool" child
    assert ("monitoring-trusted-ca", f"{cluster_path}.properties.httpProxyConfig.trustedCa") in found
    # the unknown entry might be .svc-like: the in-cluster advice is not given on a guess
    assert "noproxy-in-cluster" not in [c for c, _ in found]


def test_bicep_compiled_json_symbolic_resources_variables_object_and_monitoring_on_a_private_cluster(certs):
    ca = trusted_ca(certs.proxy_ca())
    result = template("bicep_emitted.json", "httpProxy=http://proxy.contoso.com:3128/", f"trustedCa={ca}")
    assert result.clusters == [("aks-bicep", "resources.aks")]
    assert [c for c, _ in codes(result)] == ["monitoring-trusted-ca", "monitoring-private-https-proxy"]
    assert ca not in json.dumps(result.rows)


def test_a_missing_required_parameter_is_not_checked_never_guessed():
    result = template("bicep_emitted.json")
    found = [(r["code"], r["path"]) for r in result.rows]
    assert found == [("not-evaluated", "resources.aks.properties.httpProxyConfig")]
    assert "--parameters" in result.rows[0]["message"] + result.rows[0]["fix"]


def test_condition_false_and_existing_resources_are_not_deployed_so_not_checked():
    doc = {"resources": [
        {"type": "Microsoft.ContainerService/managedClusters", "name": "off", "condition": "[equals('a', 'b')]",
         "properties": {"httpProxyConfig": {"httpProxy": "https://x"}}},
        {"type": "Microsoft.ContainerService/managedClusters", "name": "there", "existing": True},
    ]}
    assert check_template(json.dumps(doc), "t.json").clusters == []


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON"),
    ('{"parameters": {"a": {"value": 1}}}', "parameters file"),
    ('{"format_version": "1.2", "resource_changes": []}', "--terraform-plan"),
    ("[]", "not an ARM template"),
])
def test_bad_template_input_is_one_clear_error(text, message):
    with pytest.raises(IacError, match=message):
        check_template(text, "t.json")


# ---- Terraform plans -----------------------------------------------------------------------------------------


def plan_rows(doc):
    return check_plan(P.dumps(doc), "plan.json", now=NOW)


def test_plan_create_checks_the_after_config():
    result = plan_rows(P.create(http_proxy="https://proxy.contoso.com:3128/"))
    assert result.clusters == [("aks1", "azurerm_kubernetes_cluster.main")]
    assert ("url-scheme", "azurerm_kubernetes_cluster.main.http_proxy_config[0].http_proxy") in codes(result)


def test_plan_update_that_changes_the_proxy_announces_the_reimage_with_pools_and_nodes():
    result = plan_rows(P.update(P.USER_NO_PROXY + P.AKS_ENTRIES, [*P.USER_NO_PROXY, "new.contoso.com"]))
    [reimage] = [r for r in result.rows if r["code"] == "plan-reimages"]
    assert "noProxy" in reimage["message"] and "system (3 nodes" in reimage["message"]
    assert fails(result.rows, "warning") and not fails(result.rows, "error")


def test_plan_update_where_only_aks_entries_differ_says_so_with_the_way_out():
    result = plan_rows(P.update(P.USER_NO_PROXY + P.AKS_ENTRIES, P.USER_NO_PROXY))
    assert [r["code"] for r in result.rows] == ["plan-aks-no-proxy-only"]
    row = result.rows[0]
    assert "entries AKS adds" in row["message"] and "24188" in row["message"]
    assert "ignore_changes" in row["fix"] and "konnectivity" in row["message"]


def test_plan_update_that_adds_a_proxy_to_a_cluster_without_one_announces_the_reimage():
    before = P.cluster_values()
    before["http_proxy_config"] = []
    result = plan_rows(P.plan(P.change(["update"], before, P.cluster_values())))
    assert [r["code"] for r in result.rows] == ["plan-reimages"]


def test_plan_no_op_and_delete_announce_nothing():
    same = P.cluster_values(no_proxy=P.USER_NO_PROXY)
    assert plan_rows(P.plan(P.change(["no-op"], same, same))).rows == []
    deleted = plan_rows(P.plan(P.change(["delete"], same, None)))
    assert deleted.clusters == [] and deleted.rows == []


def test_plan_windows_node_pool_and_monitoring_add_on(certs):
    ca = trusted_ca(certs.proxy_ca())
    doc = P.plan(P.change(["create"], None, P.cluster_values(trusted_ca=ca, oms=True)), P.windows_pool())
    found = codes(plan_rows(doc))
    assert ("pool-windows", "azurerm_kubernetes_cluster_node_pool.win") in found
    assert ("monitoring-trusted-ca", "azurerm_kubernetes_cluster.main.http_proxy_config[0].trusted_ca") in found


def test_plan_values_known_after_apply_are_not_checked():
    after = P.cluster_values()
    after["http_proxy_config"][0]["no_proxy"] = None
    doc = P.plan(P.change(["create"], None, after, after_unknown={"http_proxy_config": [{"no_proxy": True}]}))
    found = codes(plan_rows(doc))
    assert ("not-evaluated", "azurerm_kubernetes_cluster.main.http_proxy_config[0].no_proxy") in found
    assert "noproxy-in-cluster" not in [c for c, _ in found]


def test_azapi_body_as_object_or_json_string():
    body = {"properties": {"httpProxyConfig": {"httpProxy": "http://proxy.contoso.com:3128", "noProxy": ["*.x"]}}}
    for value in (body, json.dumps(body)):
        doc = P.plan(P.change(["create"], None, {"type": "Microsoft.ContainerService/managedClusters@2025-05-01",
                                                 "name": "api1", "body": value},
                              address="azapi_resource.aks", kind="azapi_resource"))
        result = plan_rows(doc)
        assert result.clusters == [("api1", "azapi_resource.aks")]
        assert ("noproxy-wildcard", "azapi_resource.aks.body.properties.httpProxyConfig.noProxy[0]") in codes(result)


@pytest.mark.parametrize(("doc", "message"), [
    ("nope", "not valid JSON"),
    ('{"resources": []}', "ARM template"),
    ('{"format_version": "2.0", "resource_changes": []}', "format_version 2.0"),
    ('{"format_version": "1.0", "values": {}}', "state"),
])
def test_bad_plan_input_is_one_clear_error(doc, message):
    with pytest.raises(IacError, match=message):
        check_plan(doc, "plan.json")


# ---- generate --format ---------------------------------------------------------------------------------------


CONFIG = {"httpProxy": "http://proxy.contoso.com:3128/", "noProxy": [".svc", "${x}"], "enabled": True}


def test_the_arm_rendering_is_a_template_validate_reads_back_clean():
    text = json.dumps(arm_template({"httpProxy": "http://proxy.contoso.com:3128/",
                                    "noProxy": [".svc", ".cluster.local"]}, "2026-06-01"))
    result = check_template(text, "gen.json", ["clusterName=c1"])
    assert result.clusters == [("c1", "resources[0]")] and result.rows == []


def test_bicep_and_terraform_renderings_escape_interpolation_and_say_what_they_leave_out():
    bicep = bicep_object(CONFIG)
    assert "httpProxy: 'http://proxy.contoso.com:3128/'" in bicep and "'\\${x}'" in bicep and "enabled: true" in bicep
    block, notes = terraform_block(CONFIG)
    assert 'http_proxy = "http://proxy.contoso.com:3128/"' in block and '"$${x}"' in block
    assert "enabled" not in block and notes and "no enabled attribute" in notes[0]


def test_every_new_code_is_catalogued_with_a_source():
    for code in ("not-evaluated", "enabled-string", "plan-reimages", "plan-aks-no-proxy-only",
                 "monitoring-trusted-ca", "monitoring-private-https-proxy"):
        assert CATALOGUE[code].source
