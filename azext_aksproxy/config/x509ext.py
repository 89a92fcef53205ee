"""Reading X.509 certificates, one way for every command: validate, generate and show (through certs.py) and the
proxy check (check/chain.py) split PEM text, read extensions, describe certificates and tell the time here, so
a certificate one of them reads is readable by all.

Extensions: cryptography refuses whole certificates over details that OpenSSL and Go accept: the CA in Azure CLI's
own HTTP-proxy test data sets keyUsage encipherOnly/decipherOnly without keyAgreement, and `cert.extensions`
raises. AKS nodes would accept that CA, so the three extensions the rules and the check need (basicConstraints,
keyUsage, subjectAltName) are read from DER here, as tolerantly as Go does. cryptography has already parsed the
certificate's outer structure; anything malformed here raises ValueError.
"""
from __future__ import annotations

# Lazy imports: cryptography loads only when a certificate is read: a config without trustedCa is checked without it.
import ipaddress
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509

UTC = timezone.utc  # noqa: UP017 - not datetime.UTC (3.11+): nothing in the extension needs more than 3.10
# BEGIN/END lines; paired by hand in one pass (a lazy BEGIN...END regex is quadratic on unterminated blocks).
_PEM_MARKER = re.compile(r"-----(BEGIN|END) ([A-Z0-9 ]*)-----")
_BASIC_CONSTRAINTS = bytes.fromhex("551d13")  # 2.5.29.19
_KEY_USAGE = bytes.fromhex("551d0f")  # 2.5.29.15
_SUBJECT_ALT_NAME = bytes.fromhex("551d11")  # 2.5.29.17
_EXTENSIONS_TAG = 0xA3  # [3] EXPLICIT in TBSCertificate
_GENERAL_NAME_PREFIX = {0x81: "email", 0x82: "DNS", 0x86: "URI"}  # IA5String choices of GeneralName
_IP_ADDRESS_TAG = 0x87
_GENERAL_NAME_KIND = {0xA0: "otherName", 0xA3: "x400Address", 0xA4: "dirName", 0xA5: "ediPartyName", 0x88: "RID"}


@dataclass
class ExtensionFacts:
    is_ca: bool = False
    key_cert_sign: bool = False
    sans: list[str] | None = None  # None when there is no subjectAltName extension at all


def read_extensions(tbs_der: bytes) -> ExtensionFacts:
    """basicConstraints CA, keyUsage keyCertSign and the SAN entries of a DER TBSCertificate."""
    facts = ExtensionFacts()
    _, start, end = _tlv(tbs_der, 0)
    for tag, value_start, value_end in _children(tbs_der, start, end):
        if tag != _EXTENSIONS_TAG:
            continue
        _, seq_start, seq_end = _tlv(tbs_der, value_start)
        for _, ext_start, ext_end in _children(tbs_der, seq_start, seq_end):
            parts = _children(tbs_der, ext_start, ext_end)
            if len(parts) < 2:
                raise ValueError("extension without a value")
            oid = tbs_der[parts[0][1]:parts[0][2]]
            _, octets_start, octets_end = parts[-1]  # extnValue; `critical` may sit between
            _read_extension(oid, tbs_der[octets_start:octets_end], facts)
    return facts


def _read_extension(oid: bytes, value: bytes, facts: ExtensionFacts) -> None:
    if oid == _BASIC_CONSTRAINTS:
        _, start, end = _tlv(value, 0)
        first = next(iter(_children(value, start, end)), None)
        facts.is_ca = first is not None and first[0] == 0x01 and any(value[first[1]:first[2]])
    elif oid == _KEY_USAGE:
        _, start, end = _tlv(value, 0)
        bits = value[start + 1:end]  # after the unused-bits count
        facts.key_cert_sign = bool(bits) and bool(bits[0] & 0x04)  # bit 5, counted from the most significant
    elif oid == _SUBJECT_ALT_NAME:
        _, start, end = _tlv(value, 0)
        facts.sans = [_general_name(value, tag, s, e) for tag, s, e in _children(value, start, end)]


def _general_name(data: bytes, tag: int, start: int, end: int) -> str:
    raw = data[start:end]
    if tag in _GENERAL_NAME_PREFIX:
        return f"{_GENERAL_NAME_PREFIX[tag]}:{raw.decode('ascii', 'replace')}"
    if tag == _IP_ADDRESS_TAG and len(raw) in (4, 16):
        return f"IP:{ipaddress.ip_address(raw)}"
    return _GENERAL_NAME_KIND.get(tag, f"tag-0x{tag:02x}")


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, length = data[pos], data[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("DER element runs past its container")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    children = []
    pos = start
    while pos < end:
        tag, value_start, value_end = _tlv(data, pos)
        if value_end > end:
            raise ValueError("DER element runs past its container")
        children.append((tag, value_start, value_end))
        pos = value_end
    return children


def aware_now(now: datetime | None = None) -> datetime:
    """``now`` as an aware UTC datetime (naive values are taken as UTC); the current time when None."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def split_pem(text: str) -> tuple[list[tuple[str, str]], int]:
    """(label, block text) of every complete PEM block, and how many blocks are broken (BEGIN and END unpaired).

    Text between blocks is ignored, as Go's pem.Decode does.
    """
    blocks: list[tuple[str, str]] = []
    open_label: str | None = None
    open_at = 0
    broken = 0
    for marker in _PEM_MARKER.finditer(text):
        kind, label = marker.groups()
        if kind == "BEGIN":
            broken += open_label is not None
            open_label, open_at = label, marker.start()
        elif open_label == label:
            blocks.append((label, text[open_at:marker.end()]))
            open_label = None
        else:
            broken += 1
    broken += open_label is not None
    return blocks, broken


def load_pem_certificate(block: str) -> x509.Certificate:
    """One PEM CERTIFICATE block; ValueError when it does not parse."""
    from cryptography import x509

    return _parsed(x509.load_pem_x509_certificate, block.encode("utf-8", "replace"))


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle that parses; one that does not never voids the rest."""
    certs = []
    blocks, _ = split_pem(data.decode("latin-1"))
    for label, block in blocks:
        if label != "CERTIFICATE":
            continue
        try:
            certs.append(load_pem_certificate(block))
        except ValueError:
            continue
    return certs


def load_der_certificate(der: bytes) -> x509.Certificate:
    """One DER certificate (as a TLS peer presents it); ValueError when it does not parse."""
    from cryptography import x509

    return _parsed(x509.load_der_x509_certificate, der)


def _parsed(loader: Callable[[bytes], x509.Certificate], data: bytes) -> x509.Certificate:
    """``loader(data)``, with every parse failure as ValueError. cryptography's deprecation warnings about details
    nodes accept (e.g. non-positive serials in old public roots) are not the user's business here."""
    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return loader(data)
        except x509.InvalidVersion as exc:  # not a ValueError
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate is, for `show`, the rules and the check."""

    index: int  # 1-based position among the bundle's (or chain's) certificates
    subject: str  # RFC 4514, e.g. "CN=proxy.contoso.com,O=Contoso"
    issuer: str
    sans: list[str]  # "DNS:proxy.contoso.com", "IP:10.0.0.4", ...; [] when there are none
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    days_left: int  # whole days until not_after; negative once expired
    sha256_fingerprint: str  # "AB:CD:...": sha256_fingerprint()
    is_ca: bool  # basicConstraints CA=true
    signs_certificates: bool = False  # keyUsage keyCertSign: a dedicated issuing CA
    has_san_extension: bool = False  # a subjectAltName extension is present (it may still be empty)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": list(self.sans),
            "notBefore": self.not_before.isoformat(),
            "notAfter": self.not_after.isoformat(),
            "daysLeft": self.days_left,
            "sha256Fingerprint": self.sha256_fingerprint,
            "isCa": self.is_ca,
        }


def sha256_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER bytes as `openssl x509 -noout -fingerprint -sha256` prints it (``AB:CD:...``): the one
    form every command shows and the plan file stores."""
    from cryptography.hazmat.primitives import hashes

    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def parse_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as a user types it (any case, colons optional) in openssl's form; ValueError when it
    is not 64 hex digits."""
    digits = text.strip().replace(":", "")
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits, colons optional)")
    return bytes.fromhex(digits).hex(":").upper()


def certificate_facts(certificate: x509.Certificate, index: int = 1, now: datetime | None = None
                      ) -> CertificateFacts:
    """Facts about one parsed certificate; raises ValueError when its names or extensions are malformed."""
    now = aware_now(now)
    extensions = read_extensions(certificate.tbs_certificate_bytes)
    not_after = certificate.not_valid_after_utc
    return CertificateFacts(
        index=index,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        sans=list(extensions.sans or ()),
        not_before=certificate.not_valid_before_utc,
        not_after=not_after,
        days_left=math.floor((not_after - now).total_seconds() / 86400),
        sha256_fingerprint=sha256_fingerprint(certificate),
        is_ca=extensions.is_ca,
        signs_certificates=extensions.key_cert_sign,
        has_san_extension=extensions.sans is not None,
    )
