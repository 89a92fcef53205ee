"""Rules for the proxy URLs, ``httpProxy`` and ``httpsProxy``.

A proxy URL is ``scheme://host[:port]/`` and nothing else: AKS hands it to every node and pod as HTTP_PROXY /
HTTPS_PROXY, and has no proxy authentication. When ``httpsProxy`` is absent, AKS uses ``httpProxy`` for HTTPS
traffic too, so an absent ``httpsProxy`` is not a finding; only both absent is.

The URL is split by hand rather than with ``urllib.parse``: urlsplit silently drops tabs and newlines, reads
``proxy:3128`` as scheme ``proxy``, and splits user info at the first ``@`` although passwords often hold one.
"""
from __future__ import annotations

import re

from .findings import Finding, error_at, warning_at
from .hosts import host_name_problem, ipv6_problem, is_underscore_name, punycode

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(?!/)")
# `http:proxy`, `http:/proxy` or `http:///proxy`: an http(s) scheme whose `//` is mistyped.
_MISTYPED_SCHEME = re.compile(r"(?i)(https?):/*")
# Whitespace (Unicode-aware) and ASCII control characters: never valid in a URL, often pasted by accident.
BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_PORT = re.compile(r"[0-9]{1,5}")
DEFAULT_PORTS = {"http": 80, "https": 443}
EXAMPLE_URL = "http://proxy.contoso.com:3128/"


def mask_url(text: str) -> str:
    """``text`` with everything between the scheme (if any) and the last ``@`` replaced by ``***``.

    Unlike :func:`mask_secrets` this also covers URLs written without a scheme (``user:pass@proxy:3128``).
    """
    at = text.rfind("@")
    if at < 0:
        return text
    scheme = _SCHEME.match(text)
    start = scheme.end() if scheme else 0
    return text[:start] + "***" + text[at:]


def describe_bad_char(text: str) -> str:
    """A human name for the first whitespace/control character in ``text`` and where it is."""
    match = BAD_CHARS.search(text)
    if match is None:
        return "no bad character"
    char = match.group()
    names = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}
    name = names.get(char, f"the control or space character U+{ord(char):04X}")
    return f"{name} at position {match.start() + 1}"


def check_proxy_url(value: str, path: str, field: str) -> list[Finding]:
    """Findings for one proxy URL; ``field`` is ``httpProxy`` or ``httpsProxy``. Empty strings are not checked."""
    shown = mask_url(value)
    findings: list[Finding] = []
    if BAD_CHARS.search(value):
        findings.append(error_at(
            path, "url-whitespace", f"`{field}` contains {describe_bad_char(value)}.",
            "Remove all spaces, tabs and line breaks from the URL"
            + (f": `{BAD_CHARS.sub('', shown)}`." if BAD_CHARS.sub("", value) else "."),
            shown))
        value = BAD_CHARS.sub("", value)
        if not value:
            return findings
    parts = _UrlParts.split(value)
    allowed = ("http", "https") if field == "httpsProxy" else ("http",)
    scheme_ok = parts.scheme in allowed and not parts.mistyped_scheme
    fixed_scheme = parts.scheme if parts.scheme in allowed else "http"
    suggestion = f"{fixed_scheme}://{parts.fixed_host_port or 'proxy.contoso.com:3128'}/"

    if not scheme_ok:
        findings.append(_scheme_finding(parts, path, field, suggestion, shown))
    if parts.userinfo is not None:
        findings.append(error_at(
            path, "url-credentials",
            f"`{field}` contains user info (`user:password@`): AKS does not support proxy authentication, and the "
            "URL would be copied into every node's and pod's environment.",
            f"Remove the credentials (`{suggestion}`) and let the proxy allow the cluster's egress IPs instead; "
            "change the password if this file was shared.",
            shown))
    findings += _host_port_findings(parts, path, field, suggestion, shown)
    findings += _tail_findings(parts, path, field, suggestion, shown)
    return findings


class _UrlParts:
    """A proxy URL cut into its pieces, without judging them."""

    def __init__(self) -> None:
        self.scheme: str | None = None  # lower-cased; None when missing
        self.mistyped_scheme = False  # `http:/host`
        self.userinfo: str | None = None
        self.host_port = ""
        self.fixed_host_port = ""  # host_port as it should be written (IPv6 bracketed), for suggestions
        self.tail = ""  # path, query and fragment

    @classmethod
    def split(cls, value: str) -> _UrlParts:
        parts = cls()
        match = _SCHEME.match(value)
        if match is None and (match := _MISTYPED_SCHEME.match(value)) is not None:
            parts.mistyped_scheme = True
        if match is not None:
            parts.scheme = match.group(1).lower()
            rest = value[match.end():]
        else:
            rest = value.removeprefix("//")
        # The last `@` ends the user info: unescaped passwords often contain `@`, `/` or `#`.
        at = rest.rfind("@")
        if at >= 0:
            parts.userinfo, rest = rest[:at], rest[at + 1:]
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        parts.host_port, parts.tail = rest[:end], rest[end:]
        parts.fixed_host_port = _bracket_ipv6(parts.host_port)
        return parts


def _bracket_ipv6(host_port: str) -> str:
    if host_port.count(":") < 2 or host_port.startswith("["):
        return host_port
    # `fd00::1:3128` is ambiguous; a proxy URL nearly always has a port, so read the last group as one.
    address, _, port = host_port.rpartition(":")
    if ipv6_problem(address) is None and _PORT.fullmatch(port):
        return f"[{address}]:{port}"
    if ipv6_problem(host_port) is None:
        return f"[{host_port}]"
    return host_port


def _scheme_finding(parts: _UrlParts, path: str, field: str, suggestion: str, shown: str) -> Finding:
    if parts.mistyped_scheme:
        message = f"`{field}` has a mistyped scheme separator (it must be `://`)."
    elif parts.scheme is None:
        message = f"`{field}` has no scheme."
    elif field == "httpProxy" and parts.scheme == "https":
        message = ("`httpProxy` must use `http://`: AKS accepts only the http scheme for it. A proxy that speaks TLS "
                   "to its clients goes in `httpsProxy`.")
    elif field == "httpProxy":
        message = f"`httpProxy` uses the `{parts.scheme}` scheme; AKS accepts only `http://` for it."
    else:
        message = f"`httpsProxy` uses the `{parts.scheme}` scheme; AKS accepts only `http://` or `https://` (no SOCKS)."
    return error_at(path, "url-scheme", message, f"Write it as `{suggestion}`.", shown)


def _host_port_findings(parts: _UrlParts, path: str, field: str, suggestion: str, shown: str) -> list[Finding]:
    host, port, problem = _split_host_port(parts.host_port)
    findings: list[Finding] = []
    if problem is not None and is_underscore_name(host):
        problem = None
        findings.append(warning_at(
            path, "url-host-underscore",
            f"`{field}`: the host `{host}` contains `_`, which RFC 1123 host names do not allow. AKS does not "
            "document whether it accepts such a proxy host; Go, curl and Python on the nodes resolve it.",
            "Keep it if the update succeeds; if the service refuses it, use a DNS alias or the IP address of the "
            "proxy.", shown))
    if problem is not None:
        fix = f"Write the proxy's host name or IP address, e.g. `{EXAMPLE_URL}`."
        if parts.fixed_host_port != parts.host_port:
            fix = f"Put the IPv6 address in brackets: `{suggestion}`."
        elif host and not host.isascii() and punycode(host):
            fix = f"Write the host in punycode: `{suggestion.replace(host, punycode(host) or host)}`."
        findings.append(error_at(path, "url-host", f"`{field}`: the host {problem}.", fix, shown))
    if port is None:
        scheme = parts.scheme if parts.scheme in DEFAULT_PORTS else "http"
        if problem is None:
            findings.append(warning_at(
                path, "url-default-port",
                f"`{field}` has no port, so the {scheme} default port {DEFAULT_PORTS[scheme]} will be used.",
                f"If the proxy does not listen on {DEFAULT_PORTS[scheme]}, add its port, e.g. "
                f"`{scheme}://{parts.fixed_host_port}:3128/`.",
                shown))
    elif not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        digits = port.isascii() and port.isdigit()
        what = "is empty" if port == "" else "is outside 1-65535" if digits else "is not a number"
        findings.append(error_at(
            path, "url-port", f"`{field}`: the port `{port}` {what}.",
            "Give the port the proxy listens on, a number from 1 to 65535, e.g. `http://proxy.contoso.com:3128/`.",
            shown))
    return findings


def _split_host_port(host_port: str) -> tuple[str, str | None, str | None]:
    """(host, port or None, problem with the host or None)."""
    if host_port.startswith("["):
        close = host_port.find("]")
        if close < 0:
            return host_port, None, "has `[` without a closing `]`"
        address, after = host_port[1:close], host_port[close + 1:]
        problem = ipv6_problem(address)
        if problem is not None:
            problem = f"`[{address}]` {problem}"
        if after == "":
            return address, None, problem
        if after.startswith(":"):
            return address, after[1:], problem
        return address, None, f"has unexpected text `{after}` after `]`"
    if host_port.count(":") > 1:
        return host_port, None, "looks like an IPv6 address, which must be written in brackets (`[fd00::1]`)"
    host, colon, port = host_port.partition(":")
    if host == "":
        return host, port if colon else None, "is missing"
    problem = host_name_problem(host)
    return host, port if colon else None, None if problem is None else f"`{host}` {problem}"


def _tail_findings(parts: _UrlParts, path: str, field: str, suggestion: str, shown: str) -> list[Finding]:
    tail = parts.tail
    query_at, fragment_at = tail.find("?"), tail.find("#")
    url_path = tail[: min((i for i in (query_at, fragment_at) if i >= 0), default=len(tail))]
    findings: list[Finding] = []
    if url_path == "":
        findings.append(warning_at(
            path, "url-trailing-slash",
            f"`{field}` has no trailing slash. The service accepts that form again, but refused it for periods "
            "(HTTPProxyWrongUrlError: Azure/AKS#4574 in October 2024, #5561 in January 2026), and the docs' "
            "example changed in December 2025.",
            f"Write `{suggestion}` to be safe either way.", shown))
    elif url_path != "/":
        findings.append(error_at(
            path, "url-path", f"`{field}` has the path `{url_path}`; a proxy URL has no path.",
            f"Write `{suggestion}`.", shown))
    if 0 <= query_at and (fragment_at < 0 or query_at < fragment_at):
        findings.append(error_at(
            path, "url-query", f"`{field}` has a query string (`?...`); a proxy URL has none.",
            f"Write `{suggestion}`.", shown))
    if fragment_at >= 0:
        findings.append(error_at(
            path, "url-fragment", f"`{field}` has a fragment (`#...`); a proxy URL has none.",
            f"Write `{suggestion}`.", shown))
    return findings


def no_proxy_url_finding(path: str) -> Finding:
    return error_at(
        path, "no-proxy-url",
        "Neither `httpProxy` nor `httpsProxy` is set; the service refuses this "
        "(HTTPProxyConfigInputError: HTTPProxy and HTTPSProxy both cannot be empty.).",
        f'Add at least `"httpProxy": "{EXAMPLE_URL}"` at the top level of the file.')


def host_of(url: str) -> str:
    """The host of ``url`` (IPv6 without brackets), or "" when there is none; for suggestions only."""
    host, _, _ = _split_host_port(_UrlParts.split(url).host_port)
    return host
