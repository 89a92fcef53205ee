"""az aks http-proxy validate --template / --terraform-plan and generate --format through the real az and the
wheel: exit codes, -o json and -o table rows, bad input as one error, and generate's output read back by validate.
The monitoring add-on warning where the cluster is known (validate -g -n, audit) against the emulator. Nothing is
written to Azure (the emulator's journal)."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import trustme

from azext_aksproxy.iac.template import load_json_text
from tests.documents import write_file
from tests.iac_samples import plans as P

SAMPLES = Path(__file__).resolve().parent.parent / "iac_samples"
PROXY = "http://proxy.contoso.com:3128/"


def ca_b64() -> str:
    return base64.b64encode(trustme.CA(organization_name="Contoso").cert_pem.bytes()).decode()


def test_template_findings_exit_1_on_errors_and_rows_name_the_resource_and_path(az_ext, emu, tmp_path):
    path = str(shutil.copy(SAMPLES / "docs_arm.json", tmp_path / "azuredeploy.json"))
    r = az_ext.az("aks", "http-proxy", "validate", "--template", path)
    assert r.rc == 1, r
    rows = {(f["code"], f["resource"], f["path"]) for f in r.json}
    assert ("noproxy-wildcard", "aks-proxy", "resources[0].properties.httpProxyConfig.noProxy[5]") in rows
    assert ("enabled-string", "aks-proxy", "resources[0].properties.httpProxyConfig.enabled") in rows
    assert "1 managed cluster(s) checked: aks-proxy (resources[0])" in r.stderr
    table = az_ext.az("aks", "http-proxy", "validate", "--template", path, "-o", "table")
    assert table.rc == 1 and "Resource" in table.stdout and "noproxy-wildcard" in table.stdout
    never = az_ext.az("aks", "http-proxy", "validate", "--template", path, "--fail-on", "never")
    assert never.rc == 0 and never.json == r.json
    assert emu.writes() == []


def test_template_parameters_from_file_json_and_pairs_make_it_pass(az_ext, tmp_path):
    doc = load_json_text((SAMPLES / "docs_arm.json").read_text(), "docs_arm.json")  # it has the docs' trailing comma
    doc["variables"]["noProxy"] = ["localhost", ".svc", ".cluster.local"]
    doc["resources"][0]["properties"]["httpProxyConfig"]["enabled"] = True
    template = write_file(tmp_path, "main.json", doc)
    params = write_file(tmp_path, "main.parameters.json", {"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {
        "proxyHost": {"value": "proxy.fabrikam.com"}}})
    secret = ca_b64()
    r = az_ext.az("aks", "http-proxy", "validate", "--template", template, "--parameters", params,
                  "--parameters", f"trustedCa={secret}")
    assert r.rc == 0 and r.json == [], r
    r = az_ext.az("aks", "http-proxy", "validate", "--template", template, "--parameters", f"@{params}")
    assert r.rc == 1 and [f["code"] for f in r.json] == ["ca-empty"], r  # @FILE: az expands it to JSON text
    typo = az_ext.az("aks", "http-proxy", "validate", "--template", template, "--parameters", "proxyhots=x")
    assert typo.rc == 1 and "no parameter proxyhots" in typo.stderr and not typo.stdout.strip()


def test_template_an_unevaluable_expression_is_a_not_checked_warning(az_ext, tmp_path):
    path = str(shutil.copy(SAMPLES / "nested.json", tmp_path / "nested.json"))
    r = az_ext.az("aks", "http-proxy", "validate", "--template", path, "--fail-on", "never")
    assert r.rc == 0, r
    [row] = [f for f in r.json if f["code"] == "not-evaluated"]
    assert row["severity"] == "warning" and row["path"].endswith("httpProxyConfig.noProxy[2]")
    assert "reference()" in row["message"]


def test_bicep_without_the_bicep_cli_says_how_and_downloads_nothing(az_ext, tmp_path):
    path = write_file(tmp_path, "main.bicep", "param proxy string\n")
    r = az_ext.az("aks", "http-proxy", "validate", "--template", path,
                  env={"PATH": "/usr/bin:/bin", "AZURE_BICEP_USE_BINARY_FROM_PATH": "false"})
    assert r.rc == 1, r
    assert "az bicep install" in r.stderr and "az bicep build --file" in r.stderr


def test_plan_update_announces_the_reimage_and_fail_on_warning_stops_the_pipeline(az_ext, emu, tmp_path):
    changed = write_file(tmp_path, "plan.json", P.dumps(P.update(P.USER_NO_PROXY + P.AKS_ENTRIES,
                                                            [*P.USER_NO_PROXY, "new.contoso.com"])))
    r = az_ext.az("aks", "http-proxy", "validate", "--terraform-plan", changed)
    assert r.rc == 0, r  # a reimage is a warning: the default --fail-on error lets it pass
    [row] = r.json
    assert (row["code"], row["resource"], row["address"]) == ("plan-reimages", "aks1",
                                                               "azurerm_kubernetes_cluster.main")
    assert "system (3 nodes" in row["message"]
    stop = az_ext.az("aks", "http-proxy", "validate", "--terraform-plan", changed, "--fail-on", "warning",
                     "-o", "table")
    assert stop.rc == 1 and "plan-reimages" in stop.stdout and "--fail-on warning" in stop.stderr
    assert emu.writes() == []


def test_plan_only_aks_entries_differ_is_said_in_those_words(az_ext, tmp_path):
    drift = write_file(tmp_path, "plan.json", P.dumps(P.update(P.USER_NO_PROXY + P.AKS_ENTRIES, P.USER_NO_PROXY)))
    r = az_ext.az("aks", "http-proxy", "validate", "--terraform-plan", drift)
    assert r.rc == 0 and [f["code"] for f in r.json] == ["plan-aks-no-proxy-only"], r
    assert "entries AKS adds itself" in r.json[0]["message"] and "ignore_changes" in r.json[0]["fix"]


def test_plan_errors_exit_1_and_bad_plans_are_one_clear_error(az_ext, tmp_path):
    bad = write_file(tmp_path, "plan.json", P.dumps(P.create(http_proxy="https://proxy.contoso.com:3128/")))
    r = az_ext.az("aks", "http-proxy", "validate", "--terraform-plan", bad)
    assert r.rc == 1 and "url-scheme" in [f["code"] for f in r.json], r
    for name, text, words in (("v2.json", P.dumps(P.plan(format_version="2.0")), "format_version 2.0"),
                              ("junk.json", "not json", "not valid JSON")):
        r = az_ext.az("aks", "http-proxy", "validate", "--terraform-plan", write_file(tmp_path, name, text))
        assert r.rc == 1 and words in r.stderr and not r.stdout.strip(), r


def test_generate_formats_and_validate_reads_the_arm_template_back(az_ext, tmp_path):
    base = ("aks", "http-proxy", "generate", "--http-proxy", PROXY, "--no-proxy", "localhost", ".contoso.com")
    arm = az_ext.az(*base, "--format", "arm", "--output-file", str(tmp_path / "t.json"))
    assert arm.rc == 0, arm
    back = az_ext.az("aks", "http-proxy", "validate", "--template", str(tmp_path / "t.json"),
                     "--parameters", "clusterName=c1", "--fail-on", "warning")
    assert back.rc == 0 and back.json == [], back
    config = az_ext.az(*base, "--format", "json", "--output-file", str(tmp_path / "p.json"))
    assert config.rc == 0
    assert az_ext.az("aks", "http-proxy", "validate", "--config", str(tmp_path / "p.json"), "--strict").rc == 0
    terraform = az_ext.az(*base, "--enabled", "true", "--format", "terraform")
    assert terraform.rc == 0 and terraform.stdout.startswith("# in your azurerm_kubernetes_cluster")
    assert f'http_proxy = "{PROXY}"' in terraform.stdout and "no enabled attribute" in terraform.stderr
    bicep = az_ext.az(*base, "--format", "bicep")
    assert bicep.rc == 0 and f"httpProxy: '{PROXY}'" in bicep.stdout


def test_monitoring_add_on_with_trusted_ca_warns_in_validate_with_the_cluster_and_in_audit(az_ext, emu, tmp_path):
    ca = ca_b64()
    config = {"httpProxy": PROXY, "noProxy": [".svc", ".cluster.local"], "trustedCa": ca}
    emu.seed_cluster("rg1", "c1", http_proxy_config=config,
                     properties={"addonProfiles": {"omsagent": {"enabled": True, "config": {}}}})
    path = write_file(tmp_path, "p.json", config)
    r = az_ext.az("aks", "http-proxy", "validate", "--config", path, "-g", "rg1", "-n", "c1")
    assert r.rc == 0 and "monitoring-trusted-ca" in [f["code"] for f in r.json], r
    audit = az_ext.az("aks", "http-proxy", "audit")
    assert "monitoring-trusted-ca" in [row["code"] for row in audit.json], audit
    diff = az_ext.az("aks", "http-proxy", "diff", "-g", "rg1", "-n", "c1", "--config", path)
    assert diff.rc == 0 and "custom metrics and recommended alerts" in diff.stderr, diff
    assert emu.writes() == []


def test_update_with_a_trusted_ca_on_a_monitored_cluster_warns(az_ext, emu, tmp_path):
    emu.seed_cluster("rg1", "c1", http_proxy_config={"httpProxy": PROXY, "noProxy": [".svc", ".cluster.local"]},
                     properties={"addonProfiles": {"omsagent": {"enabled": True, "config": {}}}})
    config = {"httpProxy": PROXY, "noProxy": [".svc", ".cluster.local"], "trustedCa": ca_b64()}
    r = az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config",
                  write_file(tmp_path, "p.json", config), "-o", "none")
    assert r.rc == 0, r
    assert "custom metrics and recommended alerts are not supported" in r.stderr
