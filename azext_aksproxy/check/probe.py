"""Reach each target through the config's proxies, as a node would, and judge what comes back."""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from azext_aksproxy.config.findings import Finding, mask_secrets
from azext_aksproxy.config.urls import DEFAULT_PORTS

from ..config.bypass import NoProxy
from . import chain as chains
from . import verdicts, wire
from .results import TargetResult, TlsReport, finding
from .targets import Target
from .verdicts import Problem

_MAX_PARALLEL = 8  # the default targets all run at once; a long --target list is not a flood
# What proxies answer when they cannot reach the target (squid: 503 ERR_CONNECT_FAIL, mitmproxy: 502). Through a
# tunnel the target itself could send them, but a target answering so is not reachable in any useful sense either.
_GATEWAY_ERRORS = (502, 503, 504)


@dataclass(frozen=True)
class Proxy:
    field: str  # "httpProxy" or "httpsProxy": where the URL came from
    url: str  # masked, as shown
    scheme: str
    host: str
    port: int

    @classmethod
    def from_config(cls, field: str, url: str) -> Proxy:
        parts = urlsplit(url)
        scheme = (parts.scheme or "http").lower()
        return cls(field, mask_secrets(url), scheme, parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme, 80))


@dataclass(frozen=True)
class Trust:
    """The two sets of anchors a node uses: the public roots of its OS image, and the config's trustedCa."""

    public: Sequence[x509.Certificate]
    trusted_ca: Sequence[x509.Certificate]


def check_targets(config: Mapping[str, Any], targets: Sequence[Target], timeout: float = 10.0,
                  public_roots: Sequence[x509.Certificate] | None = None) -> list[TargetResult]:
    """Reach every target through the config's proxies (in parallel), as a node would, and judge the answers.

    Args:
      config: a canonical proxy config (REST keys), e.g. ``check_file(...).config``.
      targets: from :func:`parse_targets`.
      timeout: seconds for each target (connect, tunnel, TLS and the first response together).
      public_roots: the anchors nodes trust without trustedCa; defaults to :func:`chain.public_roots` (Mozilla's).

    Returns:
      One TargetResult per target, in the order of ``targets``. Never raises for what the network does: a
      refused connection, a bad certificate or an unreadable chain is a finding of that target.
    """
    trust = trust_for(config, chains.public_roots() if public_roots is None else public_roots)
    no_proxy = NoProxy(config.get("noProxy") or [])
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(_MAX_PARALLEL, len(targets))) as pool:
        return list(pool.map(lambda t: check_target(config, t, no_proxy, trust, timeout), targets))


def trust_for(config: Mapping[str, Any], public_roots: Sequence[x509.Certificate]) -> Trust:
    """The anchors a node judges with after the update: the public roots and the NEW trustedCa, nothing else."""
    return Trust(public_roots, chains.trusted_ca_certificates(config.get("trustedCa")))


def route_for(config: Mapping[str, Any], target: Target, no_proxy: NoProxy) -> tuple[str, Proxy | None, str | None]:
    """How a node reaches ``target`` under ``config``: (via, proxy, the noProxy entry that sends it direct)."""
    entry = no_proxy.covering(target.host, target.port)
    if entry is not None:
        return "noProxy", None, entry
    proxy = proxy_for(config, target)
    return (proxy.field, proxy, None) if proxy is not None else ("direct", None, None)


def proxy_for(config: Mapping[str, Any], target: Target) -> Proxy | None:
    """The proxy a node uses for ``target``: httpsProxy (or httpProxy when absent) for https, httpProxy for http."""
    if target.scheme == "https" and config.get("httpsProxy"):
        return Proxy.from_config("httpsProxy", config["httpsProxy"])
    if config.get("httpProxy"):
        return Proxy.from_config("httpProxy", config["httpProxy"])
    return None


def check_target(config: Mapping[str, Any], target: Target, no_proxy: NoProxy, trust: Trust, timeout: float) -> TargetResult:
    _via, proxy, entry = route_for(config, target, no_proxy)
    if entry is not None:
        return TargetResult(target, "noProxy", findings=[finding(
            "bypass", target, f"noProxy entry {entry!r} covers {target.host}: nodes connect to it directly, not "
                              "through the proxy, so the proxy is not checked for it.")])
    if proxy is None:
        return TargetResult(target, "direct", findings=[finding(
            "direct", target, f"The config has no proxy for {target.scheme}:// targets: nodes reach "
                              f"{target.host} directly, so no proxy is checked for it.")])
    return _Probe(target, proxy, trust, timeout).run()


class _Probe:
    """One target through one proxy: connect, (TLS to the proxy), CONNECT or GET, (TLS to the target), GET."""

    def __init__(self, target: Target, proxy: Proxy, trust: Trust, timeout: float):
        self.target, self.proxy, self.trust, self.timeout = target, proxy, trust, timeout
        self.result = TargetResult(target, proxy.field, proxy.url)
        self.stage = "connect"

    def run(self) -> TargetResult:
        start = time.monotonic()
        tcp = None
        try:
            tcp = wire.TcpStream(self.proxy.host, self.proxy.port, start + self.timeout)
            stream: wire.TcpStream | wire.TlsStream = tcp
            if self.proxy.scheme == "https":
                self.stage = "proxy-tls"
                stream = proxy_tls = wire.TlsStream(tcp, self.proxy.host, "proxy-tls")
                self.result.proxy_tls = self._judge_chain(proxy_tls, self.proxy.host, "the proxy's own certificate")
            head = self._https(stream) if self.target.scheme == "https" else self._http(stream)
            if head is not None:
                self.result.reached, self.result.status = True, head.status
                self.result.latency_ms = wire.elapsed_ms(start)
        except wire.WireError as exc:
            self._fail(exc.stage, exc.reason)
        except TimeoutError:
            self._fail(self.stage, f"no answer within {self.timeout:g} s (timed out)")
        except OSError as exc:
            self._fail(self.stage, exc.strerror or str(exc))
        finally:
            if tcp is not None:
                tcp.close()
        if not self.result.findings or not self.result.failed:
            self.result.findings.insert(0, self._reached())
        return self.result

    def _https(self, stream: wire.Stream) -> wire.ResponseHead | None:
        self.stage = "tunnel"
        authority = self.target.authority
        head = wire.request(stream, "CONNECT", authority, authority, "tunnel")
        if not 200 <= head.status < 300:
            self._refused(head, f"CONNECT {authority}")
            return None
        self.stage = "tls"
        tls = wire.TlsStream(stream, self.target.host, "tls")
        self.result.tls = self._judge_chain(tls, self.target.host, "the certificate presented for the target")
        self.stage = "http"
        return self._answered(wire.request(tls, "GET", self.target.path, self.target.host_header, "http"))

    def _http(self, stream: wire.Stream) -> wire.ResponseHead | None:
        self.stage = "http"
        return self._answered(wire.request(stream, "GET", self.target.url, self.target.host_header, "http"))

    def _answered(self, head: wire.ResponseHead) -> wire.ResponseHead | None:
        """``head`` when the target answered; None (and a finding) when the proxy answered in its place."""
        if head.status == 407 or head.status in _GATEWAY_ERRORS:
            self._refused(head, f"GET {self.target.url}")
            return None
        return head

    def _refused(self, head: wire.ResponseHead, what: str) -> None:
        p, t = self.proxy, self.target
        said = f"{head.status} {head.reason}".strip()
        squid_error = head.headers.get("x-squid-error")
        if squid_error:
            said += f" ({squid_error})"
        if head.status == 407:
            self._add(*verdicts.proxy_auth_required(None, p, what, said))
        elif head.status in _GATEWAY_ERRORS:
            self._add(*verdicts.proxy_error(None, p, t, what, said))
        else:
            self._add(*verdicts.connect_refused(None, p, t, what, said))

    def _fail(self, stage: str, reason: str) -> None:
        p, t = self.proxy, self.target
        if stage == "connect":
            self._add(*verdicts.proxy_unreachable(None, p, reason))
        elif stage in ("tls", "proxy-tls"):
            peer = "the proxy" if stage == "proxy-tls" else f"{t.host} through {p.field} {p.url}"
            self._add(*verdicts.tls_handshake(None, peer, reason))
        else:
            self._add(*verdicts.target_unreachable(None, p, t, reason, tunnel=stage == "tunnel"))

    def _judge_chain(self, stream: wire.TlsStream, host: str, what: str) -> TlsReport:
        report, problems = judge_chain(stream.peer_chain_der(), host, self.trust, what)
        for code, message, fix in problems:
            self._add(code, message, fix)
        return report

    def _reached(self) -> Finding:
        r, p = self.result, self.proxy
        message = f"Reached through {p.field} {p.url}: HTTP {r.status} in {r.latency_ms} ms."
        if r.tls is not None:
            issuer = r.tls.leaf_issuer or "?"
            if r.tls.intercepted:
                message += (f" TLS is intercepted (the chain is issued by {issuer!r}, not a public CA) and trusted "
                            f"through trustedCa ({r.tls.anchor!r}).")
            else:
                message += f" TLS passes through: the chain is issued by {issuer!r} and publicly trusted."
        return finding("reached", self.target, message)

    def _add(self, code: str, message: str, fix: str) -> None:
        self.result.findings.append(finding(code, self.target, message, fix))


def judge_chain(ders: Sequence[bytes], host: str, trust: Trust, what: str,
                leaf_checked_on: str | None = None) -> tuple[TlsReport, list[Problem]]:
    """The report for a presented chain, and its problems. With ``leaf_checked_on`` (where the leaf was already
    checked against ``ders[0]`` for names, dates and signature: node_probe) ``ders`` start at the leaf's issuer."""
    what = what[:1].upper() + what[1:]  # it starts every message
    if not ders:
        return TlsReport([], None, True), [Problem("tls-handshake", f"{what} is missing: the peer presented none.",
                                                   "Check the proxy's TLS settings.")]
    read = chains.read_chain(ders)
    offset = 1 if leaf_checked_on else 0  # positions are told with the leaf as 1
    problems = [Problem(
        "tls-unreadable", f"{what} ({host}): certificate {position + offset} of {read.size + offset} in the chain "
                          f"presented cannot be read ({why}); nodes cannot verify a chain through it.",
        f"Inspect the chain with `openssl s_client -connect <proxy> -showcerts` and re-issue the certificate at "
        f"position {position + offset} (1 is the leaf).") for position, why in read.unreadable]
    if not read.leaf_readable:
        return TlsReport(read.facts, None, True, leaf_checked_on=leaf_checked_on), problems
    certs = read.certs
    verify = chains.verify_issuer_path if leaf_checked_on else chains.verify_path
    public = verify(certs, trust.public)
    own = public if public.ok else verify(certs, trust.trusted_ca)
    trusted_by = "public roots" if public.ok else "trustedCa" if own.ok else None
    anchor = own.anchor.subject.rfc4514_string() if own.ok and own.anchor is not None else None
    report = TlsReport(read.facts, trusted_by, intercepted=public.anchor is None, anchor=anchor,
                       leaf_checked_on=leaf_checked_on)
    leaf_issuer = certs[0].subject if leaf_checked_on else certs[0].issuer
    expired = own.problem or public.problem
    if trusted_by is None and expired:
        problems.append(Problem(
            "tls-expired", f"{what} ({host}) chains to a trusted CA, but {expired}.",
            "Renew the certificate (on the proxy, or in trustedCa if it is the CA there)."))
    elif trusted_by is None:
        problems.append(_untrusted(what, host, trust, leaf_issuer, str(report.leaf_issuer)))
    if not leaf_checked_on:
        problems += _name_problems(what, host, certs[0], read.facts[0])
    return report, problems


def _untrusted(what: str, host: str, trust: Trust, issuer: x509.Name, issuer_text: str) -> Problem:
    subjects = ", ".join(repr(c.subject.rfc4514_string()) for c in trust.trusted_ca)
    held = (f"trustedCa ({len(trust.trusted_ca)} certificate(s): {subjects})" if trust.trusted_ca
            else "trustedCa (absent from the config)")
    # A trustedCa certificate with the issuer's name that did not sign: a re-keyed or renewed CA, most likely.
    namesake = any(c.subject == issuer for c in trust.trusted_ca)
    rekeyed = (f" trustedCa does hold a certificate named {issuer_text!r}, but its key did not sign this "
               "certificate: the proxy signs with another key under the same name (a renewed or re-keyed CA?)."
               if namesake else "")
    return Problem(
        "tls-untrusted",
        f"{what} ({host}) is issued by {issuer_text!r}, which neither the public roots nor {held} lead to: "
        f"the proxy intercepts TLS with a CA that the nodes will not trust.{rekeyed}",
        f"Put the PEM of the CA {issuer_text!r} that the proxy signs with into trustedCa (base64 of the PEM "
        "text), or let the proxy pass this host through without interception.")


def _name_problems(what: str, host: str, leaf: x509.Certificate, facts: chains.CertFacts) -> list[Problem]:
    name = chains.name_problem(leaf, host)
    if name == "no-san":
        return [Problem(
            "tls-no-san",
            f"{what} ({host}; subject {facts.subject!r}, issued by {facts.issuer!r}) has no subjectAltName: Go "
            "components on the nodes (kubelet, containerd) refuse CN-only certificates.",
            "Make the proxy issue certificates with a subjectAltName for each host it intercepts.")]
    if name == "mismatch":
        return [Problem(
            "tls-name-mismatch", f"{what} names {', '.join(facts.sans or ())}, not {host}.",
            f"Make the proxy present a certificate whose subjectAltName covers {host}.")]
    return []
