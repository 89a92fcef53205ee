"""Chain checks: the path to a trust anchor, validity, and the leaf's names, on certificates made here."""
import base64
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from azext_aksproxy.check.chain import (
    load_pem_certificates,
    name_problem,
    public_roots,
    subject_alt_names,
    trusted_ca_certificates,
    verify_path,
)
from azext_aksproxy.check.probe import Trust, judge_chain

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


class Issuer:
    """A CA (self-signed, or under ``parent``) that signs leaves and sub-CAs."""

    def __init__(self, cn, parent=None, valid=(NOW - DAY, NOW + 30 * DAY)):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        signer = parent or self
        self.cert = _build(self.name, signer.name if parent else self.name, self.key.public_key(),
                           parent.key if parent else self.key, ca=True, valid=valid)

    def leaf(self, cn="svc.example", sans=("svc.example",), valid=(NOW - DAY, NOW + 30 * DAY)):
        key = ec.generate_private_key(ec.SECP256R1())
        return _build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]), self.name, key.public_key(),
                      self.key, ca=False, valid=valid, sans=sans)


def _build(subject, issuer, public_key, signing_key, ca, valid, sans=None):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(valid[0]).not_valid_after(valid[1]))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if sans is not None:
        names = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def test_leaf_directly_under_an_anchor():
    root = Issuer("Root")
    result = verify_path([root.leaf()], [root.cert])
    assert result.ok and result.anchor == root.cert


def test_path_through_presented_intermediates_in_any_order():
    root = Issuer("Root")
    mid = Issuer("Mid", parent=root)
    sub = Issuer("Sub", parent=mid)
    leaf = sub.leaf()
    assert verify_path([leaf, mid.cert, sub.cert], [root.cert]).ok
    assert not verify_path([leaf, sub.cert], [root.cert]).ok  # Mid missing: no path


def test_an_intermediate_in_the_anchor_set_ends_the_path():
    # trustedCa may hold the proxy's issuing CA rather than its root, as Go's root pools allow.
    root = Issuer("Root")
    mid = Issuer("Mid", parent=root)
    result = verify_path([mid.leaf(), mid.cert], [mid.cert])
    assert result.ok and result.anchor == mid.cert


def test_a_pinned_self_signed_leaf_is_its_own_anchor():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "proxy.corp")])
    leaf = _build(name, name, key.public_key(), key, ca=False, valid=(NOW - DAY, NOW + DAY), sans=["proxy.corp"])
    assert verify_path([leaf], [leaf]).ok


def test_same_issuer_name_but_another_key_does_not_verify():
    real, impostor = Issuer("Corp Proxy CA"), Issuer("Corp Proxy CA")
    assert not verify_path([impostor.leaf()], [real.cert]).ok


def test_a_non_ca_certificate_cannot_be_an_intermediate():
    root = Issuer("Root")
    not_ca = root.leaf(cn="Not a CA", sans=["x"])
    key = ec.generate_private_key(ec.SECP256R1())
    forged = _build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc")]), not_ca.subject,
                    key.public_key(), key, ca=False, valid=(NOW - DAY, NOW + DAY), sans=["svc"])
    assert not verify_path([forged, not_ca], [root.cert]).ok


def test_expired_certificate_on_the_path_is_named():
    root = Issuer("Root")
    result = verify_path([root.leaf(cn="old", valid=(NOW - 10 * DAY, NOW - DAY))], [root.cert])
    assert not result.ok and result.anchor == root.cert and "'CN=old' expired on" in result.problem
    early = verify_path([root.leaf(cn="new", valid=(NOW + DAY, NOW + 2 * DAY))], [root.cert])
    assert not early.ok and "'CN=new' is valid only from" in early.problem


@pytest.mark.parametrize("sans, host, problem", [
    (("svc.example",), "svc.example", None),
    (("SVC.Example",), "svc.example", None),
    (("*.example",), "svc.example", None),
    (("*.example",), "a.svc.example", "mismatch"),
    (("*.example",), "example", "mismatch"),
    (("other.example", "svc.example"), "svc.example", None),
    (("127.0.0.1",), "127.0.0.1", None),
    (("svc.example",), "127.0.0.1", "mismatch"),  # an IP needs an IP SAN
    (("127.0.0.1",), "svc.example", "mismatch"),
    ((), "svc.example", "no-san"),
    (None, "svc.example", "no-san"),  # CN-only: the CN is ignored, as by Go
])
def test_names_come_from_the_subject_alt_name_only(sans, host, problem):
    leaf = Issuer("Root").leaf(cn=host, sans=sans)
    assert name_problem(leaf, host) == problem


def test_subject_alt_names_report_dns_and_ip():
    leaf = Issuer("Root").leaf(sans=("a.example", "10.0.0.1"))
    assert subject_alt_names(leaf) == ("DNS:a.example", "IP:10.0.0.1")
    assert subject_alt_names(Issuer("Root").leaf(sans=None)) is None


def test_trusted_ca_is_read_from_base64_of_pem_and_unreadable_values_trust_nothing():
    a, b = Issuer("A"), Issuer("B")
    value = base64.b64encode(pem(a.cert, b.cert)).decode()
    assert trusted_ca_certificates(value) == [a.cert, b.cert]
    assert trusted_ca_certificates(None) == [] and trusted_ca_certificates("") == []
    assert trusted_ca_certificates("not base64!") == []
    assert trusted_ca_certificates(pem(a.cert).decode()) == []  # raw PEM, which the config rules report


def test_load_pem_certificates_skips_what_does_not_parse():
    a = Issuer("A")
    broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    assert load_pem_certificates(broken + pem(a.cert)) == [a.cert]


def test_public_roots_default_to_a_real_bundle():
    roots = public_roots()
    assert len(roots) > 50  # Mozilla's list
    assert all(isinstance(c, x509.Certificate) for c in roots)


def der(*certs):
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]


class TestJudgeChain:
    def setup_method(self):
        self.public, self.proxy_ca = Issuer("Public Root"), Issuer("Corp Proxy CA")

    def judge(self, chain, trusted_ca=(), host="svc.example"):
        return judge_chain(der(*chain), host, Trust([self.public.cert], list(trusted_ca)), "the certificate")

    def test_publicly_trusted_chain_passes_through(self):
        report, problems = self.judge([self.public.leaf()])
        assert problems == [] and report.trusted_by == "public roots" and not report.intercepted

    def test_interception_trusted_through_trusted_ca(self):
        report, problems = self.judge([self.proxy_ca.leaf()], trusted_ca=[self.proxy_ca.cert])
        assert problems == [] and report.trusted_by == "trustedCa" and report.intercepted
        assert report.anchor == "CN=Corp Proxy CA"

    def test_interception_without_its_ca_names_the_issuer_and_what_trustedca_holds(self):
        other = Issuer("Old Proxy CA")
        report, problems = self.judge([self.proxy_ca.leaf()], trusted_ca=[other.cert])
        assert [p.code for p in problems] == ["tls-untrusted"]
        assert "'CN=Corp Proxy CA'" in problems[0].message and "'CN=Old Proxy CA'" in problems[0].message
        assert "'CN=Corp Proxy CA'" in problems[0].fix and report.trusted_by is None

    def test_cn_only_and_mismatch_are_reported_besides_trust(self):
        _, problems = self.judge([self.proxy_ca.leaf(sans=None)], trusted_ca=[self.proxy_ca.cert])
        assert [p.code for p in problems] == ["tls-no-san"] and "CN-only" in problems[0].message
        _, problems = self.judge([self.proxy_ca.leaf(sans=("other.example",))])
        assert [p.code for p in problems] == ["tls-untrusted", "tls-name-mismatch"]
        assert "DNS:other.example" in problems[1].message

    def test_expired_is_its_own_code(self):
        _, problems = self.judge([self.public.leaf(valid=(NOW - 3 * DAY, NOW - DAY))])
        assert [p.code for p in problems] == ["tls-expired"] and "expired on" in problems[0].message

    def test_no_certificate_presented(self):
        report, problems = judge_chain([], "svc.example", Trust([], []), "the certificate")
        assert [p.code for p in problems] == ["tls-handshake"] and report.chain == []
