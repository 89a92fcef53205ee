"""noProxy matching as the Go components on an AKS node do it (golang.org/x/net/http/httpproxy).

- ``*`` covers every host.
- An IP address covers that address; a CIDR covers the addresses in it. Neither covers host names.
- A name covers itself and its subdomains (``corp.com`` covers ``corp.com`` and ``a.corp.com``); with a leading dot
  (``.corp.com``, or ``*.corp.com`` which Go reads the same way) only the subdomains. Names never cover IPs.
- ``host:port`` covers only that port.

One difference on purpose: Go never proxies ``localhost`` or loopback addresses, whatever noProxy says. That rule
is about the node's own loopback, not about whether a proxy works, so it is not applied here.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class _Entry:
    text: str  # as written in noProxy, for messages
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None  # IP and CIDR entries
    domain: str | None = None  # name entries, always with a leading dot
    match_bare: bool = False  # the name itself is covered too (no leading dot was written)
    port: int | None = None
    everything: bool = False

    def covers(self, host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: int) -> bool:
        if self.everything:
            return True
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return ip is not None and ip.version == self.network.version and ip in self.network
        if self.domain is None or ip is not None:
            return False
        return host.endswith(self.domain) or (self.match_bare and host == self.domain[1:])


class NoProxy:
    """The noProxy list of a config; :meth:`covering` says which entry (if any) sends a host around the proxy."""

    def __init__(self, entries: Iterable[str] = ()):
        self.entries: list[_Entry] = [e for e in (_parse(text) for text in entries) if e is not None]

    def covering(self, host: str, port: int) -> str | None:
        """The first noProxy entry that covers ``host:port``, as written; None when the proxy is used."""
        host = host.strip().lower().strip("[]")
        ip = _ip(host)
        for entry in self.entries:
            if entry.covers(host, ip, port):
                return entry.text
        return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse(text: str) -> _Entry | None:
    entry = text.strip().lower()
    if not entry:
        return None
    if entry == "*":
        return _Entry(text, everything=True)
    if "/" in entry:
        try:
            return _Entry(text, network=ipaddress.ip_network(entry, strict=False))
        except ValueError:
            return None  # Go skips what it cannot parse, and so does the node
    host, port = _split_port(entry)
    if host is None:
        return None
    ip = _ip(host)
    if ip is not None:
        return _Entry(text, network=ipaddress.ip_network(ip), port=port)
    if host.startswith("*."):
        host = host[1:]
    if host.startswith("."):
        return _Entry(text, domain=host, port=port)
    return _Entry(text, domain="." + host, match_bare=True, port=port)


def _split_port(entry: str) -> tuple[str | None, int | None]:
    """(host, port) of ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6; (None, None) if malformed."""
    if entry.startswith("["):
        host, close, after = entry[1:].partition("]")
        if not close or not host:
            return None, None
        if not after:
            return host, None
        return (host, int(after[1:])) if after[:1] == ":" and after[1:].isdigit() else (None, None)
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if not host or not port.isdigit():
            return None, None
        return host, int(port)
    return entry, None
