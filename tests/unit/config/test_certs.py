"""trustedCa: strict standard base64 of PEM text holding at most 20 CA certificates in at most 35 KB.

Each certificate must be valid now. A non-CA certificate and one without SANs are warnings. Whatever the value
holds, only certificate subjects are ever echoed: it may contain a private key.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from azext_aksproxy.config import (
    ProxyConfigError,
    check_document,
    describe_bundle,
    encode_pem_bundle,
)
from azext_aksproxy.config.certs import MAX_TRUSTED_CA_BYTES, certificate_facts
from azext_aksproxy.config.x509ext import (
    parse_fingerprint,
    read_extensions,
    sha256_fingerprint,
)

from ..certs import EXPIRED_ON, NOT_YET, b64, der, near_limit_bundle, pem, trusted_ca
from ..conftest import NOW
from ..expect import assert_bad, assert_clean, assert_warned, check, codes

URL = "http://proxy.contoso.com:3128/"
PATH = "$.trustedCa"


def with_ca(value) -> dict:
    return {"httpProxy": URL, "trustedCa": value}


# --- accepted ---------------------------------------------------------------------------------------------------


def test_a_proxy_ca_with_sans_is_accepted(certs):
    value = trusted_ca(certs.proxy_ca())
    result = check(with_ca(value))
    assert_clean(result)
    assert result.config is not None and result.config["trustedCa"] == value


def test_a_dedicated_issuing_ca_needs_no_sans(certs):
    assert_clean(check(with_ca(trusted_ca(certs.issuing_ca()))))


def test_20_certificates_just_under_35_kb_are_accepted(certs):
    assert_clean(check(with_ca(near_limit_bundle(certs))))


def test_text_between_pem_blocks_is_ignored_as_go_does(certs):
    text = b"Bag Attributes\n    friendlyName: root\n" + pem(certs.issuing_ca()) + b"\n# next\n" + pem(certs.proxy_ca())
    assert_clean(check(with_ca(b64(text))))


# --- warnings ---------------------------------------------------------------------------------------------------


def test_a_non_ca_certificate_is_a_warning(certs):
    finding = assert_warned(check(with_ca(trusted_ca(certs.leaf()))), "ca-not-ca", PATH, "trustedCa")
    assert "CN=proxy.contoso.com" in finding.message and "certificate 1 of 1" in finding.message


def test_a_cn_only_certificate_warns_that_go_refuses_it(certs):
    finding = assert_warned(check(with_ca(trusted_ca(certs.cn_only()))), "ca-no-san", PATH, "trustedCa")
    assert "Go" in finding.message and "kubelet" in finding.message and "SAN" in finding.message
    assert "subjectAltName" in finding.fix


def test_a_leaf_without_sans_gets_both_warnings(certs):
    result = check(with_ca(trusted_ca(certs.make(ca=False, key_cert_sign=False, sans=None))))
    assert codes(result) == ["ca-not-ca", "ca-no-san"]
    assert result.ok


def test_no_basic_constraints_means_not_a_ca(certs):
    assert codes(check(with_ca(trusted_ca(certs.make(ca=None))))) == ["ca-not-ca"]


def test_a_certificate_expiring_within_30_days_is_a_warning(certs):
    soon = certs.make("Soon CA", not_after=NOW + timedelta(days=10, hours=1))
    finding = assert_warned(check(with_ca(trusted_ca(soon))), "ca-expiring-soon", PATH, "trustedCa")
    assert "in 10 day(s)" in finding.message


# --- validity errors ----------------------------------------------------------------------------------------------


def test_an_expired_certificate_is_named_with_index_subject_and_date(certs):
    result = check(with_ca(trusted_ca(certs.proxy_ca(), certs.expired("Old Root"))))
    finding = assert_bad(result, "ca-expired", PATH, "trustedCa")
    assert "certificate 2 of 2" in finding.message and "CN=Old Root" in finding.message
    assert f"{EXPIRED_ON:%Y-%m-%d}" in finding.message
    assert finding.value == "CN=Old Root"


def test_a_certificate_not_yet_valid_is_an_error(certs):
    finding = assert_bad(check(with_ca(trusted_ca(certs.not_yet_valid()))), "ca-not-yet-valid", PATH, "trustedCa")
    assert f"{NOT_YET:%Y-%m-%d}" in finding.message and "CN=Future CA" in finding.message


def test_validity_is_judged_at_the_injected_time(certs):
    value = trusted_ca(certs.expired())
    assert check_document(with_ca(value), now=EXPIRED_ON - timedelta(days=365)).ok
    assert not check_document(with_ca(value), now=EXPIRED_ON + timedelta(seconds=1)).ok


def test_21_certificates_are_too_many(certs):
    finding = assert_bad(check(with_ca(trusted_ca(*[certs.issuing_ca(f"CA {i}") for i in range(21)]))),
                         "ca-too-many", PATH, "trustedCa")
    assert "21" in finding.message and "20" in finding.message


def test_more_than_35_kb_is_too_large_and_says_how_it_is_measured(certs):
    big = certs.make("Big CA", sans=tuple(f"host-{i:04}.proxy.corp.contoso.com" for i in range(800)))
    value = trusted_ca(big)
    assert len(value) > MAX_TRUSTED_CA_BYTES
    result = check(with_ca(value))
    finding = assert_bad(result, "ca-too-large", PATH, "trustedCa")
    assert "as written in the file" in finding.message and f"{MAX_TRUSTED_CA_BYTES:,}" in finding.message
    assert codes(result) == ["ca-too-large"]


# --- encoding errors ------------------------------------------------------------------------------------------


def test_raw_pem_is_refused_with_the_exact_command(certs):
    result = check(with_ca(pem(certs.proxy_ca()).decode()))
    finding = assert_bad(result, "ca-not-base64", PATH, "trustedCa")
    assert "base64 -w0 ca.pem" in finding.fix
    assert "az aks http-proxy generate --trusted-ca-file ca.pem" in finding.fix
    assert codes(result) == ["ca-not-base64"]


def test_raw_pem_is_still_read_so_every_problem_shows_at_once(certs):
    assert codes(check(with_ca(pem(certs.expired()).decode()))) == ["ca-not-base64", "ca-expired"]


def test_line_wrapped_base64_is_refused_but_still_read(certs):
    wrapped = "\n".join(textwrap.wrap(trusted_ca(certs.expired()), 76))  # what `base64` writes without -w0
    result = check(with_ca(wrapped))
    finding = assert_bad(result, "ca-base64", PATH, "trustedCa")
    assert "line break" in finding.message and "base64 -w0" in finding.fix
    assert codes(result) == ["ca-base64", "ca-expired"]


def test_the_url_safe_alphabet_is_refused_but_still_read(certs):
    # base64 of PEM text never holds `+` or `/` (ASCII input never produces those sextets), so the URL-safe
    # alphabet only shows with binary input: here a DER certificate, which is then reported too.
    url_safe = base64.urlsafe_b64encode(der(certs.proxy_ca("url-safe.example"))).decode()
    assert set("-_") & set(url_safe)
    finding = assert_bad(check(with_ca(url_safe)), "ca-base64", PATH, "trustedCa")
    assert "URL-safe" in finding.message
    assert codes(check(with_ca(url_safe))) == ["ca-base64", "ca-der"]


@pytest.mark.parametrize(("mangle", "says"), [
    (lambda v: v.rstrip("="), "padding"),
    (lambda v: v + "=", "padding"),
    (lambda v: v[:-5], "padding"),
    (lambda v: v[:40] + "=" + v[40:], "padding"),
    (lambda v: v[:40] + "!" + v[40:], "character `!` at position 41"),
    (lambda v: "\u201c" + v + "\u201d", "character `\\u201c` at position 1"),  # smart quotes from a word processor
])
def test_base64_must_be_strict(certs, mangle, says):
    value = trusted_ca(certs.proxy_ca("pad"))
    value = value if value.endswith("=") else trusted_ca(certs.proxy_ca("padded.example"))
    finding = assert_bad(check(with_ca(mangle(value))), "ca-base64", PATH, "trustedCa")
    assert says in finding.message


def test_der_is_refused_with_the_conversion_command(certs):
    result = check(with_ca(b64(der(certs.proxy_ca()))))
    finding = assert_bad(result, "ca-der", PATH, "trustedCa")
    assert "openssl x509 -inform der -in ca.der -out ca.pem && base64 -w0 ca.pem" in finding.fix
    assert codes(result) == ["ca-der"]


def test_an_expired_der_certificate_gets_both_findings(certs):
    assert codes(check(with_ca(b64(der(certs.expired()))))) == ["ca-der", "ca-expired"]


def test_der_that_is_not_a_certificate_is_only_called_der():
    assert codes(check(with_ca(b64(b"\x30\x03\x02\x01\x00")))) == ["ca-der"]


@pytest.mark.parametrize(("decoded", "says"), [
    (b"hello, this is not a certificate\n", "HTTPProxyTrustedCAPEMDecodeFailure"),
    (b"\x89PNG\r\n\x1a\n", "HTTPProxyTrustedCAPEMDecodeFailure"),
    (b"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==", "twice"),
])
def test_what_does_not_decode_to_pem_is_refused(decoded, says):
    finding = assert_bad(check(with_ca(b64(decoded))), "ca-not-pem", PATH, "trustedCa")
    assert says in finding.message


def test_an_empty_value_is_refused():
    finding = assert_bad(check(with_ca("")), "ca-empty", PATH, "trustedCa")
    assert "Remove `trustedCa`" in finding.fix


# --- what the PEM holds --------------------------------------------------------------------------------------


def test_a_private_key_is_refused_and_never_echoed(certs):
    key_pem = certs.private_key_pem()
    value = b64(pem(certs.proxy_ca()) + key_pem)
    result = check(with_ca(value))
    finding = assert_bad(result, "ca-private-key", PATH, "trustedCa")
    assert "block 2" in finding.message
    key_body = "".join(key_pem.decode().splitlines()[1:-1])
    every_text = " ".join(f"{f.message} {f.fix} {f.value} {f.path}" for f in result.findings)
    assert all(key_body[i:i + 12] not in every_text for i in range(len(key_body) - 12))
    assert all(value[i:i + 12] not in every_text for i in range(0, len(value) - 12, 4))


def test_a_raw_pem_private_key_is_never_echoed(certs):
    key_pem = certs.private_key_pem().decode()
    result = check(with_ca(key_pem))
    assert codes(result) == ["ca-not-base64", "ca-private-key"]
    key_body = "".join(key_pem.splitlines()[1:-1])
    assert all(key_body[:12] not in f"{f.message} {f.fix} {f.value}" for f in result.findings)


@pytest.mark.parametrize(("block", "fix_says"), [
    ("csr", "CERTIFICATE"),
    ("trusted", "openssl x509 -in ca.pem -out plain.pem"),
    ("public", "CERTIFICATE"),
])
def test_a_block_that_is_not_a_certificate_is_refused(certs, block, fix_says):
    cert = pem(certs.proxy_ca())
    other = {
        "csr": certs.csr_pem(),
        "trusted": cert.replace(b"CERTIFICATE", b"TRUSTED CERTIFICATE"),
        "public": b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
    }[block]
    finding = assert_bad(check(with_ca(b64(cert + other))), "ca-not-certificate", PATH, "trustedCa")
    assert "block 2" in finding.message and fix_says in finding.fix


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace(b"-----END CERTIFICATE-----", b"", 1),  # cut off
    lambda t: t.replace(b"-----END CERTIFICATE-----", b"-----END CERTIFICAT-----", 1),
    lambda t: b"-----END CERTIFICATE-----\n" + t,
])
def test_broken_pem_framing_is_refused(certs, mangle):
    finding = assert_bad(check(with_ca(b64(mangle(pem(certs.proxy_ca()))))), "ca-not-pem", PATH, "trustedCa")
    assert "BEGIN and END" in finding.message


def test_a_certificate_that_does_not_parse_is_named_by_index(certs):
    garbage = b"-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    result = check(with_ca(b64(pem(certs.proxy_ca()) + garbage)))
    finding = assert_bad(result, "ca-cert-invalid", PATH, "trustedCa")
    assert "certificate 2 of 2" in finding.message


def test_all_problems_in_one_bundle_are_reported(certs):
    bundle = pem(certs.expired(), certs.not_yet_valid(), certs.leaf()) + certs.csr_pem()
    assert codes(check(with_ca(b64(bundle)))) == ["ca-not-certificate", "ca-expired", "ca-not-yet-valid",
                                                   "ca-not-ca"]


# --- describe_bundle -----------------------------------------------------------------------------------------


def test_describe_bundle_gives_the_facts_of_each_certificate(certs):
    ca, leaf = certs.issuing_ca("Contoso Root"), certs.leaf("proxy.contoso.com")
    facts = describe_bundle(trusted_ca(ca, leaf), now=NOW)
    assert [f.index for f in facts] == [1, 2]
    root, proxy = facts
    assert root.subject == "CN=Contoso Root" and root.issuer == "CN=Contoso Root"
    assert root.is_ca and not proxy.is_ca
    assert root.sans == [] and proxy.sans == ["DNS:proxy.contoso.com"]
    assert root.not_after == ca.not_valid_after_utc and root.not_after.tzinfo is not None
    assert root.days_left == (ca.not_valid_after_utc - NOW).days
    assert root.sha256_fingerprint == ca.fingerprint(ca.signature_hash_algorithm).hex(":").upper()
    assert len(root.sha256_fingerprint) == 32 * 3 - 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_fingerprint_is_what_openssl_prints(certs, tmp_path):
    ca = certs.issuing_ca()
    (tmp_path / "ca.pem").write_bytes(pem(ca))
    printed = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(tmp_path / "ca.pem")],
                             capture_output=True, text=True, check=True).stdout
    assert printed.strip().split("=", 1)[1] == sha256_fingerprint(ca)  # "sha256 Fingerprint=AB:CD:..."


def test_a_typed_fingerprint_is_read_in_any_case_colons_optional(certs):
    openssl = sha256_fingerprint(certs.issuing_ca())
    bare = openssl.replace(":", "")
    for typed in (openssl, openssl.lower(), bare, bare.lower(), f"  {bare[:10]}:{bare[10:]} "):
        assert parse_fingerprint(typed) == openssl
    for wrong in ("", "abcd", bare[:-1], bare + "0", "x" + bare[1:], openssl.replace(":", " ")):
        with pytest.raises(ValueError, match="not a SHA-256 fingerprint"):
            parse_fingerprint(wrong)


def test_facts_serialise_with_iso_dates(certs):
    as_dict = describe_bundle(trusted_ca(certs.proxy_ca()), now=NOW)[0].to_dict()
    assert as_dict["notAfter"] == "2099-12-31T00:00:00+00:00"
    assert {"subject", "issuer", "sans", "notBefore", "notAfter", "daysLeft", "sha256Fingerprint", "isCa"} <= set(
        as_dict)


def test_describe_bundle_describes_expired_certificates(certs):
    (facts,) = describe_bundle(trusted_ca(certs.expired()), now=NOW)
    assert facts.days_left < 0


def test_describe_bundle_raises_when_nothing_can_be_read():
    with pytest.raises(ProxyConfigError) as raised:
        describe_bundle(b64(b"plain text"), now=NOW)
    assert "ca-not-pem" in [f.code for f in raised.value.result.findings]


def test_describe_bundle_uses_the_current_time_by_default(certs):
    assert describe_bundle(trusted_ca(certs.proxy_ca()))[0].days_left > 0


@pytest.mark.parametrize("maker", ["issuing_ca", "proxy_ca", "leaf", "cn_only"])
def test_the_extension_reader_agrees_with_cryptography(certs, maker):
    cert = getattr(certs, maker)()
    read = read_extensions(cert.tbs_certificate_bytes)
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert read.is_ca == basic.ca
    try:
        sans = [f"DNS:{n}" for n in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                .get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        sans = None  # no extension at all, which the check reports apart from an empty one
    assert read.sans == sans
    assert certificate_facts(cert, 1, NOW).is_ca == basic.ca


def test_the_extension_reader_reads_the_ca_cryptography_refuses():
    """Why x509ext exists: Azure CLI's own sample CA sets keyUsage encipherOnly/decipherOnly without keyAgreement."""
    sample = json.loads((Path(__file__).parents[2] / "corpus" / "good" / "sample-create.json").read_text("utf-8"))
    (cert,) = x509.load_pem_x509_certificates(base64.b64decode(sample["trustedCa"]))
    with pytest.raises(ValueError, match="encipher_only and decipher_only"):
        cert.extensions  # noqa: B018
    read = read_extensions(cert.tbs_certificate_bytes)
    assert (read.is_ca, read.key_cert_sign) == (True, True)
    assert certificate_facts(cert, 1, NOW).is_ca


def test_the_extension_reader_rejects_truncated_der(certs):
    tbs = certs.proxy_ca().tbs_certificate_bytes
    with pytest.raises(ValueError):
        read_extensions(tbs[:-10])


# --- encode_pem_bundle ---------------------------------------------------------------------------------------


def test_encode_pem_bundle_makes_one_line_of_standard_base64(certs):
    value = encode_pem_bundle([pem(certs.issuing_ca()), pem(certs.proxy_ca())])
    assert "\n" not in value and "-" not in value and "_" not in value
    assert base64.b64decode(value, validate=True).count(b"-----BEGIN CERTIFICATE-----") == 2
    assert_clean(check(with_ca(value)))


def test_encode_pem_bundle_normalises_newlines_and_drops_bom(certs):
    first, second = pem(certs.issuing_ca()), pem(certs.proxy_ca())
    windows = b"\xef\xbb\xbf" + first.replace(b"\n", b"\r\n")
    old_mac = second.replace(b"\n", b"\r") + b"\r\r"
    decoded = base64.b64decode(encode_pem_bundle([windows, old_mac]))
    assert decoded == first + second


def test_encode_pem_bundle_needs_at_least_one_file():
    with pytest.raises(ValueError):
        encode_pem_bundle([])
