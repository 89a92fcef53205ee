"""Rules for ``trustedCa``: base64 of PEM text holding the CA certificates nodes must trust to talk to the proxy.

The service decodes the value strictly (standard alphabet, padding, no line breaks) and then reads PEM
CERTIFICATE blocks; anything else fails late with HTTPProxyTrustedCAPEMDecodeFailure. When a problem still
leaves the certificates readable (line-wrapped base64, raw PEM, DER) the certificates are checked too, so one run
reports everything. Nothing from the value itself is echoed except certificate subjects: it may hold a private
key.

Certificates are read through x509ext.py, the reader the proxy check uses too; ``cryptography`` is imported only
when a certificate is parsed, so importing the package stays cheap.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import re
from datetime import datetime
from typing import TYPE_CHECKING

from .findings import CheckResult, Finding, ProxyConfigError, error_at, warning_at
from .x509ext import (  # CertificateFacts, certificate_facts and aware_now are part of this module's API too
    CertificateFacts,
    aware_now,
    certificate_facts,
    load_der_certificate,
    load_pem_certificate,
    split_pem,
)

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["CertificateFacts", "aware_now", "certificate_facts", "check_trusted_ca", "describe_bundle",
           "encode_pem_bundle"]
MAX_CERTIFICATES = 20  # documented AKS limit
MAX_TRUSTED_CA_BYTES = 35 * 1024  # documented as "35 KB"; measured on the value as written in the file
EXPIRY_NOTICE_DAYS = 30
_WHITESPACE = re.compile(r"\s")
# Outside both base64 alphabets, whitespace aside (whitespace and `-`/`_` get findings of their own).
_NOT_BASE64_AT_ALL = re.compile(r"[^A-Za-z0-9+/=\s_-]")
_BASE64_OF_PEM = b"LS0tLS1CRUdJTi"  # base64("-----BEGIN"): the value was encoded twice
_ENCODE_FIX = "Encode the PEM file once, without line breaks: `base64 -w0 ca.pem` (macOS: `base64 -i ca.pem`)."


def check_trusted_ca(value: str, path: str, now: datetime) -> list[Finding]:
    """Every finding for a trustedCa string."""
    findings, _ = _analyse(value, path, now)
    return findings


def describe_bundle(trusted_ca_b64: str, *, now: datetime | None = None) -> list[CertificateFacts]:
    """Facts about each certificate in a trustedCa value.

    Expired or otherwise questionable certificates are described, not refused; ProxyConfigError is raised only
    when no certificate can be read from the value at all, or one of its certificates does not parse.
    """
    findings, facts = _analyse(trusted_ca_b64, "$.trustedCa", aware_now(now))
    unreadable = [f for f in findings if f.code in ("ca-empty", "ca-not-pem", "ca-cert-invalid")]
    if unreadable or not facts:
        raise ProxyConfigError(CheckResult(findings=[f for f in findings if f.is_error], source="trustedCa"))
    return facts


def encode_pem_bundle(pem_blobs: list[bytes]) -> str:
    """The trustedCa value for some PEM files: concatenated (newlines normalised, BOMs dropped), base64, one line."""
    if not pem_blobs:
        raise ValueError("encode_pem_bundle needs at least one PEM file")
    parts = []
    for blob in pem_blobs:
        text = blob.removeprefix(codecs.BOM_UTF8).replace(b"\r\n", b"\n").replace(b"\r", b"\n").strip()
        if text:
            parts.append(text + b"\n")
    return base64.b64encode(b"".join(parts)).decode("ascii")


def _analyse(value: str, path: str, now: datetime) -> tuple[list[Finding], list[CertificateFacts]]:
    findings: list[Finding] = []
    if value.strip() == "":
        findings.append(error_at(path, "ca-empty", "`trustedCa` is empty.",
                                 f"Remove `trustedCa` if the proxy needs no custom CA; otherwise: {_ENCODE_FIX}"))
        return findings, []
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_TRUSTED_CA_BYTES:
        findings.append(error_at(
            path, "ca-too-large",
            f"`trustedCa` is {size:,} bytes as written in the file; AKS accepts at most 35 KB "
            f"({MAX_TRUSTED_CA_BYTES:,} bytes of the base64 value).",
            "Keep only the CA certificates the proxy's certificate chains up to."))
    if "-----BEGIN" in value:
        findings.append(error_at(
            path, "ca-not-base64", "`trustedCa` holds raw PEM text; AKS expects the base64 encoding of the PEM file.",
            "Encode the file: `base64 -w0 ca.pem`, or let the extension build the config: "
            "`az aks http-proxy generate --trusted-ca-file ca.pem`."))
        facts = _check_pem(value, path, now, findings)
        return findings, facts
    data = _decode_base64(value, path, findings)
    if data is None:
        return findings, []
    if b"-----BEGIN" in data:
        return findings, _check_pem(data.decode("latin-1"), path, now, findings)
    if data[:1] == b"\x30":
        return findings, _check_der(data, path, now, findings)
    if data.startswith(_BASE64_OF_PEM):
        findings.append(error_at(path, "ca-not-pem", "`trustedCa` is base64-encoded twice.",
                                 "Encode the PEM file only once: `base64 -w0 ca.pem`."))
    else:
        findings.append(error_at(
            path, "ca-not-pem",
            "`trustedCa` does not decode to PEM text (no `-----BEGIN CERTIFICATE-----` line); the service would "
            "refuse it with HTTPProxyTrustedCAPEMDecodeFailure.",
            f"Check that the file you encoded is the PEM certificate (text starting with -----BEGIN CERTIFICATE-----). "
            f"{_ENCODE_FIX}"))
    return findings, []


def _decode_base64(value: str, path: str, findings: list[Finding]) -> bytes | None:
    """The decoded bytes, tolerating what can be repaired (after reporting it); None when undecodable."""
    bad = _NOT_BASE64_AT_ALL.search(value)
    if bad is not None:  # not base64 in any alphabet: one finding, not one per symptom
        char = bad.group().encode("unicode_escape").decode("ascii")
        findings.append(error_at(
            path, "ca-base64",
            f"`trustedCa` is not base64: character `{char}` at position {bad.start() + 1} is not in the alphabet.",
            _ENCODE_FIX))
        return None
    text = value
    if _WHITESPACE.search(text):
        breaks = text.count("\n")
        what = f"{breaks} line break(s)" if breaks else "spaces"
        findings.append(error_at(
            path, "ca-base64", f"`trustedCa` contains {what}; the service decodes base64 strictly, on one line.",
            _ENCODE_FIX))
        text = _WHITESPACE.sub("", text)
    if "-" in text or "_" in text:
        findings.append(error_at(
            path, "ca-base64", "`trustedCa` uses the URL-safe base64 alphabet (`-` and `_`); AKS needs the "
            "standard one (`+` and `/`).", _ENCODE_FIX))
        text = text.replace("-", "+").replace("_", "/")
    body = text.rstrip("=")
    if "=" in body or len(text) % 4 != 0 or len(text) - len(body) > 2:
        findings.append(error_at(
            path, "ca-base64", "`trustedCa` has incorrect base64 padding (the length must be a multiple of 4, "
            "with at most two `=` at the end); was it cut short?", _ENCODE_FIX))
        if "=" in body or len(body) % 4 == 1:
            return None
        text = body + "=" * (-len(body) % 4)
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        return None


def _check_der(data: bytes, path: str, now: datetime, findings: list[Finding]) -> list[CertificateFacts]:
    findings.append(error_at(
        path, "ca-der", "`trustedCa` decodes to binary DER data; AKS needs PEM text.",
        "Convert and encode: `openssl x509 -inform der -in ca.der -out ca.pem && base64 -w0 ca.pem`."))
    try:
        certificate = load_der_certificate(data)
    except ValueError:
        return []  # DER, but not a certificate: the finding above says enough
    facts = _facts_or_finding(certificate, 1, 1, path, now, findings)
    return [facts] if facts else []


def _pem_blocks(text: str, path: str, findings: list[Finding]) -> list[tuple[str, str]]:
    """(label, block text) for every complete PEM block; malformed framing becomes a ca-not-pem finding."""
    blocks, broken = split_pem(text)
    if broken:
        findings.append(error_at(
            path, "ca-not-pem", f"`trustedCa` has {broken} PEM block(s) whose BEGIN and END lines do not match "
            "(cut or pasted incompletely).",
            f"Re-export the certificates so each block is complete, then: {_ENCODE_FIX}"))
    elif not blocks:
        findings.append(error_at(path, "ca-not-pem", "`trustedCa` holds no PEM block.", _ENCODE_FIX))
    return blocks


def _check_pem(text: str, path: str, now: datetime, findings: list[Finding]) -> list[CertificateFacts]:
    blocks = _pem_blocks(text, path, findings)
    certificates = [block for label, block in blocks if label == "CERTIFICATE"]
    for position, (label, _) in enumerate(blocks, start=1):
        if "PRIVATE KEY" in label:
            findings.append(error_at(
                path, "ca-private-key",
                f"`trustedCa` PEM block {position} is a private key (`{label}`); trustedCa is copied to every "
                "node and readable through the API.",
                "Remove the key and keep only CERTIFICATE blocks; consider the key exposed if this file was shared."))
        elif label != "CERTIFICATE":
            hint = " (`openssl x509 -in ca.pem -out plain.pem` converts it)" if label == "TRUSTED CERTIFICATE" else ""
            findings.append(error_at(
                path, "ca-not-certificate", f"`trustedCa` PEM block {position} is a `{label}`, not a CERTIFICATE.",
                f"Keep only `-----BEGIN CERTIFICATE-----` blocks{hint}."))
    if len(certificates) > MAX_CERTIFICATES:
        findings.append(error_at(
            path, "ca-too-many", f"`trustedCa` holds {len(certificates)} certificates; AKS accepts at most "
            f"{MAX_CERTIFICATES}.", "Keep only the CA certificates the proxy's certificate chains up to."))
    if not certificates:
        return []
    facts: list[CertificateFacts] = []
    for index, block in enumerate(certificates, start=1):
        try:
            certificate = load_pem_certificate(block)
        except ValueError as exc:
            findings.append(_unparsable(path, index, len(certificates), exc))
            continue
        fact = _facts_or_finding(certificate, index, len(certificates), path, now, findings)
        if fact is not None:
            facts.append(fact)
    return facts


def _unparsable(path: str, index: int, count: int, exc: Exception) -> Finding:
    return error_at(
        path, "ca-cert-invalid", f"`trustedCa` certificate {index} of {count} cannot be parsed: {exc}",
        "Re-export that certificate from its source (`openssl x509 -in cert.pem -noout -text` must read it).")


def _facts_or_finding(certificate: x509.Certificate, index: int, count: int, path: str, now: datetime,
                      findings: list[Finding]) -> CertificateFacts | None:
    try:
        facts = certificate_facts(certificate, index, now)
    except ValueError as exc:  # malformed or duplicated extensions surface only when read
        findings.append(_unparsable(path, index, count, exc))
        return None
    findings.extend(_validity_findings(facts, count, path, now))
    return facts


def _validity_findings(facts: CertificateFacts, count: int, path: str, now: datetime) -> list[Finding]:
    which = f"`trustedCa` certificate {facts.index} of {count} (`{facts.subject or 'no subject'}`)"
    findings: list[Finding] = []
    if now > facts.not_after:
        findings.append(error_at(
            path, "ca-expired", f"{which} expired on {facts.not_after:%Y-%m-%d} ({facts.not_after.isoformat()}).",
            "Replace it with the renewed certificate, or remove it if the proxy no longer chains up to it.",
            facts.subject))
    elif now < facts.not_before:
        findings.append(error_at(
            path, "ca-not-yet-valid",
            f"{which} is not valid before {facts.not_before:%Y-%m-%d} ({facts.not_before.isoformat()}).",
            "Check the clock of the machine that issued it; nodes reject the certificate until that date.",
            facts.subject))
    elif facts.days_left < EXPIRY_NOTICE_DAYS:
        findings.append(warning_at(
            path, "ca-expiring-soon",
            f"{which} expires on {facts.not_after:%Y-%m-%d}, in {facts.days_left} day(s).",
            "Renew it now: nodes fail to reach the proxy once it has expired.", facts.subject))
    if not facts.is_ca:
        findings.append(warning_at(
            path, "ca-not-ca",
            f"{which} is not a CA certificate (no basicConstraints CA=true): it cannot vouch for another "
            "certificate, so it helps only if the proxy presents exactly this one.",
            "Put the CA that issued the proxy's certificate in trustedCa; `openssl s_client -connect "
            "proxy:3129 -showcerts` shows the chain the proxy presents.", facts.subject))
    # A dedicated issuing CA (CA with keyCertSign) needs no SANs; anything else may be what the proxy presents.
    if not facts.sans and not (facts.is_ca and facts.signs_certificates):
        findings.append(warning_at(
            path, "ca-no-san",
            f"{which} has no subjectAlternativeName. Go components (kubelet, containerd) ignore the Common Name and "
            "refuse certificates without SANs, so the certificate the proxy presents needs SANs.",
            "If the proxy presents this certificate, reissue it with SANs, e.g. `openssl req -x509 ... -addext "
            "\"subjectAltName=DNS:proxy.contoso.com\"`.", facts.subject))
    return findings
