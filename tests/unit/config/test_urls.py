"""httpProxy and httpsProxy: `scheme://host:port/`, nothing more.

httpProxy takes only http; httpsProxy http or https. No credentials (AKS has no proxy authentication), no path,
query or fragment. A missing trailing slash or port is a warning.
"""
from __future__ import annotations

import pytest

from ..expect import assert_bad, assert_clean, assert_warned, check, codes

FIELDS = ("httpProxy", "httpsProxy")


def config(field: str, url: str) -> dict:
    return {field: url}


# --- accepted ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://proxy.contoso.com:3128/",
    "http://proxy:3128/",
    "http://10.0.0.4:3128/",
    "http://[fd00::1]:3128/",
    "http://[::1]:8080/",
    "http://proxy.contoso.com.:3128/",  # fully qualified, trailing dot
    "HTTP://Proxy.Contoso.COM:3128/",  # scheme and host are case-insensitive
    "http://p:1/",
    "http://p:65535/",
    "http://xn--bcher-kva.example:3128/",
])
@pytest.mark.parametrize("field", FIELDS)
def test_a_plain_proxy_url_is_accepted(field, url):
    assert_clean(check(config(field, url)))


def test_httpsproxy_may_use_https():
    assert_clean(check({"httpProxy": "http://p:3128/", "httpsProxy": "https://p:3129/"}))


def test_httpsproxy_alone_is_enough():
    assert_clean(check({"httpsProxy": "https://p:3129/"}))


def test_an_empty_url_next_to_a_set_one_counts_as_absent():
    result = check({"httpProxy": "", "httpsProxy": "https://p:3129/"})
    assert_clean(result)
    assert result.config == {"httpProxy": "", "httpsProxy": "https://p:3129/"}  # verbatim


# --- at least one proxy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [
    {},
    {"noProxy": ["localhost"]},
    {"httpProxy": "", "httpsProxy": ""},
    {"httpProxy": ""},
    {"enabled": True},
])
def test_no_proxy_url_at_all_mirrors_the_service_error(doc):
    finding = assert_bad(check(doc), "no-proxy-url", "$", "httpProxy")
    assert "httpsProxy" in finding.message and "HTTPProxyConfigInputError" in finding.message


# --- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "url", "code", "fix_says"), [
    # scheme
    ("httpProxy", "https://proxy:3128/", "url-scheme", "`http://proxy:3128/`"),
    ("httpProxy", "proxy:3128", "url-scheme", "`http://proxy:3128/`"),
    ("httpProxy", "proxy.contoso.com:3128/", "url-scheme", "`http://proxy.contoso.com:3128/`"),
    ("httpProxy", "//proxy:3128/", "url-scheme", "`http://proxy:3128/`"),
    ("httpProxy", "http:/proxy:3128/", "url-scheme", "`http://proxy:3128/`"),
    ("httpProxy", "http:proxy:3128/", "url-scheme", "`http://proxy:3128/`"),
    ("httpsProxy", "https:///proxy:3129/", "url-scheme", "`https://proxy:3129/`"),
    ("httpProxy", "socks5://proxy:1080/", "url-scheme", "`http://proxy:1080/`"),
    ("httpsProxy", "socks5://proxy:1080/", "url-scheme", "`http://proxy:1080/`"),
    ("httpsProxy", "ftp://proxy:21/", "url-scheme", "`http://proxy:21/`"),
    ("httpsProxy", "proxy:3129/", "url-scheme", "`http://proxy:3129/`"),
    # host
    ("httpProxy", "http://:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http:///", "url-host", "host name or IP address"),
    ("httpProxy", "http://-proxy:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://proxy..contoso.com:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://10.0.0.256:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://fd00::1:3128/", "url-host", "`http://[fd00::1]:3128/`"),
    ("httpsProxy", "https://fd00::1/", "url-host", "`https://[fd00::1]/`"),
    ("httpProxy", "http://[fd00::zz]:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://[fe80::1%25eth0]:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://[fd00::1:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://[fd00::1]x:3128/", "url-host", "host name or IP address"),
    ("httpProxy", "http://b\u00fcro.contoso.com:3128/", "url-host", "`http://xn--bro-hoa.contoso.com:3128/`"),
    # port
    ("httpProxy", "http://proxy:0/", "url-port", "1 to 65535"),
    ("httpProxy", "http://proxy:65536/", "url-port", "1 to 65535"),
    ("httpProxy", "http://proxy:99999999/", "url-port", "1 to 65535"),
    ("httpProxy", "http://proxy:http/", "url-port", "1 to 65535"),
    ("httpProxy", "http://proxy:/", "url-port", "1 to 65535"),
    ("httpProxy", "http://proxy:-1/", "url-port", "1 to 65535"),
    ("httpProxy", "http://proxy:\u0663\u0661\u0662\u0668/", "url-port", "1 to 65535"),  # Arabic-Indic digits
    ("httpsProxy", "https://[fd00::1]:0/", "url-port", "1 to 65535"),
    # credentials
    ("httpProxy", "http://user:pass@proxy:3128/", "url-credentials", "`http://proxy:3128/`"),
    ("httpProxy", "http://user@proxy:3128/", "url-credentials", "`http://proxy:3128/`"),
    ("httpsProxy", "https://user:pass@proxy:3129/", "url-credentials", "`https://proxy:3129/`"),
    # path, query, fragment
    ("httpProxy", "http://proxy:3128/proxy.pac", "url-path", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128//", "url-path", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/?x=1", "url-query", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/#top", "url-fragment", "`http://proxy:3128/`"),
    # whitespace and control characters
    ("httpProxy", " http://proxy:3128/", "url-whitespace", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/ ", "url-whitespace", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/\n", "url-whitespace", "`http://proxy:3128/`"),
    ("httpProxy", "http://pro\txy:3128/", "url-whitespace", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/\r", "url-whitespace", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/\x00", "url-whitespace", "`http://proxy:3128/`"),
    ("httpProxy", "http://proxy:3128/\u00a0", "url-whitespace", "`http://proxy:3128/`"),  # no-break space
    ("httpsProxy", "https://proxy:3129/\u2028", "url-whitespace", "`https://proxy:3129/`"),
])
def test_a_bad_proxy_url_is_an_error_with_a_fix(field, url, code, fix_says):
    result = check(config(field, url))
    finding = assert_bad(result, code, f"$.{field}", field)
    assert fix_says in finding.fix


@pytest.mark.parametrize(("url", "named"), [
    ("http://pro\txy:3128/", "a tab at position 11"),
    ("http://proxy:3128/\n", "a line break at position 19"),
    (" http://proxy:3128/", "a space at position 1"),
    ("http://proxy:3128/\x7f", "U+007F"),
])
def test_whitespace_findings_say_which_character_and_where(url, named):
    finding = assert_bad(check(config("httpProxy", url)), "url-whitespace", "$.httpProxy", "httpProxy")
    assert named in finding.message


def test_control_characters_are_escaped_in_the_echoed_value():
    finding = assert_bad(check(config("httpProxy", "http://proxy:3128/\x1b[31m")), "url-whitespace", "$.httpProxy",
                         "httpProxy")
    assert "\x1b" not in finding.value and "\\x1b" in finding.value


def test_httpproxy_with_https_explains_where_a_tls_proxy_goes():
    finding = assert_bad(check(config("httpProxy", "https://proxy:3128/")), "url-scheme", "$.httpProxy", "httpProxy")
    assert "httpsProxy" in finding.message


def test_a_url_with_several_problems_gets_each_of_them():
    result = check(config("httpsProxy", "socks5://u:p@proxy:0/path?q#f"))
    assert codes(result) == ["url-scheme", "url-credentials", "url-port", "url-path", "url-query", "url-fragment"]
    assert {f.path for f in result.findings} == {"$.httpsProxy"}


def test_both_urls_are_checked():
    result = check({"httpProxy": "https://a:3128/", "httpsProxy": "https://b:0/"})
    assert [(f.code, f.path) for f in result.findings] == [("url-scheme", "$.httpProxy"), ("url-port", "$.httpsProxy")]


@pytest.mark.parametrize("url", ["http:proxy:3128/", "http:/proxy:3128/", "http:///proxy:3128/"])
def test_a_mistyped_scheme_separator_is_one_finding(url):
    finding = assert_bad(check(config("httpProxy", url)), "url-scheme", "$.httpProxy", "httpProxy")
    assert "`://`" in finding.message
    assert codes(check(config("httpProxy", url))) == ["url-scheme"]


# --- warnings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_no_trailing_slash_is_a_warning_with_the_slashed_form(field):
    result = check(config(field, "http://proxy.contoso.com:3128"))
    finding = assert_warned(result, "url-trailing-slash", f"$.{field}", field)
    assert "HTTPProxyWrongUrlError" in finding.message
    assert "`http://proxy.contoso.com:3128/`" in finding.fix
    assert result.config == config(field, "http://proxy.contoso.com:3128")  # sent as written


@pytest.mark.parametrize(("field", "url", "port"), [
    ("httpProxy", "http://proxy.contoso.com/", "80"),
    ("httpsProxy", "https://proxy.contoso.com/", "443"),
    ("httpsProxy", "http://[fd00::1]/", "80"),
])
def test_no_port_is_a_warning_naming_the_default(field, url, port):
    finding = assert_warned(check(config(field, url)), "url-default-port", f"$.{field}", field)
    assert f"default port {port}" in finding.message


def test_no_port_and_no_slash_are_two_warnings():
    assert codes(check(config("httpProxy", "http://proxy"))) == ["url-default-port", "url-trailing-slash"]
