"""Host grammar shared by the URL and noProxy rules: RFC 1123 names, IPv4 and IPv6 addresses."""
from __future__ import annotations

import ipaddress
import re

# One RFC 1123 label: letters, digits and inner hyphens, 1-63 characters.
LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
# A host name with an optional trailing dot (the root: `svc.cluster.local.`, accepted by AKS since April 2026).
HOST_NAME = re.compile(rf"{LABEL}(?:\.{LABEL})*\.?")
MAX_HOST_NAME = 253  # DNS limit on the dotted name, without the trailing dot
# Only digits and dots: meant as an IPv4 address, so `10.0.0.256` is a bad address rather than a host name.
_NUMERIC = re.compile(r"[0-9.]+")


def host_name_problem(host: str) -> str | None:
    """Why ``host`` is not an RFC 1123 host name or an IPv4 address; None when it is one."""
    if _NUMERIC.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "is not a valid IPv4 address"
        return None
    if HOST_NAME.fullmatch(host):
        if len(host.rstrip(".")) > MAX_HOST_NAME:
            return f"is longer than {MAX_HOST_NAME} characters"
        return None
    return _name_problem(host)


def is_underscore_name(host: str) -> bool:
    """Whether ``host`` is a host name but for `_` (Windows/AD names such as `my_host.contoso.com`).

    RFC 1123 forbids `_`; Go, curl and Python resolve and match such names, and whether AKS accepts them is not
    documented, so the rules warn instead of refusing.
    """
    return "_" in host and not _NUMERIC.fullmatch(host) and host_name_problem(host.replace("_", "a")) is None


def _name_problem(host: str) -> str:
    if not host.isascii():
        return "contains non-ASCII characters (international names must be written in punycode)"
    if "_" in host:
        return "contains `_`, which RFC 1123 host names do not allow"
    labels = host.rstrip(".").split(".")
    if any(label == "" for label in labels):
        return "has an empty label (two dots in a row, or a leading dot)"
    if any(len(label) > 63 for label in labels):
        return "has a label longer than 63 characters"
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        return "has a label that starts or ends with `-`"
    return "contains characters not allowed in a host name (letters, digits, `-` and `.` only)"


def punycode(host: str) -> str | None:
    """The ASCII (IDNA) spelling of an international host name, if it has one."""
    try:
        return host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None


def ipv6_problem(text: str) -> str | None:
    """Why ``text`` is not a plain IPv6 address (no zone index); None when it is one."""
    if "%" in text:
        return "has a zone index (`%...`), which proxies and AKS do not accept"
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return "is not a valid IPv6 address"
    return None
