"""One certificate reader for validate, show and check: every good-corpus CA reads the same way in all three, goes
through the check's chain judgement without an exception, and a chain that cannot be read becomes a finding."""
from __future__ import annotations

import base64
import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from azext_aksproxy.check.chain import facts, read_chain, trusted_ca_certificates
from azext_aksproxy.check.probe import Trust, judge_chain
from azext_aksproxy.config import (
    ProxyConfigError,
    check_document,
    check_file,
    describe_bundle,
)
from tests.proxies import SAMPLE_KEY_USAGE_DER

GOOD = Path(__file__).parents[2] / "corpus" / "good"
NOW = datetime.datetime.now(datetime.UTC)


def _trusted_ca(path: Path) -> str | None:
    result = check_file(path)
    assert result.ok, result.findings
    return result.config.get("trustedCa")


BUNDLES = {p.name: ca for p in sorted(GOOD.glob("*.json")) if (ca := _trusted_ca(p))}
GOOD_CAS = [(name, i, cert) for name, ca in BUNDLES.items() for i, cert in enumerate(trusted_ca_certificates(ca))]


def test_the_good_corpus_has_the_cas_this_file_is_about():
    assert len(BUNDLES) >= 7 and len(GOOD_CAS) >= 26  # bundle-of-20 and the samples among them
    assert any(cert.subject.rfc4514_string() == "CN=cli-proxy-vm" for _, _, cert in GOOD_CAS)


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_validate_show_and_check_read_the_same_certificates(name):
    shown = describe_bundle(BUNDLES[name])  # validate and show
    checked = [facts(cert) for cert in trusted_ca_certificates(BUNDLES[name])]  # check
    assert [(f.subject, f.issuer, tuple(f.sans), f.not_after.isoformat()) for f in shown] == \
        [(c.subject, c.issuer, c.sans or (), c.not_after) for c in checked]


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _host(cert: x509.Certificate) -> str:
    sans = facts(cert).sans or ()
    return next((san.split(":", 1)[1] for san in sans if san.startswith("DNS:")), "proxy.example")


class _Issuer:
    def __init__(self, cn: str = "Test Proxy CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        self.cert = self.issue(self.name, self.key, [x509.BasicConstraints(ca=True, path_length=None)])

    def issue(self, subject, key, extensions) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
                   .not_valid_after(NOW + datetime.timedelta(days=30)))
        for ext in extensions:
            builder = builder.add_extension(ext, critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def leaf(self, *extensions) -> x509.Certificate:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        return self.issue(subject, ec.generate_private_key(ec.SECP256R1()), [*extensions] or [san])


ISSUER = _Issuer()


@pytest.mark.parametrize(("name", "index", "cert"), GOOD_CAS, ids=[f"{n}#{i + 1}" for n, i, _ in GOOD_CAS])
def test_every_good_corpus_ca_goes_through_the_chain_judgement(name, index, cert):
    bundle = trusted_ca_certificates(BUNDLES[name])
    # Presented as the peer's own certificate (a proxy showing its self-signed CA), trusted through trustedCa.
    report, problems = judge_chain([_der(cert)], _host(cert), Trust([], bundle), "the proxy's own certificate")
    assert report.trusted_by == "trustedCa" and report.chain == [facts(cert)]
    assert {p.code for p in problems} <= {"tls-no-san", "tls-name-mismatch"}  # names only: the CA is trusted
    # Sent along behind a leaf it did not issue, with the bundle trusted: read, reported, and judged untrusted.
    leaf = ISSUER.leaf()
    report, problems = judge_chain([_der(leaf), _der(cert)], "127.0.0.1", Trust([], bundle), "the certificate")
    assert report.chain[1] == facts(cert) and report.trusted_by is None
    assert [p.code for p in problems] == ["tls-untrusted"]
    assert cert.subject.rfc4514_string() in problems[0].message  # trustedCa's subjects are listed
    assert "does hold a certificate named" not in problems[0].message
    # Next to the CA that did issue the leaf: the path ends there.
    report, problems = judge_chain([_der(leaf)], "127.0.0.1", Trust([], [*bundle, ISSUER.cert]), "the certificate")
    assert (report.trusted_by, problems) == ("trustedCa", [])


def test_a_leaf_with_the_sample_key_usage_is_judged_like_any_other():
    odd = x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, SAMPLE_KEY_USAGE_DER)
    san = x509.SubjectAlternativeName([x509.DNSName("proxy.example")])
    leaf = ISSUER.leaf(odd, san)
    with pytest.raises(ValueError, match="encipher_only and decipher_only"):
        leaf.extensions  # noqa: B018 - what cryptography's strict reader does with it
    report, problems = judge_chain([_der(leaf)], "proxy.example", Trust([], [ISSUER.cert]), "the certificate")
    assert (report.trusted_by, problems) == ("trustedCa", [])
    assert report.chain[0].sans == ("DNS:proxy.example",)


def test_a_chain_that_cannot_be_read_is_a_finding_not_an_exception():
    leaf = ISSUER.leaf()
    garbage = b"\x30\x03\x02\x01\x00"  # a DER SEQUENCE, not a certificate
    broken_san = ISSUER.leaf(x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x05\x82"))
    trust = Trust([], [ISSUER.cert])

    report, problems = judge_chain([garbage], "127.0.0.1", trust, "the certificate presented for the target")
    assert [p.code for p in problems] == ["tls-unreadable"] and report.chain == [] and report.trusted_by is None
    assert problems[0].message.startswith("The certificate presented for the target (127.0.0.1): certificate 1 of 1")

    report, problems = judge_chain([_der(broken_san), _der(ISSUER.cert)], "127.0.0.1", trust, "the certificate")
    assert [p.code for p in problems] == ["tls-unreadable"] and "certificate 1 of 2" in problems[0].message
    assert [c.subject for c in report.chain] == ["CN=Test Proxy CA"] and report.trusted_by is None

    # An unreadable certificate further up is reported; the readable leaf is still judged.
    report, problems = judge_chain([_der(leaf), garbage], "127.0.0.1", trust, "the certificate")
    assert [p.code for p in problems] == ["tls-unreadable"] and "certificate 2 of 2" in problems[0].message
    assert report.trusted_by == "trustedCa"

    assert read_chain([garbage, _der(leaf)]).unreadable[0][0] == 1


def test_a_trusted_ca_with_the_issuers_name_but_another_key_is_called_out():
    rekeyed = _Issuer("Test Proxy CA")  # same name as ISSUER, new key: what a renewed or re-keyed CA looks like
    report, problems = judge_chain([_der(ISSUER.leaf())], "127.0.0.1", Trust([], [rekeyed.cert]), "the certificate")
    assert report.trusted_by is None and [p.code for p in problems] == ["tls-untrusted"]
    assert "does hold a certificate named 'CN=Test Proxy CA', but its key did not sign" in problems[0].message


LEAF_DER = _der(ISSUER.leaf())


def _damaged(positions: list[int], flip: int) -> bytes:
    """LEAF_DER with the bytes at ``positions`` XORed with ``flip``."""
    damaged = bytearray(LEAF_DER)
    for position in positions:
        damaged[position] ^= flip
    return bytes(damaged)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(LEAF_DER) - 1), min_size=1, max_size=4), st.integers(1, 255))
def test_a_damaged_certificate_is_judged_without_an_exception(positions, flip):
    report, problems = judge_chain([_damaged(positions, flip), _der(ISSUER.cert)], "127.0.0.1",
                                   Trust([], [ISSUER.cert]),
                                   "the certificate")
    codes = {p.code for p in problems}
    # Whatever the damage: judged (findings), and trusted only while the signature still verifies.
    assert report.trusted_by is None or not codes & {"tls-unreadable", "tls-untrusted"}
    assert codes <= {"tls-unreadable", "tls-untrusted", "tls-expired", "tls-no-san", "tls-name-mismatch"}


def test_a_certificate_of_an_unknown_version_is_a_finding_in_validate_and_in_check():
    """cryptography raises InvalidVersion, which is no ValueError, for a version other than v1-v3."""
    der = bytearray(LEAF_DER)
    version = der.index(b"\xa0\x03\x02\x01\x02") + 4  # [0] EXPLICIT INTEGER 2 (v3) in the TBSCertificate
    der[version] = 3
    body = base64.encodebytes(bytes(der)).decode("ascii")
    pem = f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode("ascii")
    result = check_document({"httpProxy": "http://proxy.example:3128/", "noProxy": [".svc", ".cluster.local"],
                             "trustedCa": base64.b64encode(pem).decode()})
    assert [(f.code, "not a valid X509 version" in f.message) for f in result.findings] == [("ca-cert-invalid", True)]
    report, problems = judge_chain([bytes(der)], "127.0.0.1", Trust([], [ISSUER.cert]), "the certificate")
    assert report.chain == [] and report.trusted_by is None
    assert [p.code for p in problems] == ["tls-unreadable"] and "not a valid X509 version" in problems[0].message


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, len(LEAF_DER) - 1), min_size=1, max_size=4), st.integers(1, 255))
def test_a_damaged_trusted_ca_certificate_is_a_finding_in_validate_and_show(positions, flip):
    body = base64.encodebytes(_damaged(positions, flip))
    pem = b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"
    trusted_ca = base64.b64encode(pem).decode()
    result = check_document({"httpProxy": "http://proxy.example:3128/", "trustedCa": trusted_ca})
    unreadable = "ca-cert-invalid" in [f.code for f in result.findings]
    try:
        shown = describe_bundle(trusted_ca)
    except ProxyConfigError:
        shown = None
    assert unreadable == (shown is None)  # validate and show agree on whether it can be read
