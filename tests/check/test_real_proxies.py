"""The check against real proxies on loopback: squid tunnelling, mitmdump intercepting, and proxies that fail.

Origins are HTTPS servers on 127.0.0.1 with trustme certificates; their CA stands in for the public roots (what a
node trusts without trustedCa), so "publicly trusted" here means "issued by the origins' CA".
"""
import pytest
import trustme

from azext_aksproxy.check import check_targets, parse_targets
from tests.proxies import (
    b64_pem,
    black_hole,
    cn_only_chain,
    dead_proxy,
    free_port,
    mitm_ca_pem,
    mitmdump,
    origin,
    squid,
    tls_front,
)


@pytest.fixture(scope="module")
def http_origin():
    with origin() as o:
        yield o


@pytest.fixture(scope="module")
def refused_origin(origin_ca):
    with origin(origin_ca) as o:
        yield o


@pytest.fixture(scope="module")
def squid_proxy(refused_origin):
    with squid(deny_connect_ports=[refused_origin.port]) as proxy:
        yield proxy


def check(config, urls, public_roots, timeout=10.0):
    return check_targets(config, parse_targets(urls), timeout=timeout, public_roots=public_roots)


def codes(result):
    return [f.code for f in result.findings]


def test_all_good_through_squid_https_tunnel_and_plain_http(squid_proxy, https_origin, http_origin, public_roots):
    config = {"httpProxy": squid_proxy.url, "httpsProxy": squid_proxy.url, "noProxy": ["10.0.0.0/8"]}
    https, plain = check(config, [https_origin.url, http_origin.url], public_roots)

    assert (https.failed, https.reached, https.status, https.via) == (False, True, 200, "httpsProxy")
    assert codes(https) == ["reached"]
    assert https.tls.trusted_by == "public roots" and not https.tls.intercepted
    assert https.tls.chain[0].issuer.endswith("O=Public Test Root")
    assert "IP:127.0.0.1" in https.tls.chain[0].sans
    assert https.latency_ms is not None and https.latency_ms >= 0
    assert (plain.failed, plain.reached, plain.status, plain.via, plain.tls) == (False, True, 200, "httpProxy", None)
    # Both really went through squid.
    log = (squid_proxy.workdir / "access.log").read_text()
    assert f"CONNECT 127.0.0.1:{https_origin.port}" in log and f"GET {http_origin.url}" in log


def test_https_falls_back_to_http_proxy_when_https_proxy_is_absent(squid_proxy, https_origin, public_roots):
    (result,) = check({"httpProxy": squid_proxy.url}, [https_origin.url], public_roots)
    assert (result.via, result.reached, codes(result)) == ("httpProxy", True, ["reached"])


def test_proxy_not_listening(https_origin, http_origin, public_roots):
    dead = dead_proxy()
    results = check({"httpProxy": dead}, [https_origin.url, http_origin.url], public_roots)
    for result in results:
        assert codes(result) == ["proxy-unreachable"] and not result.reached
        assert f"127.0.0.1:{dead.split(':')[2].rstrip('/')}" in result.findings[0].message
        assert "refused" in result.findings[0].message.lower()


def test_connect_refused_by_squid_acl(squid_proxy, refused_origin, https_origin, public_roots):
    refused, allowed = check({"httpProxy": squid_proxy.url}, [refused_origin.url, https_origin.url], public_roots)
    assert codes(refused) == ["connect-refused"] and not refused.reached
    assert "403" in refused.findings[0].message and f"CONNECT 127.0.0.1:{refused_origin.port}" in \
        refused.findings[0].message
    assert codes(allowed) == ["reached"]


def test_hung_proxy_times_out_within_the_timeout(https_origin, public_roots):
    with black_hole() as url:
        (result,) = check({"httpProxy": url}, [https_origin.url], public_roots, timeout=1.0)
    assert codes(result) == ["target-unreachable"] and "timed out" in result.findings[0].message


def test_interception_with_ca_in_trusted_ca_passes(mitm, https_origin, public_roots):
    config = {"httpProxy": mitm.url, "trustedCa": b64_pem(mitm_ca_pem(mitm))}
    (result,) = check(config, [https_origin.url], public_roots)
    assert codes(result) == ["reached"] and result.status == 200
    assert result.tls.intercepted and result.tls.trusted_by == "trustedCa"
    assert "mitmproxy" in result.tls.anchor and "mitmproxy" in result.tls.chain[0].issuer
    assert "intercepted" in result.findings[0].message


@pytest.mark.parametrize("trusted", ["absent", "other-ca"])
def test_interception_ca_missing_from_trusted_ca_fails_naming_the_issuer(mitm, https_origin, public_roots, trusted,
                                                                        origin_ca):
    config = {"httpProxy": mitm.url}
    if trusted == "other-ca":
        config["trustedCa"] = b64_pem(trustme.CA(organization_name="Some Other CA").cert_pem.bytes())
    (result,) = check(config, [https_origin.url], public_roots)
    assert codes(result) == ["tls-untrusted"] and result.failed
    message = result.findings[0].message
    assert "O=mitmproxy,CN=mitmproxy" in message
    assert ("Some Other CA" in message) if trusted == "other-ca" else ("absent" in message)
    assert "O=mitmproxy,CN=mitmproxy" in result.findings[0].fix
    assert result.tls.trusted_by is None and result.tls.intercepted
    assert result.reached  # the proxy did deliver: the nodes would refuse what it presents


def test_interception_with_cn_only_leaf_is_flagged(origin_ca, https_origin, public_roots):
    certs_pem, ca_pem = cn_only_chain()
    with mitmdump(origin_ca, certs_pem=certs_pem) as proxy:
        (result,) = check({"httpProxy": proxy.url, "trustedCa": b64_pem(ca_pem)}, [https_origin.url], public_roots)
    assert codes(result) == ["tls-no-san"] and result.failed
    assert result.tls.trusted_by == "trustedCa"  # the chain itself is fine: only the names are missing
    assert result.tls.chain[0].sans is None and result.tls.chain[0].subject == "CN=127.0.0.1"
    assert "Legacy Proxy CA" in result.findings[0].message and "CN-only" in result.findings[0].message


def test_target_covered_by_no_proxy_is_a_bypass_and_is_not_contacted(public_roots):
    dead = dead_proxy()
    config = {"httpProxy": dead, "noProxy": ["localhost", ".corp.example", "192.168.0.0/16"]}
    results = check(config, ["https://localhost:8443/", "https://git.corp.example/", "http://192.168.4.2/"],
                    public_roots)
    assert [r.via for r in results] == ["noProxy"] * 3
    assert [codes(r) for r in results] == [["bypass"]] * 3
    assert not any(r.failed or r.reached for r in results)
    assert "'192.168.0.0/16'" in results[2].findings[0].message


def test_results_keep_the_order_of_the_targets(squid_proxy, https_origin, http_origin, public_roots):
    urls = [http_origin.url, https_origin.url, "https://localhost:1/"]
    results = check({"httpProxy": squid_proxy.url, "noProxy": ["localhost"]}, urls, public_roots)
    assert [r.target.url for r in results] == urls


@pytest.mark.parametrize("trust_front", [True, False])
def test_https_proxy_own_certificate_is_checked_too(squid_proxy, https_origin, public_roots, trust_front):
    front_ca = trustme.CA(organization_name="Proxy Front CA")
    with tls_front(squid_proxy.port, front_ca) as url:
        config = {"httpProxy": squid_proxy.url, "httpsProxy": url}
        if trust_front:
            config["trustedCa"] = b64_pem(front_ca.cert_pem.bytes())
        (result,) = check(config, [https_origin.url], public_roots)
    assert result.reached and result.status == 200 and result.via == "httpsProxy"
    assert result.tls.trusted_by == "public roots"  # TLS to the target inside TLS to the proxy
    assert result.proxy_tls.chain[0].issuer.endswith("O=Proxy Front CA")
    if trust_front:
        assert codes(result) == ["reached"] and result.proxy_tls.trusted_by == "trustedCa"
    else:
        assert codes(result) == ["tls-untrusted"] and result.proxy_tls.trusted_by is None
        assert result.findings[0].message.startswith("The proxy's own certificate (127.0.0.1)")
    assert result.to_dict()["proxyTls"]["verified"] is trust_front


def test_target_down_behind_a_working_proxy_is_a_proxy_error(squid_proxy, mitm, public_roots):
    down = [f"https://127.0.0.1:{free_port()}/", f"http://127.0.0.1:{free_port()}/"]
    for proxy, says in ((squid_proxy, "503 Service Unavailable (ERR_CONNECT_FAIL"), (mitm, "502 Bad Gateway")):
        results = check({"httpProxy": proxy.url, "trustedCa": b64_pem(mitm_ca_pem(mitm))}, down, public_roots)
        assert [codes(r) for r in results] == [["proxy-error"]] * 2
        assert all(says in r.findings[0].message and not r.reached for r in results)
