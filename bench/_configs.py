"""Proxy config files the benchmarks feed to aksproxy, built at bench time (no committed keys).

A *maximal* config sits at AKS's documented limits: 20 CA certificates whose base64 trustedCa is just under 35 KB,
and thousands of noProxy entries mixing host names, domain suffixes, IPv4/IPv6 addresses and CIDRs. A *typical*
config is what most clusters carry: two proxies, a dozen noProxy entries, one corporate CA.
"""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from azext_aksproxy.config.certs import MAX_TRUSTED_CA_BYTES

_NOTICE_LIMIT = 200  # RFC 5280 caps a policy's explicitText at 200 characters


def _ca_certificates(count: int, padding: int, keys: list) -> list[bytes]:
    """PEM of ``count`` self-signed issuing CAs, each carrying ``padding`` characters of policy text."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    pems = []
    for i in range(count):
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso Ltd"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"Network Security {i:02d}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Contoso Proxy Issuing CA {i:02d}"),
        ])
        key = keys[i % len(keys)]
        builder = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if padding:
            notice = x509.UserNotice(None, ("Contoso internal use only. " * 8)[:padding])
            builder = builder.add_extension(x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.311.21.8.1"), [notice])]), critical=False)
        certificate = builder.sign(key, hashes.SHA256())
        pems.append(certificate.public_bytes(serialization.Encoding.PEM))
    return pems


def trusted_ca(count: int = 20, target: int = MAX_TRUSTED_CA_BYTES, key_count: int | None = None) -> str:
    """base64 of ``count`` RSA-2048 CA certificates, padded to the largest size that stays within ``target``."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(key_count or count)]

    def encoded(padding: int) -> str:
        return base64.b64encode(b"".join(_ca_certificates(count, padding, keys))).decode("ascii")

    low, high = 0, _NOTICE_LIMIT  # the size grows with the padding: bisect for the largest that fits
    best = encoded(low)
    if len(best) > target:
        raise ValueError(f"{count} certificates need {len(best):,} bytes, over the {target:,}-byte target")
    while low < high:
        mid = (low + high + 1) // 2
        value = encoded(mid)
        if len(value) <= target:
            low, best = mid, value
        else:
            high = mid - 1
    return best


def no_proxy(count: int) -> list[str]:
    """``count`` distinct entries, in turn a host, a .suffix, an IPv4 address, an IPv4 CIDR and an IPv6 address."""
    entries = []
    for i in range(count):
        n, kind = divmod(i, 5)
        if kind == 0:
            entries.append(f"app{n}.svc{n % 37}.corp.contoso.com")
        elif kind == 1:
            entries.append(f".team{n}.contoso.com")
        elif kind == 2:
            entries.append(f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}")
        elif kind == 3:
            entries.append(f"172.{16 + (n >> 8) % 16}.{n & 255}.0/24")
        else:
            entries.append(f"fd00:{n >> 16:x}:{n & 0xffff:x}::1")
    return entries


def config(no_proxy_count: int, ca: str | None) -> dict:
    doc: dict = {"httpProxy": "http://proxy.contoso.com:3128/", "httpsProxy": "http://proxy.contoso.com:3129/",
                 "noProxy": ["localhost", "127.0.0.1", ".svc", ".cluster.local", *no_proxy(no_proxy_count)]}
    if ca is not None:
        doc["trustedCa"] = ca
    return doc


def typical() -> dict:
    return config(8, trusted_ca(1, target=4096))


def to_bytes(doc: dict) -> bytes:
    return json.dumps(doc, indent=2).encode("utf-8")
