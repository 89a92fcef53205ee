"""The keys of the config object: exactly the five REST keys, at the top level.

Stock az sends whatever keys the file has; AKS ignores the ones it does not know. So a misspelt key silently
drops a setting, and every key that is not a REST key must be caught here.
"""
from __future__ import annotations

import pytest

from azext_aksproxy.config import CANONICAL_KEYS
from azext_aksproxy.config.findings import child_path

from ..expect import (
    assert_bad,
    assert_warned,
    check,
    codes,
    document_check,
    the_finding,
)

URL = "http://proxy.contoso.com:3128/"


def test_the_rest_keys_are_these_five():
    assert CANONICAL_KEYS == ("httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled")


def test_all_five_keys_together_are_accepted_as_given():
    doc = {"httpProxy": URL, "httpsProxy": "https://proxy.contoso.com:3129/", "noProxy": ["localhost"],
           "enabled": False}
    result = check(doc)
    assert result.findings == [] and result.config == doc


# --- case variants: normalised, with a warning ---------------------------------------------------------------


@pytest.mark.parametrize(("written", "canonical", "value"), [
    ("trustedCA", "trustedCa", None),  # the spelling of the AKS docs' own example
    ("HTTPProxy", "httpProxy", URL),
    ("httpproxy", "httpProxy", URL),
    ("HttpsProxy", "httpsProxy", URL),
    ("NoProxy", "noProxy", ["localhost"]),
    ("noproxy", "noProxy", ["localhost"]),
    ("Enabled", "enabled", True),
])
def test_a_case_variant_is_normalised_with_a_warning(written, canonical, value, certs):
    from ..certs import trusted_ca

    value = trusted_ca(certs.proxy_ca()) if value is None else value
    doc = {"httpProxy": URL} if canonical != "httpProxy" else {}
    doc[written] = value
    result = check(doc)
    finding = assert_warned(result, "key-case", f"$.{written}", canonical)
    assert written in finding.message
    assert result.config is not None and result.config[canonical] == value and written not in result.config


def test_a_case_variant_value_is_still_checked():
    result = check({"HTTPProxy": "https://proxy:3128/"})
    assert codes(result) == ["key-case", "url-scheme"]
    assert result.findings[1].path == "$.HTTPProxy"


def test_the_same_key_twice_through_case_variants_is_an_error():
    result = check({"httpProxy": URL, "HTTPPROXY": "http://other:3128/"})
    finding = assert_bad(result, "duplicate-key", "$.HTTPPROXY", "httpProxy")
    assert "HTTPPROXY" in finding.message


def test_two_case_variants_of_one_key_keep_the_first():
    result = check({"HttpProxy": URL, "HTTPPROXY": "https://other:3128/"})
    assert codes(result) == ["key-case", "duplicate-key"]


# --- the httpProxyConfig wrapper ------------------------------------------------------------------------------


@pytest.mark.parametrize("wrapper", ["httpProxyConfig", "HttpProxyConfig", "httpproxyconfig", "http_proxy_config"])
def test_a_wrapper_object_is_an_error_saying_to_move_the_keys_up(wrapper):
    result = check({wrapper: {"httpProxy": URL, "noProxy": ["localhost"]}})
    finding = assert_bad(result, "wrapper-object", f"$.{wrapper}", wrapper)
    assert "top level" in finding.fix
    assert "`httpProxy`, `noProxy`" in finding.fix  # the keys to move
    assert codes(result) == ["wrapper-object"]  # and no "no proxy URL" on top: the wrapper explains it


def test_problems_inside_a_wrapper_are_reported_at_their_path():
    result = check({"httpProxyConfig": {"httpProxy": "https://proxy:3128/", "noProxy": ["*.corp.com"]}})
    assert [(f.code, f.path) for f in result.findings] == [
        ("wrapper-object", "$.httpProxyConfig"),
        ("url-scheme", "$.httpProxyConfig.httpProxy"),
        ("noproxy-wildcard", "$.httpProxyConfig.noProxy[0]"),
    ]


def test_a_wrapper_that_is_not_an_object_is_still_a_wrapper():
    assert codes(check({"httpProxyConfig": "http://proxy:3128/"})) == ["wrapper-object"]


# --- other spellings: errors with a suggestion -------------------------------------------------------------


@pytest.mark.parametrize(("written", "canonical"), [
    ("http_proxy", "httpProxy"),
    ("HTTP_PROXY", "httpProxy"),
    ("https_proxy", "httpsProxy"),
    ("HTTPS_PROXY", "httpsProxy"),
    ("https-proxy", "httpsProxy"),
    ("http-proxy", "httpProxy"),
    ("no_proxy", "noProxy"),
    ("NO_PROXY", "noProxy"),
    ("no-proxy", "noProxy"),
    ("trusted_ca", "trustedCa"),
    ("trusted-ca", "trustedCa"),
])
def test_snake_kebab_and_env_var_names_are_errors_with_the_rest_name(written, canonical):
    doc = {"httpProxy": URL} if canonical != "httpProxy" else {}
    doc[written] = ["localhost"] if canonical == "noProxy" else "x"
    finding = assert_bad(check(doc), "unknown-key", child_path("$", written), written)
    assert f"did you mean `{canonical}`?" in finding.message
    assert f"Rename `{written}` to `{canonical}`" in finding.fix


def test_paths_quote_keys_that_are_not_identifiers():
    assert child_path("$", "https-proxy") == '$["https-proxy"]'
    assert child_path("$", "httpProxy") == "$.httpProxy"
    assert child_path("$.noProxy", 3) == "$.noProxy[3]"


def test_the_value_of_a_misspelt_key_is_still_checked():
    result = check({"http_proxy": "https://proxy:3128/"})
    assert [(f.code, f.path) for f in result.findings] == [("unknown-key", "$.http_proxy"),
                                                          ("url-scheme", "$.http_proxy")]


def test_a_misspelt_key_next_to_the_right_one_is_only_reported():
    result = check({"httpProxy": URL, "http_proxy": "junk"})
    finding = assert_bad(result, "unknown-key", "$.http_proxy", "httpProxy")
    assert "already given" in finding.fix
    assert codes(result) == ["unknown-key"]


@pytest.mark.parametrize(("written", "suggestion"), [
    ("httpProxxy", "httpProxy"),
    ("noProxies", "noProxy"),
    ("trustedCaCert", "trustedCa"),
    ("enable", "enabled"),
])
def test_a_typo_gets_the_closest_key(written, suggestion):
    finding = assert_bad(check({"httpProxy": URL, written: 1}), "unknown-key", f"$.{written}", written)
    assert f"did you mean `{suggestion}`?" in finding.message


def test_an_unrelated_key_gets_the_list_of_allowed_keys():
    finding = assert_bad(check({"httpProxy": URL, "region": "westus2"}), "unknown-key", "$.region", "region")
    assert all(f"`{key}`" in finding.message for key in CANONICAL_KEYS)


def test_a_key_that_is_not_an_identifier_gets_a_quoted_path():
    result = check({"httpProxy": URL, "my key": 1})
    assert_bad(result, "unknown-key", '$["my key"]', "my key")


def test_a_non_string_key_from_an_already_parsed_document_is_reported():
    result = document_check({"httpProxy": URL, 1: "x"})
    assert_bad(result, "unknown-key", '$["1"]', "1")


# --- effectiveNoProxy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["effectiveNoProxy", "EffectiveNoProxy", "effective_no_proxy"])
def test_effective_no_proxy_is_read_only(written):
    result = check({"httpProxy": URL, "noProxy": ["localhost"], written: ["localhost", "konnectivity"]})
    finding = assert_bad(result, "read-only-key", f"$.{written}", written)
    assert "read-only" in finding.message and "computes" in finding.message
    assert "Delete" in finding.fix


def test_az_aks_show_output_pasted_whole_is_explained_key_by_key():
    shown = {"enabled": True, "httpProxy": URL, "httpsProxy": None, "noProxy": ["localhost"],
             "trustedCa": None, "effectiveNoProxy": ["localhost", "konnectivity"]}
    result = check(shown)
    assert [(f.code, f.path) for f in result.findings] == [
        ("type", "$.httpsProxy"), ("type", "$.trustedCa"), ("read-only-key", "$.effectiveNoProxy")]
    assert the_finding(result, "type", "$.httpsProxy").fix.startswith("Remove `httpsProxy`")
