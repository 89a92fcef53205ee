"""One run reports every problem in the file, in file order, and yields the canonical config only when clean."""
from __future__ import annotations

import json

from azext_aksproxy.config import CATALOGUE, CODES, ERROR, WARNING, check_bytes

from ..certs import trusted_ca
from ..conftest import NOW
from ..expect import check, codes

URL = "http://proxy.contoso.com:3128/"


def test_a_bad_url_a_bad_entry_and_an_expired_ca_are_three_errors(certs):
    result = check({"httpProxy": "https://proxy:3128/", "noProxy": ["localhost", "*.corp.com"],
                    "trustedCa": trusted_ca(certs.expired())})
    assert [(f.severity, f.code, f.path) for f in result.findings] == [
        (ERROR, "url-scheme", "$.httpProxy"),
        (ERROR, "noproxy-wildcard", "$.noProxy[1]"),
        (ERROR, "ca-expired", "$.trustedCa"),
    ]
    assert result.config is None and not result.ok


def test_a_file_with_a_bit_of_everything_gets_every_finding(certs):
    doc = {
        "trustedCA": trusted_ca(certs.cn_only(), certs.expired()),
        "httpProxy": "http://alice:pw@proxy:3128",
        "no_proxy": ["a"],
        "noProxy": ["a.com", "A.com", "10.0.0.1/8", "10.0.0.0/8", "[::1]"],
        "httpsProxy": "socks5://proxy:1080/",
        "enabled": "true",
        "effectiveNoProxy": [],
    }
    result = check(doc)
    assert [(f.code, f.path) for f in result.findings] == [
        ("key-case", "$.trustedCA"),
        ("ca-no-san", "$.trustedCA"),  # certificate 1
        ("ca-expired", "$.trustedCA"),  # certificate 2
        ("url-credentials", "$.httpProxy"),
        ("url-trailing-slash", "$.httpProxy"),
        ("unknown-key", "$.no_proxy"),
        ("noproxy-duplicate", "$.noProxy[1]"),
        ("noproxy-bad-cidr", "$.noProxy[2]"),
        ("noproxy-brackets", "$.noProxy[4]"),
        ("noproxy-cidr", "$.noProxy"),
        ("url-scheme", "$.httpsProxy"),
        ("type", "$.enabled"),
        ("read-only-key", "$.effectiveNoProxy"),
    ]


def test_every_finding_uses_a_catalogued_code_and_its_severity(certs):
    result = check({"HTTPProxy": "https://u:p@proxy", "noProxy": ["*", "a", "A", "10.0.0.0/8", ""],
                    "trustedCa": trusted_ca(certs.leaf(), certs.not_yet_valid()), "x": 1})
    assert result.findings
    for finding in result.findings:
        assert finding.code in CODES
        assert finding.severity == CODES[finding.code][0]


def test_the_catalogue_holds_errors_and_warnings_and_infos_only_for_checked_targets():
    assert {rule.severity for rule in CATALOGUE.values() if rule.scope != "check"} == {ERROR, WARNING}
    assert {severity for severity, _ in CODES.values()} == {ERROR, WARNING, "info"}
    assert all(summary for _, summary in CODES.values())


# --- the canonical config --------------------------------------------------------------------------------------


def test_the_config_holds_only_the_keys_given_in_file_order():
    result = check({"noProxy": ["b", "a"], "httpProxy": URL})
    assert result.config == {"noProxy": ["b", "a"], "httpProxy": URL}
    assert list(result.config) == ["noProxy", "httpProxy"]


def test_the_config_keeps_values_verbatim_apart_from_noproxy_repeats(certs):
    value = trusted_ca(certs.proxy_ca())
    doc = {"HttpProxy": "HTTP://Proxy:3128", "noProxy": ["X.com", "x.COM", ".svc"], "trustedCa": value,
           "enabled": False}
    result = check(doc)
    assert result.ok
    assert result.config == {"httpProxy": "HTTP://Proxy:3128", "noProxy": ["X.com", ".svc"], "trustedCa": value,
                             "enabled": False}


def test_warnings_alone_leave_the_config():
    result = check({"httpProxy": "http://proxy"})
    assert result.ok and result.warnings and result.config == {"httpProxy": "http://proxy"}


def test_an_error_withholds_the_config():
    assert check({"httpProxy": URL, "enabled": "true"}).config is None


def test_findings_serialise_to_plain_dicts():
    result = check({"httpProxy": "https://proxy:3128/"})
    as_json = json.loads(json.dumps([f.to_dict() for f in result.findings]))
    assert as_json[0] == {"severity": "error", "code": "url-scheme", "path": "$.httpProxy",
                          "value": "https://proxy:3128/", "message": result.findings[0].message,
                          "fix": result.findings[0].fix, "source": CATALOGUE["url-scheme"].source}


def test_long_values_are_shortened_with_an_ellipsis():
    long_host = "a" * 200
    result = check_bytes(json.dumps({"httpProxy": f"https://{long_host}.example:3128/"}).encode(), now=NOW)
    value = result.findings[0].value
    assert value is not None and len(value) == 80 and value.endswith("...")


def test_a_wrapper_and_a_top_level_key_are_both_checked():
    result = check({"httpProxyConfig": {"httpProxy": "https://a/"}, "noProxy": ["*"]})
    assert codes(result) == ["wrapper-object", "url-scheme", "url-default-port", "noproxy-wildcard"]
