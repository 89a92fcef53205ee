"""Certificates for the trustedCa tests, built at test time: no committed keys, fixed dates.

EC P-256 keys are quick to make; one key signs everything (the rules never check signatures).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# Far from any date the tests run on, in both directions, so results never depend on the clock.
LONG_AGO = datetime(2015, 1, 1, tzinfo=UTC)
EXPIRED_ON = datetime(2020, 1, 1, tzinfo=UTC)
NOT_YET = datetime(2098, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2099, 12, 31, tzinfo=UTC)


@dataclass
class CertFactory:
    """Builds certificates with a fresh key, or byte-for-byte reproducibly (see :meth:`reproducible`)."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    deterministic: bool = False  # RFC 6979 signatures: the same inputs give the same certificate bytes
    _serial: int = 1

    @classmethod
    def reproducible(cls, seed: int) -> CertFactory:
        """A factory whose key comes from ``seed`` and whose signatures are deterministic (for committed files)."""
        return cls(key=ec.derive_private_key(seed, ec.SECP256R1()), deterministic=True)

    def make(self, cn: str = "proxy.contoso.com", *, ca: bool | None = True, key_cert_sign: bool = True,
             sans: tuple[str, ...] | None = ("proxy.contoso.com",), not_before: datetime = LONG_AGO,
             not_after: datetime = FAR_FUTURE) -> x509.Certificate:
        """A self-signed certificate. ``ca=None`` leaves out basicConstraints, ``sans=None`` the SAN extension."""
        self._serial += 1
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                   .serial_number(self._serial).not_valid_before(not_before).not_valid_after(not_after))
        if ca is not None:
            builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if key_cert_sign:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        if sans is not None:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        return builder.sign(self.key, hashes.SHA256(), ecdsa_deterministic=self.deterministic)

    # The kinds of certificate the rules tell apart.
    def issuing_ca(self, cn: str = "Contoso Root CA") -> x509.Certificate:
        """A dedicated CA: CA=true, keyCertSign, no SAN (and needs none)."""
        return self.make(cn, sans=None)

    def proxy_ca(self, cn: str = "proxy.contoso.com") -> x509.Certificate:
        """A self-signed CA the proxy presents itself, with SANs (like Azure CLI's own test data)."""
        return self.make(cn, sans=(cn,))

    def leaf(self, cn: str = "proxy.contoso.com") -> x509.Certificate:
        """A non-CA certificate with SANs."""
        return self.make(cn, ca=False, key_cert_sign=False, sans=(cn,))

    def cn_only(self, cn: str = "proxy.contoso.com") -> x509.Certificate:
        """What `openssl req -x509 -subj /CN=...` makes: CA=true, no keyUsage, no SAN."""
        return self.make(cn, key_cert_sign=False, sans=None)

    def expired(self, cn: str = "Expired CA") -> x509.Certificate:
        return self.make(cn, not_before=LONG_AGO, not_after=EXPIRED_ON)

    def not_yet_valid(self, cn: str = "Future CA") -> x509.Certificate:
        return self.make(cn, not_before=NOT_YET, not_after=FAR_FUTURE)

    def private_key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def csr_pem(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "proxy.contoso.com")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(
            self.key, hashes.SHA256(), ecdsa_deterministic=self.deterministic)
        return csr.public_bytes(serialization.Encoding.PEM)


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def trusted_ca(*certificates: x509.Certificate) -> str:
    """The trustedCa value for these certificates, as `base64 -w0 bundle.pem` writes it."""
    return b64(pem(*certificates))


def near_limit_bundle(factory: CertFactory) -> str:
    """20 CA certificates whose trustedCa value is just under the 35 KB limit (SANs as padding)."""
    sans = tuple(f"proxy-{j}.corp.contoso.com" for j in range(22))
    value = trusted_ca(*[factory.make(f"CA {i}", sans=sans) for i in range(20)])
    assert 33 * 1024 < len(value) <= 35 * 1024, len(value)  # ECDSA signatures vary by a few bytes
    return value
