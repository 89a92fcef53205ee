"""The proxy verdicts, each defined once (code, message, fix) for the local check (:mod:`probe`) and the node check
(:mod:`node_probe`): they differ only in what was seen (a status line here, curl's exit and message on a node) and
in where it was seen (``where``: None for this machine, e.g. "node aks-nodepool1-1234-vmss000000" otherwise).

Pure: no azure-cli import.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .probe import Proxy
    from .targets import Target


class Problem(NamedTuple):
    code: str
    message: str
    fix: str


def _lead(where: str | None, text: str) -> str:
    return f"From {where}, {text}" if where else text[:1].upper() + text[1:]


def proxy_auth_required(where: str | None, p: Proxy, what: str, said: str) -> Problem:
    return Problem("proxy-auth-required",
                   _lead(where, f"{p.field} {p.url} answered {what} with {said}: it wants credentials, and AKS has no "
                                "proxy authentication."),
                   "Let the proxy accept the cluster's egress addresses without credentials.")


def proxy_error(where: str | None, p: Proxy, t: Target, what: str, said: str) -> Problem:
    return Problem("proxy-error",
                   _lead(where, f"{p.field} {p.url} answered {what} with {said}: it could not reach the target."),
                   f"Check the proxy's DNS, firewall and route to {t.authority}, and that the target is up.")


def connect_refused(where: str | None, p: Proxy, t: Target, what: str, said: str) -> Problem:
    return Problem("connect-refused", _lead(where, f"{p.field} {p.url} refused {what}: {said}."),
                   f"Allow CONNECT to {t.authority} in the proxy's access rules (e.g. squid's SSL_ports and "
                   f"http_access), or add {t.host} to noProxy if nodes may reach it directly.")


def proxy_unreachable(where: str | None, p: Proxy, reason: str) -> Problem:
    message = f"{where[:1].upper() + where[1:]} cannot reach" if where else "Cannot reach"
    fix = (f"Start the proxy or correct host and port in {p.field}, and let the nodes' subnet reach it; the proxy "
           "must answer before the cluster uses it.")
    if where is None:
        fix += " Run this check from a machine in the cluster's network."
    return Problem("proxy-unreachable", f"{message} {p.field} {p.url}: {reason}.", fix)


def tls_handshake(where: str | None, peer: str, reason: str) -> Problem:
    return Problem("tls-handshake", _lead(where, f"TLS with {peer} failed: {reason}."),
                   "Check that the proxy passes TLS through or intercepts it with a certificate for the host; an "
                   "https:// proxy URL needs a proxy that speaks TLS on that port.")


def target_unreachable(where: str | None, p: Proxy, t: Target, reason: str, tunnel: bool = False) -> Problem:
    if tunnel:
        return Problem("target-unreachable",
                       _lead(where, f"{p.field} {p.url} did not open a tunnel to {t.authority}: {reason}."),
                       f"Check that the proxy accepts CONNECT and can reach {t.authority}.")
    return Problem("target-unreachable", _lead(where, f"through {p.field} {p.url}, {t.url} did not answer: {reason}."),
                   f"Check that the proxy can reach {t.host} (its firewall, DNS and route).")
