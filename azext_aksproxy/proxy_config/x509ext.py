"""The three certificate extensions the rules need (basicConstraints, keyUsage, subjectAltName), read from DER.

cryptography refuses whole certificates over details that OpenSSL and Go accept: the CA in Azure CLI's own
HTTP-proxy test data sets keyUsage encipherOnly/decipherOnly without keyAgreement, and `cert.extensions` raises.
AKS nodes would accept that CA, so the extensions are read here, as tolerantly as Go does. cryptography has already
parsed the certificate's outer structure; anything malformed here raises ValueError.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

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
    sans: list[str] = field(default_factory=list)


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
