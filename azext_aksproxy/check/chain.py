"""Certificate chains as the check sees them: facts to report, a path to a trust anchor, and the leaf's names.

The chain presented is verified here, offline, rather than by the TLS handshake: one handshake then answers every
question (publicly trusted? trusted through trustedCa? names right?) and a failure can name the issuer it saw.
The path building follows Go's crypto/x509 in what it needs: issuer name and signature link each certificate to
the next, any certificate in the anchor set ends a path (trustedCa may hold intermediates), every certificate on
the path must be valid now, and the names are checked against the subjectAltName only (Go ignores the CN).

Certificates are read by config/x509ext.py, as validate and show read trustedCa: a CA that validate accepts is
one the check can read, and a certificate that cannot be read at all becomes a finding, not an exception.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from azext_aksproxy.config import x509ext
from azext_aksproxy.config.x509ext import load_pem_certificates

try:
    import certifi
except ImportError:  # pragma: no cover - az ships it
    certifi = None  # type: ignore[assignment]

__all__ = ["CertFacts", "PathResult", "ReadChain", "facts", "load_pem_certificates", "name_problem",
           "public_roots", "read_chain", "subject_alt_names", "trusted_ca_certificates", "verify_issuer_path",
           "verify_path"]

_MAX_DEPTH = 8  # longer chains than this do not occur in practice; the bound keeps a bad chain from looping


@dataclass(frozen=True)
class CertFacts:
    """What the report shows of one certificate."""

    subject: str
    issuer: str
    sans: tuple[str, ...] | None  # None when there is no subjectAltName extension at all
    not_after: str  # ISO 8601, UTC

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer,
                "sans": list(self.sans) if self.sans is not None else None, "notAfter": self.not_after}


def facts(cert: x509.Certificate) -> CertFacts:
    """The report's facts; ValueError when the certificate's names or extensions are malformed."""
    read = x509ext.certificate_facts(cert)
    return CertFacts(read.subject, read.issuer, tuple(read.sans) if read.has_san_extension else None,
                     read.not_after.isoformat())


def subject_alt_names(cert: x509.Certificate) -> tuple[str, ...] | None:
    """"DNS:..." / "IP:..." (and other kinds) of the subjectAltName; None without one; ValueError when malformed."""
    sans = x509ext.read_extensions(cert.tbs_certificate_bytes).sans
    return tuple(sans) if sans is not None else None


@dataclass
class ReadChain:
    """A presented chain as read: the certificates that could be read, in order, and those that could not."""

    certs: list[x509.Certificate] = field(default_factory=list)
    facts: list[CertFacts] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (1-based position, why)
    size: int = 0

    @property
    def leaf_readable(self) -> bool:
        return bool(self.certs) and not any(position == 1 for position, _ in self.unreadable)


def read_chain(ders: Sequence[bytes]) -> ReadChain:
    """Every certificate of a presented chain (DER), read as validate reads trustedCa; never raises."""
    chain = ReadChain(size=len(ders))
    for position, der in enumerate(ders, start=1):
        try:
            cert = x509ext.load_der_certificate(der)
            fact = facts(cert)
        except ValueError as exc:
            chain.unreadable.append((position, str(exc) or type(exc).__name__))
            continue
        chain.certs.append(cert)
        chain.facts.append(fact)
    return chain


def name_problem(leaf: x509.Certificate, host: str) -> str | None:
    """Why ``leaf`` is not valid for ``host`` ("no-san" or "mismatch"), None when a SAN covers it."""
    sans = subject_alt_names(leaf)
    if not sans:
        return "no-san"
    try:
        wanted_ip = ipaddress.ip_address(host)
    except ValueError:
        wanted_ip = None
    for san in sans:
        kind, _, value = san.partition(":")
        if wanted_ip is not None and kind == "IP" and ipaddress.ip_address(value) == wanted_ip:
            return None
        if wanted_ip is None and kind == "DNS" and _dns_name_matches(value.lower().rstrip("."), host.rstrip(".")):
            return None
    return "mismatch"


def _dns_name_matches(pattern: str, host: str) -> bool:
    # RFC 6125: a wildcard only as the whole left-most label, matching exactly one label.
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


@dataclass(frozen=True)
class PathResult:
    anchor: x509.Certificate | None  # the trusted certificate the path ends at; None when there is no path
    problem: str | None = None  # why a path that exists is not valid (expired, not yet valid)

    @property
    def ok(self) -> bool:
        return self.anchor is not None and self.problem is None


def verify_path(chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate],
                now: datetime.datetime | None = None) -> PathResult:
    """A path from ``chain[0]`` (the leaf) through ``chain[1:]`` to one of ``anchors``, and whether it is valid now."""
    if not chain or not anchors:
        return PathResult(None)
    path = _path_to_anchor(chain[0], list(chain[1:]), list(anchors), 0)
    return _valid_now(path, now)


def verify_issuer_path(issuers: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate],
                       now: datetime.datetime | None = None) -> PathResult:
    """The path of a leaf already verified (on a node) as signed by ``issuers[0]``, which must be a CA: through
    ``issuers`` to one of ``anchors``; a self-signed ``issuers[0]`` stands for its key, so the path ends at the
    anchor holding that name and key (as a path from the leaf would), and it is valid now or not."""
    if not issuers or not anchors or not _is_ca(issuers[0]):
        return PathResult(None)
    first = issuers[0]
    if first.subject == first.issuer:
        anchor = next((a for a in anchors if a == first or _issued_by(first, a)), None)
        return _valid_now([anchor] if anchor is not None else None, now)
    return verify_path(issuers, anchors, now)


def _valid_now(path: list[x509.Certificate] | None, now: datetime.datetime | None) -> PathResult:
    if path is None:
        return PathResult(None)
    now = x509ext.aware_now(now)
    for cert in path:
        if now > cert.not_valid_after_utc:
            return PathResult(path[-1], f"{_describe(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
        if now < cert.not_valid_before_utc:
            return PathResult(path[-1], f"{_describe(cert)} is valid only from {cert.not_valid_before_utc:%Y-%m-%d}")
    return PathResult(path[-1])


def _path_to_anchor(cert: x509.Certificate, intermediates: Sequence[x509.Certificate],
                    anchors: Sequence[x509.Certificate], depth: int) -> list[x509.Certificate] | None:
    if cert in anchors:
        return [cert]
    for anchor in anchors:
        if _issued_by(cert, anchor):
            return [cert, anchor]
    if depth >= _MAX_DEPTH:
        return None
    for issuer in intermediates:
        if issuer != cert and _is_ca(issuer) and _issued_by(cert, issuer):
            rest = _path_to_anchor(issuer, [i for i in intermediates if i != issuer], anchors, depth + 1)
            if rest is not None:
                return [cert, *rest]
    return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):  # a bad signature, an unsupported algorithm or key type
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return x509ext.read_extensions(cert.tbs_certificate_bytes).is_ca
    except ValueError:  # malformed extensions: not a CA anyone can rely on
        return False


def _describe(cert: x509.Certificate) -> str:
    return f"the certificate {cert.subject.rfc4514_string()!r}"


def trusted_ca_certificates(trusted_ca: str | None) -> list[x509.Certificate]:
    """The certificates of a config's ``trustedCa`` (base64 of PEM text); [] when absent or unreadable.

    The config rules report a bad trustedCa; here an unreadable one simply trusts nothing.
    """
    if not trusted_ca:
        return []
    try:
        return load_pem_certificates(base64.b64decode(trusted_ca, validate=True))
    except (binascii.Error, ValueError):
        return []


@lru_cache(maxsize=4)
def public_roots(path: str | None = None) -> tuple[x509.Certificate, ...]:
    """The publicly trusted roots: ``path`` (a PEM bundle) or Mozilla's list as shipped by certifi.

    Not this machine's own store: corporate machines add their proxy's CA there, nodes do not, and that would hide
    exactly the missing-trustedCa mistake the check is for. Mozilla's list is what the node images ship.
    """
    if path is None:  # az always ships certifi (through requests); other hosts fall back to OpenSSL's file
        path = certifi.where() if certifi is not None else ssl.get_default_verify_paths().openssl_cafile
    with open(path, "rb") as handle:
        return tuple(load_pem_certificates(handle.read()))
