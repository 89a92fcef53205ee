"""What the proxy check reaches: target URLs, and the AKS egress endpoints used when none are given."""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from azext_aksproxy.config.findings import mask_secrets
from azext_aksproxy.config.urls import DEFAULT_PORTS

# The public endpoints every AKS node needs (AKS "required outbound network rules and FQDNs", Azure public cloud).
# The cluster's own API server (*.hcp.<region>.azmk8s.io) is left out: it is cluster-specific and normally
# covered by noProxy, which AKS extends with the API server's FQDN. `*.data.mcr.microsoft.com` is a wildcard, so
# one concrete regional data endpoint stands in for it.
DEFAULT_TARGETS: tuple[str, ...] = (
    "https://mcr.microsoft.com/",  # Microsoft Container Registry: system images
    "https://westus.data.mcr.microsoft.com/",  # MCR's CDN-backed storage (*.data.mcr.microsoft.com)
    "https://mcr-0001.mcr-msedge.net/",  # MCR's CDN
    "https://management.azure.com/",  # Azure Resource Manager, for Kubernetes operations against Azure
    "https://login.microsoftonline.com/",  # Microsoft Entra ID authentication
    "https://packages.microsoft.com/",  # Microsoft packages repository (Moby and others, for apt)
    "https://acs-mirror.azureedge.net/",  # node binaries such as kubenet and Azure CNI
    "https://packages.aks.azure.com/",  # the same binaries; replaces acs-mirror.azureedge.net
)

@dataclass(frozen=True)
class Target:
    """One endpoint to reach: ``https://host:port/path`` (through a CONNECT tunnel) or ``http://...`` (plain)."""

    scheme: str  # "http" or "https"
    host: str  # lower case; IPv6 without brackets
    port: int
    path: str = "/"

    @property
    def authority(self) -> str:
        """``host:port`` as written in CONNECT and Host headers (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        """The Host header: the port only when it is not the scheme's default, as HTTP clients write it."""
        if self.port == DEFAULT_PORTS[self.scheme]:
            return self.authority.rsplit(":", 1)[0]
        return self.authority

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    def __str__(self) -> str:
        return self.url


class TargetError(ValueError):
    """A target that cannot be checked; the message names it (masked) and says how to write it."""


def parse_target(text: str) -> Target:
    """One ``--target``: ``https://host[:port][/path]``, ``http://...``, or a bare ``host[:port]`` (read as https).

    Raises:
      TargetError: for anything else (another scheme, credentials, a bad host or port); the message names it.
    """
    raw = text.strip()
    shown = mask_secrets(raw)
    scheme, sep, rest = raw.partition("://")
    if not sep:
        scheme, rest = "https", raw
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise TargetError(f"Target {shown!r}: the scheme must be http or https, e.g. https://mcr.microsoft.com/.")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:].split("#", 1)[0] or "/"
    if not path.startswith("/"):
        path = "/" + path
    if "@" in authority:
        raise TargetError(f"Target {shown!r}: remove the user info; the check sends no credentials.")
    host, port = _split_authority(authority, shown)
    return Target(scheme, host.lower(), port if port is not None else DEFAULT_PORTS[scheme], path)


def parse_targets(texts: Iterable[str]) -> list[Target]:
    """Targets in the given order, duplicates dropped."""
    seen, targets = set(), []
    for text in texts:
        target = parse_target(text)
        if target not in seen:
            seen.add(target)
            targets.append(target)
    return targets


def _split_authority(authority: str, shown: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        host, close, after = authority[1:].partition("]")
        if not close or (after and not after.startswith(":")):
            raise TargetError(f"Target {shown!r}: write an IPv6 address as [fd00::1] or [fd00::1]:443.")
        port_text = after[1:] if after else None
        _check_ip(host, shown)
    elif authority.count(":") > 1:
        raise TargetError(f"Target {shown!r}: write an IPv6 address in brackets, e.g. https://[fd00::1]:443/.")
    else:
        host, colon, port_text_ = authority.partition(":")
        port_text = port_text_ if colon else None
    if not host:
        raise TargetError(f"Target {shown!r} has no host; write e.g. https://mcr.microsoft.com/.")
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise TargetError(f"Target {shown!r}: the port must be a number from 1 to 65535.")
    return host, int(port_text)


def _check_ip(host: str, shown: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise TargetError(f"Target {shown!r}: {host!r} is not an IPv6 address.") from None
