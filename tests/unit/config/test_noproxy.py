"""noProxy: a list of host names, `.domain` suffixes, IP addresses and CIDRs; nothing else.

Repeats (ignoring case) are dropped with a warning; CIDRs get one warning for the whole list, because some HTTP
clients ignore them.
"""
from __future__ import annotations

import time

import pytest

from azext_aksproxy.config.noproxy import check_no_proxy

from ..expect import assert_bad, assert_clean, assert_warned, check, codes, the_finding

URL = "http://proxy.contoso.com:3128/"


def with_entries(*entries) -> dict:
    return {"httpProxy": URL, "noProxy": list(entries)}


# --- accepted ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", [
    "localhost",
    "konnectivity",
    "contoso.com",
    "mcr.microsoft.com",
    ".corp.contoso.com",  # suffix: every subdomain
    "a-b.c-d.example",
    "1e100.net",
    "x" * 63 + ".example",
    "127.0.0.1",
    "168.63.129.16",
    "169.254.169.254",
    "::1",
    "fd00::1",
    "2001:db8::8a2e:370:7334",
    "::ffff:10.0.0.1",
    "Proxy.Contoso.COM",
])
def test_a_valid_entry_is_accepted(entry):
    result = check(with_entries(entry))
    assert_clean(result)
    assert result.config is not None and result.config["noProxy"] == [entry]


def test_an_empty_list_is_accepted():
    assert_clean(check(with_entries()))


# --- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "code", "fix_says"), [
    ("", "noproxy-empty", "Remove the empty string"),
    # wildcards
    ("*.corp.com", "noproxy-wildcard", "`.corp.com`"),
    ("*", "noproxy-wildcard", "List the destinations"),
    ("corp.*", "noproxy-wildcard", "leading dot"),
    ("*corp.com", "noproxy-wildcard", "leading dot"),
    ("*.*.corp.com", "noproxy-wildcard", "leading dot"),
    # URLs and ports
    ("http://registry.contoso.com", "noproxy-url", "`registry.contoso.com`"),
    ("https://registry.contoso.com:5000/v2/", "noproxy-url", "`registry.contoso.com`"),
    ("https://[fd00::1]:443/", "noproxy-url", "`fd00::1`"),
    ("registry.contoso.com:5000", "noproxy-port", "`registry.contoso.com`"),
    ("10.0.0.1:443", "noproxy-port", "`10.0.0.1`"),
    # IPv6 in brackets
    ("[::1]", "noproxy-brackets", "`::1`"),
    ("[fd00::1]:8080", "noproxy-brackets", "`fd00::1`"),
    ("[nonsense]", "noproxy-brackets", "`fd00::1`"),
    # CIDRs
    ("10.0.0.1/8", "noproxy-bad-cidr", "`10.0.0.0/8`"),
    ("192.168.1.1/24", "noproxy-bad-cidr", "`192.168.1.0/24`"),
    ("fd00::1/8", "noproxy-bad-cidr", "`fd00::/8`"),
    ("10.0.0.0/33", "noproxy-bad-cidr", "/0 to /32"),
    ("fd00::/129", "noproxy-bad-cidr", "/0 to /128"),
    ("10.0.0.0/", "noproxy-bad-cidr", "network-address/prefix-length"),
    ("10.0.0.0/8/8", "noproxy-bad-cidr", "network-address/prefix-length"),
    ("10.0.0.0/255.0.0.0", "noproxy-bad-cidr", "network-address/prefix-length"),  # netmask form
    ("corp.com/24", "noproxy-bad-cidr", "network-address/prefix-length"),
    ("10.0.0/8", "noproxy-bad-cidr", "network-address/prefix-length"),
    # several hosts in one entry
    ("localhost,127.0.0.1", "noproxy-comma", '["localhost", "127.0.0.1"]'),
    ("localhost, .svc", "noproxy-comma", '["localhost", ".svc"]'),
    # whitespace and control characters
    (" localhost", "noproxy-whitespace", "`localhost`"),
    ("localhost ", "noproxy-whitespace", "`localhost`"),
    ("localhost 127.0.0.1", "noproxy-whitespace", '["localhost", "127.0.0.1"]'),
    ("local\thost", "noproxy-whitespace", '["local", "host"]'),
    ("localhost\n", "noproxy-whitespace", "`localhost`"),
    ("local\x00host", "noproxy-whitespace", '["local", "host"]'),
    ("\u00a0", "noproxy-whitespace", "Remove the entry"),
    # not a host
    ("-bad.corp.com", "noproxy-invalid", "host name"),
    ("bad-.corp.com", "noproxy-invalid", "host name"),
    ("a..b", "noproxy-invalid", "host name"),
    ("..corp.com", "noproxy-invalid", "host name"),
    (".", "noproxy-invalid", "host name"),
    ("x" * 64 + ".example", "noproxy-invalid", "host name"),
    (".".join(["abcdefghi"] * 26), "noproxy-invalid", "host name"),  # 259 characters
    ("10.0.0.256", "noproxy-invalid", "host name"),
    ("10.0.0", "noproxy-invalid", "host name"),
    ("010.0.0.1", "noproxy-invalid", "host name"),  # leading zeros: octal to some parsers
    (".10.0.0.1", "noproxy-invalid", "host name"),
    ("fd00::zz", "noproxy-invalid", "host name"),
    ("fe80::1%eth0", "noproxy-invalid", "host name"),
    ("user@host", "noproxy-invalid", "`host`"),
    ("user:pw@host:80", "noproxy-invalid", "`host`"),
    ("b\u00fcro.contoso.com", "noproxy-invalid", "`xn--bro-hoa.contoso.com`"),
])
def test_a_bad_entry_is_an_error_at_its_index(entry, code, fix_says):
    result = check(with_entries("localhost", entry))
    finding = assert_bad(result, code, "$.noProxy[1]", "noProxy")
    assert fix_says in finding.fix
    assert len(result.errors) == 1


def test_every_bad_entry_is_reported():
    result = check(with_entries("*.a.com", "ok.com", "b.com:80", "[::1]", "10.0.0.1/8"))
    assert [(f.code, f.path) for f in result.findings] == [
        ("noproxy-wildcard", "$.noProxy[0]"),
        ("noproxy-port", "$.noProxy[2]"),
        ("noproxy-brackets", "$.noProxy[3]"),
        ("noproxy-bad-cidr", "$.noProxy[4]"),
    ]


# --- duplicates -----------------------------------------------------------------------------------------------


def test_repeats_are_dropped_ignoring_case_keeping_first_spelling_and_order():
    result = check(with_entries("b.com", "Localhost", "a.com", "LOCALHOST", "localhost", "B.com", "c.com"))
    assert result.config is not None
    assert result.config["noProxy"] == ["b.com", "Localhost", "a.com", "c.com"]
    warnings = [(f.code, f.path) for f in result.warnings]
    assert warnings == [("noproxy-duplicate", "$.noProxy[3]"), ("noproxy-duplicate", "$.noProxy[4]"),
                        ("noproxy-duplicate", "$.noProxy[5]")]
    finding = assert_warned(result, "noproxy-duplicate", "$.noProxy[3]", "noProxy")
    assert "[1]" in finding.message


def test_the_input_list_is_not_modified():
    entries = ["a.com", "A.com"]
    check_no_proxy(entries, "$.noProxy")
    assert entries == ["a.com", "A.com"]


# --- CIDRs ------------------------------------------------------------------------------------------------------


def test_cidrs_get_one_warning_listing_them_all():
    result = check(with_entries("10.0.0.0/8", "localhost", "172.16.0.0/12", "fd00::/8", "10.0.0.0/8"))
    cidr = assert_warned(result, "noproxy-cidr", "$.noProxy", "noProxy")
    assert cidr.value == "10.0.0.0/8, 172.16.0.0/12, fd00::/8"
    assert "Python" in cidr.message and "curl" in cidr.message and "Go" in cidr.message
    assert codes(result).count("noproxy-cidr") == 1
    assert result.config is not None and "fd00::/8" in result.config["noProxy"]


def test_a_single_address_is_not_a_cidr():
    assert "noproxy-cidr" not in codes(check(with_entries("10.0.0.1", "fd00::1")))


# --- size -------------------------------------------------------------------------------------------------------


def test_8000_entries_with_findings_never_hang():
    # A guard against pathological (backtracking) matching, far above the real cost; speed: bench/validate.py.
    entries = [f"*.h{i}.example" if i % 2 else f"h{i}.example" for i in range(8000)]
    start = time.process_time()
    findings, _ = check_no_proxy(entries, "$.noProxy")
    assert len(findings) == 4000
    assert time.process_time() - start < 2.0
    assert the_finding(check(with_entries(*entries[:2])), "noproxy-wildcard").path == "$.noProxy[1]"
