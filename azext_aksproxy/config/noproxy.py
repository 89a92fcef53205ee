"""Rules for ``noProxy``: destinations that bypass the proxy.

Each entry is a host name, a domain suffix with a leading dot (``.corp.com``), an IPv4/IPv6 address or a CIDR.
Everything here is one pass over the list with a dict for de-duplication: lists of thousands of entries happen
(generated from IPAM exports), so nothing may be quadratic.
"""
from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .bypass import NoProxy
from .findings import Finding, child_path, error_at, warning_at
from .hosts import (
    LABEL,
    MAX_HOST_NAME,
    host_name_problem,
    ipv6_problem,
    is_underscore_name,
    punycode,
)
from .urls import BAD_CHARS, describe_bad_char, host_of, mask_url

# The common cases, each decided by one regex: a host name or `.suffix` (optionally ending in a dot) that is not
# all digits, and a dotted-quad IPv4 address without leading zeros (what ipaddress accepts, ten times faster).
_PLAIN_NAME = re.compile(rf"(?![0-9.]*$)\.?{LABEL}(?:\.{LABEL})*\.?")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_PLAIN_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
# IPAM exports are mostly CIDRs and IPv6 addresses; ipaddress takes ~10 us for each, these regexes ~1 us. What
# they do not match (IPv6 CIDRs, embedded IPv4, anything odd) goes the careful way, through ipaddress.
_PLAIN_IPV4_CIDR = re.compile(rf"({_OCTET})\.({_OCTET})\.({_OCTET})\.({_OCTET})/(3[0-2]|[12]?[0-9])")
_HEXTET = r"[0-9A-Fa-f]{1,4}"
_PLAIN_IPV6 = re.compile(rf"(?:{_HEXTET}:){{7}}{_HEXTET}|(?:(?:{_HEXTET}:){{0,6}}{_HEXTET})?::"
                         rf"(?:(?:{_HEXTET}:){{0,6}}{_HEXTET})?")
_PREFIX = re.compile(r"[0-9]{1,3}")
_ACCEPTED_FORMS = "a host name (`example.com`), a domain suffix (`.example.com`), an IP address or a CIDR (`10.0.0.0/8`)"


def check_no_proxy(entries: list[Any], path: str) -> tuple[list[Finding], list[Any]]:
    """Findings for the noProxy list, and the list without case-insensitive repeats (first spelling, order kept).

    Entries that are not strings are kept and skipped: the type check reports them.
    """
    findings: list[Finding] = []
    kept: list[Any] = []
    first_seen: dict[str, int] = {}
    cidrs: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            kept.append(entry)
            continue
        plain = bool((_PLAIN_NAME.fullmatch(entry) and len(entry) <= MAX_HOST_NAME) or _PLAIN_IPV4.fullmatch(entry)
                     or is_plain_ipv6(entry))
        is_cidr = not plain and is_plain_ipv4_network(entry)
        if not plain and not is_cidr:
            problem, is_cidr = _check_entry(entry, child_path(path, index))
            if problem is not None:
                findings.append(problem)
                if problem.is_error:
                    kept.append(entry)
                    continue
        if entry.endswith(".") and not is_cidr:
            findings.append(_trailing_dot(entry, child_path(path, index)))
        key = entry.lower()
        if key in first_seen:
            first = first_seen[key]
            findings.append(warning_at(
                child_path(path, index), "noproxy-duplicate",
                f"noProxy entry `{entry}` repeats entry [{first}] (`{entries[first]}`); noProxy is case-insensitive, "
                "so it was dropped.",
                f"Remove the repeated entry [{index}] from noProxy.", entry))
            continue
        first_seen[key] = index
        kept.append(entry)
        if is_cidr:
            cidrs.append(entry)
    if cidrs:
        findings.append(_cidr_notice(path, cidrs))
    return findings, kept


def is_plain_ipv4_network(entry: str) -> bool:
    """Whether ``entry`` is an IPv4 CIDR with no host bits set, in the plain form (no leading zeros)."""
    match = _PLAIN_IPV4_CIDR.fullmatch(entry)
    if match is None:
        return False
    a, b, c, d, prefix = map(int, match.groups())
    return ((a << 24) | (b << 16) | (c << 8) | d) & ((1 << (32 - prefix)) - 1) == 0


def is_plain_ipv6(entry: str) -> bool:
    """Whether ``entry`` is an IPv6 address in hex groups only: eight of them, or at most seven around one `::`."""
    if _PLAIN_IPV6.fullmatch(entry) is None:
        return False
    return "::" not in entry or sum(1 for group in entry.split(":") if group) <= 7


def _check_entry(entry: str, path: str) -> tuple[Finding | None, bool]:
    """(the entry's error or None, whether it is a CIDR)."""
    if _PLAIN_NAME.fullmatch(entry) and len(entry.strip(".")) <= MAX_HOST_NAME:
        return None, False  # a long name with leading and trailing dots
    if entry == "":
        return error_at(path, "noproxy-empty", "noProxy has an empty entry.",
                        "Remove the empty string from noProxy.", entry), False
    if "," in entry:
        parts = [p.strip() for p in entry.split(",") if p.strip()]
        listed = ", ".join(json.dumps(mask_url(p)) for p in parts)
        return error_at(path, "noproxy-comma", "noProxy entry holds several hosts separated by commas.",
                        f"Make each host its own list item: [{listed}].", mask_url(entry)), False
    if BAD_CHARS.search(entry):
        words = BAD_CHARS.sub(" ", entry).split()
        if len(words) > 1:
            fix = f"Make each host its own list item: [{', '.join(json.dumps(mask_url(w)) for w in words)}]."
        else:
            fix = f"Remove it: `{mask_url(words[0])}`." if words else "Remove the entry."
        return error_at(path, "noproxy-whitespace", f"noProxy entry contains {describe_bad_char(entry)}.",
                        fix, mask_url(entry)), False
    if "://" in entry:
        host = host_of(entry)
        fix = f"Write just the host: `{host}`." if host else f"Write just the host: {_ACCEPTED_FORMS}."
        return error_at(path, "noproxy-url", "noProxy entry is a URL; noProxy matches hosts, not URLs.",
                        fix, mask_url(entry)), False
    if "@" in entry:  # user info: never echo what precedes the `@`
        host = entry.rpartition("@")[2].partition(":")[0].partition("/")[0]
        return error_at(path, "noproxy-invalid", "noProxy entry contains `@`; noProxy takes hosts, not user info.",
                        f"Write just the host: `{host}`." if host else f"Write {_ACCEPTED_FORMS}.",
                        mask_url(entry)), False
    if "*" in entry:
        return _wildcard(entry, path), False
    if entry.startswith("["):
        return _bracketed(entry, path), False
    if "/" in entry:
        return _cidr_problem(entry, path), True
    return _address_or_name_problem(entry, path), False


def _wildcard(entry: str, path: str) -> Finding:
    if entry == "*":
        return error_at(path, "noproxy-wildcard",
                        "noProxy entry `*` (bypass the proxy for everything) is not supported by AKS.",
                        "List the destinations that must bypass the proxy, or remove the HTTP proxy config.", entry)
    if entry.startswith("*.") and "*" not in entry[1:]:
        return error_at(path, "noproxy-wildcard",
                        "noProxy entry uses a `*.` wildcard, which AKS does not support; a leading dot already "
                        "matches every subdomain.",
                        f"Write `{entry[1:]}`.", entry)
    return error_at(path, "noproxy-wildcard", "noProxy entry contains `*`; AKS does not support wildcards.",
                    "Write a domain suffix with a leading dot instead (`.example.com` matches every subdomain).",
                    entry)


def _bracketed(entry: str, path: str) -> Finding:
    close = entry.find("]")
    address = entry[1:close] if close > 0 else entry.strip("[]")
    fix = (f"Write the address without brackets: `{address}` (ports are not matched)."
           if ipv6_problem(address) is None else "Write an IPv6 address without brackets, e.g. `fd00::1`.")
    return error_at(path, "noproxy-brackets", "noProxy entry is a bracketed IPv6 address; noProxy takes it bare.",
                    fix, entry)


def _cidr_problem(entry: str, path: str) -> Finding | None:
    address, _, prefix = entry.partition("/")
    if _PREFIX.fullmatch(prefix):
        try:
            ipaddress.ip_network(entry, strict=True)
            return None
        except ValueError:
            pass
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            network = None
        if network is not None:
            return error_at(path, "noproxy-bad-cidr",
                            f"noProxy CIDR `{entry}` has host bits set after the /{prefix} prefix.",
                            f"Write the network address: `{network}`.", entry)
        version: int = 0
        try:
            version = ipaddress.ip_address(address).version
        except ValueError:
            pass
        if version:
            limit = 32 if version == 4 else 128
            return error_at(path, "noproxy-bad-cidr",
                            f"noProxy CIDR `{entry}` has the prefix /{prefix}; IPv{version} prefixes go up to /{limit}.",
                            f"Use a prefix from /0 to /{limit}, e.g. `{address}/{limit}` for the single address.",
                            entry)
    return error_at(path, "noproxy-bad-cidr", f"noProxy entry `{entry}` is not a valid CIDR (address/prefix).",
                    "Write a CIDR as network-address/prefix-length, e.g. `10.0.0.0/8` or `fd00::/8`.", entry)


def _address_or_name_problem(entry: str, path: str) -> Finding | None:
    colons = entry.count(":")
    if colons == 1:
        host = entry.partition(":")[0]
        return error_at(path, "noproxy-port", "noProxy entry has a port; noProxy matches hosts, not ports.",
                        f"Write just the host: `{host}`." if host else f"Write {_ACCEPTED_FORMS}.", mask_url(entry))
    if colons > 1:
        problem = ipv6_problem(entry)
        if problem is None:
            return None
        return error_at(path, "noproxy-invalid", f"noProxy entry `{entry}` {problem}.",
                        f"Write {_ACCEPTED_FORMS}.", entry)
    name = entry[1:] if entry.startswith(".") and not entry.startswith("..") else entry
    if is_underscore_name(name):
        return _underscore(entry, path)
    problem = host_name_problem(name)
    if problem is None and name != entry and not any(c.isalpha() for c in name):
        problem = "is an address with a leading dot; a leading dot only goes before a domain name"
    if problem is None:
        return None
    fix = f"Write {_ACCEPTED_FORMS}."
    ascii_name = None if entry.isascii() else punycode(entry)
    if ascii_name:
        fix = f"Write the name in punycode: `{ascii_name}`."
    return error_at(path, "noproxy-invalid", f"noProxy entry `{entry}` {problem}.", fix, mask_url(entry))


def _underscore(entry: str, path: str) -> Finding:
    parent = entry.lstrip(".").partition(".")[2].rstrip(".")
    cover = f"a suffix without it that covers the host (`.{parent}`)" if "_" not in parent and "." in parent else (
        "an alias without `_`")
    return warning_at(
        path, "noproxy-underscore",
        f"noProxy entry `{entry}` contains `_`, which RFC 1123 host names do not allow. Whether AKS accepts it is "
        "not documented: its noProxy check followed RFC 1123 from March 2026, was relaxed on 2026-04-02 and runs "
        "only when noProxy changes (AKS CHANGELOG). Go, curl and Python clients match such names.",
        f"Keep it if the update succeeds; if the service refuses it, write {cover}.", entry)


def _trailing_dot(entry: str, path: str) -> Finding:
    return warning_at(
        path, "noproxy-trailing-dot",
        f"noProxy entry `{entry}` ends with `.`: AKS refused such entries from March 2026 until it relaxed its check "
        "on 2026-04-02 (fluxcd/kustomize-controller#1623), and many NO_PROXY implementations compare names "
        "literally, so it covers only requests written with the dot.",
        f"Also list `{entry.rstrip('.')}`, or write only that form.", entry)


def _cidr_notice(path: str, cidrs: list[str]) -> Finding:
    return warning_at(
        path, "noproxy-cidr",
        f"noProxy has {len(cidrs)} CIDR entr{'y' if len(cidrs) == 1 else 'ies'}: Go and Ruby clients honour CIDRs in "
        "NO_PROXY, but Python (urllib, requests) and curl before 7.86 ignore them and send that traffic to the proxy.",
        "Also list the host names or domain suffixes (`.corp.contoso.com`) that resolve into these ranges.",
        ", ".join(cidrs))


# Kubernetes service names as pods write them: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`. AKS's
# cluster DNS domain is always cluster.local (the API has no setting for it).
IN_CLUSTER_SUFFIXES = (".svc", ".cluster.local")
# One name of each form a suffix is for (service `svc` in namespace `ns`), judged by the matcher the node's Go
# components use (bypass.py): `svc.` or `cluster.local.` with a trailing dot covers neither.
_IN_CLUSTER_NAMES = ("svc.ns.svc", "svc.ns.svc.cluster.local")


@dataclass(frozen=True)
class ClusterNetwork:
    """What the cluster tells about in-cluster traffic: its service CIDRs, DNS service IP and service mesh."""

    service_cidrs: tuple[str, ...] = ()
    dns_service_ip: str | None = None
    istio: bool = False


def missing_in_cluster_suffixes(entries: Sequence[Any] | None) -> list[str]:
    """Which of `.svc` and `.cluster.local` noProxy lacks: those whose names no entry covers (an entry for a parent
    domain covers a suffix too). `*` wildcards never reach a node (AKS refuses them: noproxy-wildcard), so they
    cover nothing here."""
    matcher = NoProxy([e for e in entries or [] if isinstance(e, str) and "*" not in e])
    return [suffix for suffix, name in zip(IN_CLUSTER_SUFFIXES, _IN_CLUSTER_NAMES)
            if matcher.covering(name, 80) is None]


def in_cluster_finding(entries: Sequence[Any] | None, path: str,
                       network: ClusterNetwork | None = None) -> Finding | None:
    """A notice when noProxy leaves in-cluster names to the proxy; None when `.svc` and `.cluster.local` are covered.

    AKS puts the pod and service CIDRs into NO_PROXY but no names, and curl and Python ignore CIDRs, so
    `http://svc.ns.svc.cluster.local` from such a pod goes to the proxy (Azure/AKS#3174, #205, #2887, #5034).
    """
    missing = missing_in_cluster_suffixes(entries)
    if not missing:
        return None
    svc_ok, fqdn_ok = (suffix not in missing for suffix in IN_CLUSTER_SUFFIXES)
    forms = [form for form, ok in (("`svc.ns.svc`", svc_ok), ("`svc.ns.svc.cluster.local`", fqdn_ok)) if not ok]
    where = "noProxy is not set" if entries is None else f"noProxy has no {' or '.join(f'`{m}`' for m in missing)}"
    message = (f"{where}: requests from pods to {' and '.join(forms)} (and to short names `svc`, `svc.ns`, which no "
               "suffix covers) go to the proxy. AKS adds the pod and service CIDRs to NO_PROXY, but curl and Python "
               "(urllib, requests) ignore CIDRs and match names only.")
    if network is not None:
        if network.service_cidrs:
            dns = f", cluster DNS {network.dns_service_ip}" if network.dns_service_ip else ""
            message += (f" This cluster's services are in {', '.join(network.service_cidrs)}{dns}; its DNS domain "
                        "is cluster.local.")
        if network.istio:
            message += (" The cluster runs the Istio add-on: Istio also needs a ServiceEntry for the proxy host "
                        "(AKS docs, Istio add-on with an HTTP proxy; Azure/AKS#4465).")
    return warning_at(
        path, "noproxy-in-cluster", message,
        f"Add {' and '.join(f'`{m}`' for m in missing)} to noProxy (az aks http-proxy generate adds them), and call "
        "services as `svc.ns.svc` or by their full name rather than `svc` or `svc.ns`.")
