"""The node probe's pure parts: routes as Go picks them, the script's promises, the output parser, the verdicts."""
from __future__ import annotations

import base64
import gzip
import hashlib
import shlex

import pytest
import trustme
from cryptography import x509

from azext_aksproxy.check import CODES, parse_targets
from azext_aksproxy.check import node_probe as np
from azext_aksproxy.check.chain import load_pem_certificates
from azext_aksproxy.check.probe import trust_for

PROXY = "http://proxy.contoso.com:3128/"


def probes(config, *urls):
    return np.plan(config, parse_targets(urls))


class Chain(str):
    """A record's chain field (fingerprints) that also knows the certificate lines the node prints for it."""

    cert_lines: list


def der_chain(*certs: bytes) -> Chain:
    ders = [x509.load_pem_x509_certificate(c).public_bytes(serialization_der()) for c in certs]
    fps = [hashlib.sha256(d).hexdigest()[:np.FINGERPRINT_HEX] for d in ders]
    chain = Chain(",".join(fps))
    chain.cert_lines = [f"{np.RECORD} cert {fp} {base64.b64encode(gzip.compress(d)).decode()}"
                        for fp, d in zip(fps, ders)]
    return chain


def serialization_der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def line(index, rc=0, code=200, connect=200, seconds="0.012", error="-", chain="-"):
    if error != "-":
        error = base64.b64encode(error.encode()).decode()
    certs = "".join(c + "\n" for c in getattr(chain, "cert_lines", []))
    return f"{certs}{np.RECORD} {index} {rc} {code:03d} {connect:03d} {seconds} {error} {chain}"


def test_routes_follow_the_new_config_and_go_no_proxy_rules():
    config = {"httpProxy": PROXY, "httpsProxy": "http://tls.contoso.com:3129/", "noProxy": [".corp.example",
                                                                                             "10.0.0.0/8"]}
    a, b, c, d = probes(config, "https://mcr.microsoft.com/", "http://pkg.example/", "https://git.corp.example/",
                        "https://10.1.2.3/")
    assert (a.via, a.proxy.host, a.proxy.port) == ("httpsProxy", "tls.contoso.com", 3129)
    assert (b.via, b.proxy.host) == ("httpProxy", "proxy.contoso.com")
    assert (c.via, c.bypass_entry, c.proxy) == ("noProxy", ".corp.example", None)
    assert (d.via, d.bypass_entry) == ("noProxy", "10.0.0.0/8")
    (only_http,) = probes({"httpProxy": PROXY}, "https://x.example/")
    assert only_http.via == "httpProxy"  # as on the node: httpsProxy falls back to httpProxy
    (direct,) = probes({"httpsProxy": PROXY}, "http://x.example/")
    assert direct.via == "direct"


def test_script_uses_only_the_given_config_and_leaves_nothing_behind():
    config = {"httpProxy": PROXY, "trustedCa": "TUlJQ..."}
    lines = np.build_script(probes(config, "https://mcr.microsoft.com/", "https://10.0.0.1:8443/x"), 7, config)
    text = "\n".join(lines)
    assert lines[0] == "#!/bin/bash"
    assert "mktemp -d" in text and "trap 'cd /; rm -rf \"$W\"' EXIT" in text and "umask 077" in text
    assert "env -i" in text and "--noproxy" in text and "-k --proxy-insecure" in text
    assert "--max-time 7" in text and "timeout 7 openssl s_client" in text
    assert "trustedCa" not in text and "TUlJQ" not in text  # the chain is judged by aksproxy, not on the node
    probe_lines = [shlex.split(ln) for ln in lines if ln.startswith("probe ")]
    assert probe_lines[0][:7] == ["probe", "0", "https://mcr.microsoft.com:443/", PROXY, "mcr.microsoft.com:443",
                                  "mcr.microsoft.com", "proxy.contoso.com:3128"]
    assert probe_lines[1][1:6] == ["1", "https://10.0.0.1:8443/x", PROXY, "10.0.0.1:8443", "-"]  # no SNI for an IP
    assert lines[-3:] == ["wait", "for f in $(ls -S r.* 2>/dev/null) $(ls -S c.* 2>/dev/null); do cat \"$f\"; done",
                          "exit 0"]
    assert "known='  '" in text
    known = np.build_script(probes(config, "https://mcr.microsoft.com/"), 7, config, {"00112233aabbccdd": b""})
    assert "known=' 00112233aabbccdd '" in known  # certificates an earlier run brought are not printed again


def test_script_refuses_proxy_credentials():
    config = {"httpProxy": "http://user:secret@proxy.contoso.com:3128/"}
    with pytest.raises(ValueError) as info:
        np.build_script(probes(config, "https://mcr.microsoft.com/"), 5, config)
    assert "secret" not in str(info.value)


def test_script_stays_small():
    config = {"httpProxy": PROXY, "noProxy": ["localhost"] * 2000}
    targets = [f"https://t{i}.example/" for i in range(40)]
    assert len("\n".join(np.build_script(probes(config, *targets), 10, config))) < 16 * 1024


def test_parser_keeps_complete_records_and_drops_cut_or_garbled_lines():
    ca = trustme.CA()
    leaf = ca.issue_cert("mcr.microsoft.com")
    chain = der_chain(leaf.cert_chain_pems[0].bytes(), ca.cert_pem.bytes())
    records_text = "\n".join([line(0, chain=str(chain)), line(1, rc=7, code=0, connect=0, error="curl: (7) refused"),
                              line(2, chain=str(chain))])
    full = "\n".join(chain.cert_lines) + "\n" + records_text
    cut = full[len(chain.cert_lines[0]) // 2:]  # what a 4 KB tail keeps: the first certificate's end only
    assert list(np.parse_certificates(cut)) == [str(chain).split(",")[1]]
    records = np.parse_output(cut)
    assert sorted(records) == [1]  # the others name a certificate that was cut off
    assert records[1].curl_exit == 7 and records[1].error == "curl: (7) refused"
    records = np.parse_output(cut, np.parse_certificates(full))  # the next run knows it
    assert sorted(records) == [0, 1, 2]
    assert len(records[2].chain_der) == 2 and records[2].seconds == 0.012
    bad = f"{np.RECORD} cert {str(chain).split(',')[0]} bm90Z3ppcA=="  # not gzip
    assert np.parse_certificates(bad) == {} and np.parse_output(bad + "\n" + line(3, chain=str(chain))) == {}
    assert np.parse_output("AKSPROXY1 4 0 200") == {}


def test_missing_tools_are_reported():
    assert np.missing_tools(f"noise\n{np.RECORD} missing curl openssl\n") == ["curl", "openssl"]
    assert np.missing_tools(line(0)) == []


def test_split_der_reads_back_to_back_certificates_and_refuses_truncation():
    ca = trustme.CA()
    ders = [c.public_bytes(serialization_der()) for c in
            load_pem_certificates(ca.issue_cert("a.example").cert_chain_pems[0].bytes() + ca.cert_pem.bytes())]
    assert np.split_der(b"".join(ders)) == ders
    with pytest.raises(ValueError):
        np.split_der(b"".join(ders)[:-5])


@pytest.fixture(scope="module")
def pki():
    public, proxy_ca = trustme.CA(organization_name="Public Root"), trustme.CA(organization_name="Proxy CA")
    return public, proxy_ca, load_pem_certificates(public.cert_pem.bytes())


def verdict(config, url, record_line, roots, where="node aks-np-1-vmss000000"):
    (p,) = probes(config, url)
    record = np.parse_output(record_line).get(0)
    return np.judge(p, record, trust_for(config, roots), where, 5)


def test_verdicts_map_curl_outcomes_to_the_local_checks_codes(pki):
    public, _, roots = pki
    ok_chain = der_chain(public.issue_cert("mcr.microsoft.com").cert_chain_pems[0].bytes())
    cfg, url = {"httpProxy": PROXY}, "https://mcr.microsoft.com/"
    cases = {
        line(0, chain=ok_chain): "reached",
        line(0, rc=7, code=0, connect=0, error="curl: (7) Failed to connect"): "proxy-unreachable",
        line(0, rc=56, code=0, connect=403): "connect-refused",
        line(0, rc=56, code=0, connect=407): "proxy-auth-required",
        line(0, rc=56, code=0, connect=503): "proxy-error",
        line(0, rc=0, code=502, chain=ok_chain): "proxy-error",
        line(0, rc=35, code=0, error="curl: (35) handshake"): "tls-handshake",
        line(0, rc=28, code=0, error="curl: (28) Operation timed out"): "target-unreachable",
        "": "node-no-result",
    }
    for record_line, code in cases.items():
        result = verdict(cfg, url, record_line, roots)
        assert result.summary.code == code, (record_line, result.summary)
        assert result.where == "node aks-np-1-vmss000000" and result.to_dict()["ranOn"] == result.where
        assert code in CODES
    reached = verdict(cfg, url, line(0, chain=ok_chain), roots)
    assert reached.reached and reached.status == 200 and reached.latency_ms == 12
    assert reached.tls.trusted_by == "public roots"


def test_verdicts_judge_the_chain_with_the_new_trusted_ca_only(pki):
    _, proxy_ca, roots = pki
    intercepted = der_chain(proxy_ca.issue_cert("mcr.microsoft.com").cert_chain_pems[0].bytes())
    url = "https://mcr.microsoft.com/"
    untrusted = verdict({"httpProxy": PROXY}, url, line(0, chain=intercepted), roots)
    assert untrusted.summary.code == "tls-untrusted" and untrusted.failed
    assert untrusted.summary.message.startswith("From node aks-np-1-vmss000000: ")
    trusted_ca = base64.b64encode(proxy_ca.cert_pem.bytes()).decode()
    trusted = verdict({"httpProxy": PROXY, "trustedCa": trusted_ca}, url, line(0, chain=intercepted), roots)
    assert trusted.summary.code == "reached" and trusted.tls.trusted_by == "trustedCa" and trusted.tls.intercepted


def test_no_proxy_targets_are_reached_directly_or_refused(pki):
    public, _, roots = pki
    cfg = {"httpProxy": PROXY, "noProxy": [".corp.example"]}
    chain = der_chain(public.issue_cert("git.corp.example").cert_chain_pems[0].bytes())
    ok = verdict(cfg, "https://git.corp.example/", line(0, connect=0, chain=chain), roots)
    assert ok.summary.code == "bypass" and ok.reached and "reached it directly" in ok.summary.message
    bad = verdict(cfg, "https://git.corp.example/", line(0, rc=6, code=0, connect=0,
                                                         error="curl: (6) Could not resolve host"), roots)
    assert bad.summary.code == "direct-unreachable" and bad.failed
    assert "'.corp.example'" in bad.summary.message and "Remove '.corp.example' from noProxy" in bad.summary.fix


def test_through_an_https_proxy_the_chain_is_not_read_and_the_row_says_so(pki):
    _, _, roots = pki
    cfg = {"httpProxy": PROXY, "httpsProxy": "https://tls.contoso.com:3129/"}
    (p,) = probes(cfg, "https://mcr.microsoft.com/")
    script = "\n".join(np.build_script([p], 5, cfg))
    assert ("probe 0 https://mcr.microsoft.com:443/ https://tls.contoso.com:3129/ - mcr.microsoft.com - "
            "mcr.microsoft.com &") in script
    result = verdict(cfg, "https://mcr.microsoft.com/", line(0), roots)
    assert result.summary.code == "reached" and result.tls is None
    assert "openssl cannot tunnel through an https:// proxy" in result.summary.message


def test_a_leaf_checked_on_the_node_is_trusted_only_through_what_its_issuer_leads_to(pki):
    _, proxy_ca, roots = pki
    url = "https://mcr.microsoft.com/"
    trusted_ca = base64.b64encode(proxy_ca.cert_pem.bytes()).decode()
    (ca_fp,) = np.issuer_candidates({"trustedCa": trusted_ca})
    record_line = line(0, chain=f"=0123456789ab,{ca_fp}")  # checked against the new trustedCa: no cert sent
    cfg = {"httpProxy": PROXY, "trustedCa": trusted_ca}
    (p,) = probes(cfg, url)
    record = np.parse_output(record_line, np.issuer_candidates(cfg))[0]
    trusted = np.judge(p, record, trust_for(cfg, roots), "node n1", 5)
    assert trusted.summary.code == "reached" and trusted.tls.trusted_by == "trustedCa"
    assert trusted.tls.to_dict()["leafCheckedOn"] == "node n1" and trusted.tls.to_dict()["subject"] is None
    assert np.parse_output(record_line) == {}  # the issuer's certificate unknown: incomplete, asked again
    # checked against an issuer presented with it, which leads nowhere trusted: refused, naming the issuer
    presented = der_chain(proxy_ca.cert_pem.bytes())
    untrusted_line = "\n".join(presented.cert_lines) + "\n" + line(0, chain=f"=0123456789ab,{presented}")
    untrusted = verdict({"httpProxy": PROXY}, url, untrusted_line, roots)
    assert untrusted.summary.code == "tls-untrusted" and "O=Proxy CA'" in untrusted.summary.message


def test_a_leaf_named_by_another_of_its_issuer_only_ever_fails(pki):
    public, proxy_ca, roots = pki
    url = "https://mcr.microsoft.com/"
    other = der_chain(proxy_ca.issue_cert("packages.microsoft.com").cert_chain_pems[0].bytes())
    text = "\n".join(other.cert_lines) + "\n" + line(0, chain=f"~{other}")
    result = verdict({"httpProxy": PROXY}, url, text, roots)
    assert result.summary.code == "tls-untrusted" and result.failed and result.tls.chain == []
    public_leaf = der_chain(public.issue_cert("packages.microsoft.com").cert_chain_pems[0].bytes())
    text = "\n".join(public_leaf.cert_lines) + "\n" + line(0, chain=f"~{public_leaf}")
    assert verdict({"httpProxy": PROXY}, url, text, roots).summary.code == "node-no-result"  # never a pass
    trust = trust_for({"httpProxy": PROXY}, roots)
    assert not np.shared_leaf_settled(np.parse_output(text)[0], trust)  # asked again, each leaf whole
    untrusted_text = "\n".join(other.cert_lines) + "\n" + line(0, chain=f"~{other}")
    assert np.shared_leaf_settled(np.parse_output(untrusted_text)[0], trust)
