"""The table of finding codes in docs/rules.md is the catalogue: every code, its severity, scope, summary and source."""
from __future__ import annotations

from azext_aksproxy.config import CATALOGUE
from tests import readme_catalogue


def test_the_readme_table_is_the_catalogue():
    text = readme_catalogue.PAGE.read_text(encoding="utf-8")
    assert readme_catalogue.replaced(text) == text, "run: python -m tests.readme_catalogue"


def test_every_code_has_one_row_with_its_source():
    table = readme_catalogue.PAGE.read_text(encoding="utf-8").split(readme_catalogue.START)[1]
    for code, rule in CATALOGUE.items():
        rows = [line for line in table.splitlines() if line.startswith(f"| `{code}` |")]
        assert len(rows) == 1, code
        assert f"| {rule.severity} | {rule.scope} |" in rows[0] and rule.source in rows[0]


def test_cluster_rules_are_catalogued():
    cluster = {code for code, rule in CATALOGUE.items() if rule.scope == "cluster"}
    assert {"pool-windows", "pool-availability-set", "update-removes-trusted-ca", "update-removes-no-proxy",
            "proxy-stays-disabled", "update-disables-proxy"} <= cluster


def test_cluster_rules_mask_and_shorten_values_like_the_file_rules():
    from azext_aksproxy.cluster.cluster_rules import update_findings

    cluster = {"properties": {"httpProxyConfig": {
        "httpProxy": "http://proxy:3128/", "noProxy": [f"host-{i}.corp.contoso.com" for i in range(20)]}}}
    finding, = update_findings(cluster, {"httpProxy": "http://proxy:3128/"})
    assert finding.code == "update-removes-no-proxy" and finding.to_dict()["source"]
    assert finding.value is not None and len(finding.value) == 80 and finding.value.endswith("...")
