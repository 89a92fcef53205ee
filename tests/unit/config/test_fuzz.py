"""Properties over generated input: nothing raises, every finding is well-formed, and accepted configs are stable.

Example counts are moderate so the unit suite stays fast; the generators lean towards near-valid configs, where
the interesting edges are.
"""
from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azext_aksproxy.config import CODES, CheckResult, check_bytes, check_document

from ..conftest import NOW

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD_BYTES = json.dumps({"httpProxy": "http://proxy.contoso.com:3128/", "httpsProxy": "https://p:3129/",
                         "noProxy": ["localhost", ".svc", "10.0.0.0/8"], "enabled": True}).encode()


def assert_well_formed(result: CheckResult) -> None:
    assert isinstance(result, CheckResult)
    for finding in result.findings:
        assert finding.code in CODES and finding.severity == CODES[finding.code][0]
        assert finding.path.startswith("$") and finding.message and finding.fix
        assert finding.value is None or (len(finding.value) <= 80 and finding.value.isprintable())
        str(finding).encode("utf-8")  # printable on any UTF-8 terminal: no lone surrogates
    assert (result.config is None) == (not result.ok)


def timed(call):
    start = time.process_time()
    result = call()
    assert time.process_time() - start < 1.0
    return result


# --- anything at all --------------------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=25)


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_give_findings_never_exceptions(data):
    assert_well_formed(timed(lambda: check_bytes(data, now=NOW)))


@FUZZ
@given(st.data())
def test_a_good_file_with_random_bytes_flipped_gives_findings_never_exceptions(data):
    raw = bytearray(GOOD_BYTES)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    assert_well_formed(timed(lambda: check_bytes(bytes(raw), now=NOW)))


@FUZZ
@given(json_values)
def test_arbitrary_json_values_give_findings_never_exceptions(value):
    assert_well_formed(timed(lambda: check_document(value, now=NOW)))
    assert_well_formed(check_bytes(json.dumps(value).encode(), now=NOW))


@FUZZ
@given(st.dictionaries(st.sampled_from(["httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled",
                                        "trustedCA", "NO_PROXY", "httpProxyConfig"]), json_values, max_size=6))
def test_the_right_keys_with_arbitrary_values_give_findings_never_exceptions(doc):
    assert_well_formed(timed(lambda: check_document(doc, now=NOW)))


# --- near-valid configs -----------------------------------------------------------------------------------------

hosts = st.sampled_from(["proxy", "proxy.contoso.com", "10.0.0.4", "[fd00::1]", "fd00::1", "my_proxy", "",
                         "b\u00fcro.example", "proxy.contoso.com.", "-x", "a..b", "999.1.1.1"])
ports = st.sampled_from(["", ":3128", ":0", ":65535", ":65536", ":x", ":"])
schemes = st.sampled_from(["http://", "https://", "", "socks5://", "HTTP://", "http:/", "//"])
tails = st.sampled_from(["/", "", "/path", "/?q=1", "/#f", "//", " ", "/\n"])
passwords = st.text("abcdefXYZ0123456789@/#:%", min_size=6, max_size=12).map(lambda p: f"PW{p}Q")


@st.composite
def proxy_urls(draw):
    userinfo = draw(st.sampled_from(["", "alice@", None]))
    if userinfo is None:
        userinfo = f"alice:{draw(passwords)}@"
    return f"{draw(schemes)}{userinfo}{draw(hosts)}{draw(ports)}{draw(tails)}"


entries = st.sampled_from(["localhost", ".svc", "svc.cluster.local.", "10.0.0.0/8", "10.0.0.1/8", "*.corp.com",
                           "*", "[::1]", "::1", "fd00::/8", "host:80", "a,b", " x", "", "LOCALHOST",
                           "http://registry", "10.0.0.256", "fe80::1%eth0"]) | st.text(max_size=20)


@st.composite
def near_valid_configs(draw):
    doc = {}
    if draw(st.booleans()):
        doc["httpProxy"] = draw(proxy_urls())
    if draw(st.booleans()):
        doc["httpsProxy"] = draw(proxy_urls())
    if draw(st.booleans()):
        doc["noProxy"] = draw(st.lists(entries, max_size=8))
    if draw(st.booleans()):
        doc["enabled"] = draw(st.sampled_from([True, False, "true", 1, None]))
    return doc


@settings(max_examples=200, deadline=None)
@given(near_valid_configs())
def test_an_accepted_config_is_accepted_again_unchanged(doc):
    result = timed(lambda: check_bytes(json.dumps(doc).encode(), now=NOW))
    assert_well_formed(result)
    if result.ok:
        again = check_bytes(json.dumps(result.config).encode(), now=NOW)
        assert again.ok and again.config == result.config
        assert not [f for f in again.findings if f.code in ("key-case", "noproxy-duplicate")]


@settings(max_examples=200, deadline=None)
@given(near_valid_configs())
def test_no_generated_password_is_ever_echoed(doc):
    result = check_bytes(json.dumps(doc).encode(), now=NOW)
    shown = json.dumps([f.to_dict() for f in result.findings]) + " ".join(map(str, result.findings))
    for url in (doc.get("httpProxy"), doc.get("httpsProxy")):
        if url and "alice:PW" in url:
            password = url.split("alice:", 1)[1].rsplit("@", 1)[0]
            assert password not in shown
            assert "url-credentials" in [f.code for f in result.findings]
