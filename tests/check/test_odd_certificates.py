"""The check reads certificates as validate does: CAs that cryptography's strict reader refuses, through real mitmdump.

Azure CLI's own sample CA (tests/corpus/good/sample-create.json) passes validate; the check used to die on it with
`ValueError: encipher_only and decipher_only ...` when a proxy presented it. Here mitmdump presents it, and a CA
with the same keyUsage that really signs the leaf.
"""
from azext_aksproxy.check import check_targets, parse_targets
from azext_aksproxy.check.chain import load_pem_certificates
from azext_aksproxy.config import check_document
from tests.proxies import (
    azure_cli_sample_ca_pem,
    b64_pem,
    chain_up_to_the_sample_ca,
    mitmdump,
    odd_key_usage_chain,
)


def check(config, url, origin_ca):
    roots = load_pem_certificates(origin_ca.cert_pem.bytes())
    (result,) = check_targets(config, parse_targets([url]), timeout=10.0, public_roots=roots)
    return result


def validated(config):
    """What validate makes of ``config``: it must pass, as the issue's user saw."""
    result = check_document(config)
    assert result.ok, result.findings
    return result.config


def test_a_ca_with_the_sample_key_usage_that_signs_the_leaf_is_trusted_through_trusted_ca(origin_ca, https_origin):
    certs_pem, ca_pem = odd_key_usage_chain()
    config = validated({"httpProxy": "http://127.0.0.1:3128/", "trustedCa": b64_pem(ca_pem)})
    with mitmdump(origin_ca, certs_pem=certs_pem) as proxy:
        result = check({**config, "httpProxy": proxy.url}, https_origin.url, origin_ca)
    assert [f.code for f in result.findings] == ["reached"], result.findings
    assert result.tls.intercepted and result.tls.trusted_by == "trustedCa"
    assert result.tls.anchor == "CN=Odd Key Usage Proxy CA"
    assert [c.subject for c in result.tls.chain] == ["CN=127.0.0.1", "CN=Odd Key Usage Proxy CA"]
    assert result.tls.chain[1].sans == ("DNS:proxy-ca.example",)


def test_the_azure_cli_sample_ca_presented_by_mitmdump_is_judged_not_a_traceback(origin_ca, https_origin):
    config = validated({"httpProxy": "http://127.0.0.1:3128/", "trustedCa": b64_pem(azure_cli_sample_ca_pem())})
    with mitmdump(origin_ca, certs_pem=chain_up_to_the_sample_ca()) as proxy:
        result = check({**config, "httpProxy": proxy.url}, https_origin.url, origin_ca)
    # The leaf only claims the sample CA as its issuer: the signature does not verify, so nothing trusts it.
    assert [f.code for f in result.findings] == ["tls-untrusted"] and result.failed
    assert "'CN=cli-proxy-vm'" in result.findings[0].message
    assert "does hold a certificate named 'CN=cli-proxy-vm', but its key did not sign" in result.findings[0].message
    assert [c.subject for c in result.tls.chain] == ["CN=127.0.0.1", "CN=cli-proxy-vm"]
    sample = result.tls.chain[1]
    assert sample.sans == ("DNS:cli-proxy-vm",) and sample.not_after.startswith("2032-03-05")


def test_the_sample_ca_alone_in_trusted_ca_names_it_when_the_proxy_is_not_trusted(origin_ca, https_origin):
    sample = azure_cli_sample_ca_pem()
    certs_pem, _ = odd_key_usage_chain()
    with mitmdump(origin_ca, certs_pem=certs_pem) as proxy:
        result = check({"httpProxy": proxy.url, "trustedCa": b64_pem(sample)}, https_origin.url, origin_ca)
    assert [f.code for f in result.findings] == ["tls-untrusted"] and result.failed
    assert "'CN=cli-proxy-vm'" in result.findings[0].message
