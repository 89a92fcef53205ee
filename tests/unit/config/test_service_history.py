"""Rules where the service changed or is undocumented: warnings that tell the history, never refusals.

`my_host.contoso.com` (Windows/AD names), `svc.cluster.local.` (refused by AKS in March 2026, accepted since
2026-04-02) and a proxy URL without its trailing slash (refused for periods: Azure/AKS#4574, #5561).
"""
from __future__ import annotations

import pytest

from azext_aksproxy.config import CATALOGUE

from ..expect import assert_warned, check, codes

URL = "http://proxy.contoso.com:3128/"


@pytest.mark.parametrize("entry", ["my_host.contoso.com", ".my_zone.contoso.com", "_sip._tcp.contoso.com",
                                   "host_1"])
def test_an_underscore_noproxy_host_is_a_warning_with_the_history(entry):
    result = check({"httpProxy": URL, "noProxy": ["localhost", entry]})
    finding = assert_warned(result, "noproxy-underscore", "$.noProxy[1]", "2026-04-02")
    assert result.config["noProxy"] == ["localhost", entry]  # sent as written
    assert "RFC 1123" in finding.message and finding.value == entry


def test_an_underscore_host_fix_offers_the_parent_suffix():
    finding = assert_warned(check({"httpProxy": URL, "noProxy": ["my_host.contoso.com"]}),
                            "noproxy-underscore", "$.noProxy[0]", "noProxy")
    assert "`.contoso.com`" in finding.fix


@pytest.mark.parametrize("entry", ["my host.contoso.com", "my_host..contoso.com", "-my_host.contoso.com",
                                   "my_host:8080"])
def test_underscore_does_not_excuse_other_problems(entry):
    assert "noproxy-underscore" not in codes(check({"httpProxy": URL, "noProxy": [entry]}))
    assert not check({"httpProxy": URL, "noProxy": [entry]}).ok


@pytest.mark.parametrize("entry", ["svc.cluster.local.", ".svc.cluster.local.", "source-controller.flux-system.svc."])
def test_a_trailing_dot_is_a_warning_naming_the_flux_issue(entry):
    result = check({"httpProxy": URL, "noProxy": [entry]})
    finding = assert_warned(result, "noproxy-trailing-dot", "$.noProxy[0]", "kustomize-controller#1623")
    assert f"`{entry.rstrip('.')}`" in finding.fix
    assert result.config["noProxy"] == [entry]


def test_an_underscore_host_with_a_trailing_dot_gets_both_warnings():
    assert sorted(codes(check({"httpProxy": URL, "noProxy": ["my_host.contoso.com."]}))) == [
        "noproxy-trailing-dot", "noproxy-underscore"]


def test_a_repeated_trailing_dot_entry_is_still_deduplicated():
    result = check({"httpProxy": URL, "noProxy": ["a.example.", "A.example."]})
    assert result.config["noProxy"] == ["a.example."]
    assert "noproxy-duplicate" in codes(result)


def test_a_missing_trailing_slash_is_a_warning_with_both_issues():
    finding = assert_warned(check({"httpProxy": "http://proxy.contoso.com:3128"}), "url-trailing-slash",
                            "$.httpProxy", "#5561")
    assert "#4574" in finding.message and "`http://proxy.contoso.com:3128/`" in finding.fix


@pytest.mark.parametrize("field", ["httpProxy", "httpsProxy"])
def test_an_underscore_proxy_host_is_a_warning(field):
    result = check({field: "http://my_proxy.corp:3128/"})
    assert codes(result) == ["url-host-underscore"]
    assert result.config == {field: "http://my_proxy.corp:3128/"}


def test_an_underscore_does_not_hide_a_bad_port():
    assert sorted(codes(check({"httpProxy": "http://my_proxy:99999/"}))) == ["url-host-underscore", "url-port"]


def test_every_rule_names_a_source_and_downgraded_rules_are_warnings():
    assert all(rule.source.strip() and rule.summary.strip() for rule in CATALOGUE.values())
    for code in ("noproxy-underscore", "noproxy-trailing-dot", "url-trailing-slash", "url-host-underscore"):
        assert CATALOGUE[code].severity == "warning"
    # What certainly breaks nodes stays an error whatever the history.
    for code in ("url-credentials", "url-scheme", "ca-cert-invalid", "ca-not-pem", "ca-private-key"):
        assert CATALOGUE[code].severity == "error"


def test_a_finding_outside_the_catalogue_is_a_programming_error():
    from azext_aksproxy.config.findings import error_at, warning_at

    with pytest.raises(ValueError):
        error_at("$", "no-such-code", "m", "f")
    with pytest.raises(ValueError):
        warning_at("$", "url-scheme", "m", "f")  # catalogued as an error


def test_validate_json_carries_the_source():
    finding = check({"httpProxy": "http://proxy.contoso.com:3128"}).findings[0]
    assert finding.to_dict()["source"] == CATALOGUE["url-trailing-slash"].source
