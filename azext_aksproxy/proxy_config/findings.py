"""Findings: what the config rules say about a file, and the canonical result.

Pure data, no azure-cli import: adapters turn these into az errors and warnings.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"

# userinfo in anything URL-like ("scheme://user:pass@host"); masked wherever a value is echoed. Greedy up to the
# last "@" of the token: passwords are often written unescaped ("p@ss", "pa/ss"), so stopping at the first "@" or
# "/" would leave part of them visible. A token ends at whitespace or a quote, so two URLs in one text stay apart.
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^\s'\"`<>]*@")


def mask_secrets(text: str) -> str:
    """Replace the userinfo part of every URL in ``text`` with ``***``."""
    return _USERINFO.sub(r"\1***@", text)


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: where (JSON path), what (message, masked value) and how to fix it."""

    severity: str  # ERROR or WARNING
    code: str  # stable rule id, e.g. "url-scheme"; documented in the README
    path: str  # JSON path into the file, e.g. "$.noProxy[3]"; "$" for the file itself
    message: str
    fix: str
    value: str | None = None  # the offending value, already masked and shortened

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "value": self.value,
            "message": self.message,
            "fix": self.fix,
        }

    def __str__(self) -> str:
        shown = f" (got {self.value})" if self.value is not None else ""
        return f"{self.path}: {self.message}{shown} Fix: {self.fix}"


@dataclass
class CheckResult:
    """The outcome of checking one config: every finding, and the canonical config when there is no error.

    ``config`` uses the REST keys (httpProxy, httpsProxy, noProxy, trustedCa, enabled), holds only the keys
    the file gave (after case normalisation and noProxy de-duplication), and is None when any error was found.
    """

    findings: list[Finding] = field(default_factory=list)
    config: dict[str, Any] | None = None
    source: str = "<config>"

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


class ProxyConfigError(ValueError):
    """Raised by the library entry points that return a config or fail; carries every finding."""

    def __init__(self, result: CheckResult):
        self.result = result
        lines = [f"{result.source}: {len(result.errors)} error(s) in the HTTP proxy config:"]
        lines += [f"  - {f}" for f in result.errors]
        super().__init__("\n".join(lines))


# Every code a rule can emit, with its severity and a one-line summary: the stable, documented surface.
CODES: dict[str, tuple[str, str]] = {
    # reading the file (load.py)
    "file-not-found": (ERROR, "the path does not exist"),
    "file-not-regular": (ERROR, "the path is a directory, device or pipe, not a regular file"),
    "file-unreadable": (ERROR, "the file cannot be read (permissions, I/O error)"),
    "file-too-large": (ERROR, "the file is larger than 1 MiB"),
    "encoding": (ERROR, "the file is not UTF-8 (UTF-16/32, Latin-1, NUL bytes)"),
    "empty-file": (ERROR, "the file is empty or only whitespace"),
    "json-syntax": (ERROR, "the file is not valid JSON"),
    "json-constant": (ERROR, "NaN or Infinity, which JSON does not allow"),
    "json-too-deep": (ERROR, "nesting far deeper than a proxy config can have"),
    "duplicate-key": (ERROR, "the same key twice in one object (also through case variants)"),
    # shape (keys.py, typecheck.py)
    "not-object": (ERROR, "the top level is not a JSON object"),
    "key-case": (WARNING, "a key spelled with the wrong case; normalised"),
    "wrapper-object": (ERROR, "the settings are wrapped in an httpProxyConfig object"),
    "unknown-key": (ERROR, "a key the API does not have (snake_case, env-var names, typos)"),
    "read-only-key": (ERROR, "effectiveNoProxy, which AKS computes and which cannot be set"),
    "type": (ERROR, "a value of the wrong JSON type"),
    "schema": (ERROR, "a schema.json constraint not covered by a dedicated rule"),
    # proxy URLs (urls.py)
    "no-proxy-url": (ERROR, "neither httpProxy nor httpsProxy is set"),
    "url-whitespace": (ERROR, "whitespace or control characters in a proxy URL"),
    "url-scheme": (ERROR, "a missing or unsupported URL scheme"),
    "url-credentials": (ERROR, "user:password@ in a proxy URL; AKS has no proxy authentication"),
    "url-host": (ERROR, "a missing or invalid proxy host"),
    "url-port": (ERROR, "a port outside 1-65535 or not a number"),
    "url-path": (ERROR, "a path other than /"),
    "url-query": (ERROR, "a ?query in a proxy URL"),
    "url-fragment": (ERROR, "a #fragment in a proxy URL"),
    "url-trailing-slash": (WARNING, "no trailing slash; the service rejected that form for a period"),
    "url-default-port": (WARNING, "no port; the scheme's default port will be used"),
    # noProxy (noproxy.py)
    "noproxy-empty": (ERROR, "an empty noProxy entry"),
    "noproxy-whitespace": (ERROR, "whitespace or control characters in a noProxy entry"),
    "noproxy-comma": (ERROR, "several hosts in one noProxy entry"),
    "noproxy-url": (ERROR, "a URL where a host is expected"),
    "noproxy-wildcard": (ERROR, "a * wildcard, which AKS does not support"),
    "noproxy-port": (ERROR, "host:port; ports are not matched"),
    "noproxy-brackets": (ERROR, "a bracketed IPv6 address"),
    "noproxy-bad-cidr": (ERROR, "a CIDR with host bits set or an invalid prefix"),
    "noproxy-invalid": (ERROR, "not a host name, IP address or CIDR"),
    "noproxy-duplicate": (WARNING, "an entry given twice (case-insensitive); de-duplicated"),
    "noproxy-cidr": (WARNING, "CIDR entries, which some HTTP clients ignore"),
    # trustedCa (certs.py)
    "ca-empty": (ERROR, "trustedCa is an empty string"),
    "ca-not-base64": (ERROR, "raw PEM text instead of its base64 encoding"),
    "ca-base64": (ERROR, "not strict standard base64 (line breaks, URL-safe alphabet, padding)"),
    "ca-der": (ERROR, "base64 of DER (binary) instead of PEM"),
    "ca-not-pem": (ERROR, "decodes to something without a PEM certificate"),
    "ca-private-key": (ERROR, "a PRIVATE KEY block"),
    "ca-not-certificate": (ERROR, "a PEM block that is not a CERTIFICATE"),
    "ca-cert-invalid": (ERROR, "a CERTIFICATE block that does not parse"),
    "ca-too-many": (ERROR, "more than 20 certificates"),
    "ca-too-large": (ERROR, "trustedCa longer than 35 KB"),
    "ca-expired": (ERROR, "an expired certificate"),
    "ca-not-yet-valid": (ERROR, "a certificate whose validity starts in the future"),
    "ca-expiring-soon": (WARNING, "a certificate that expires within 30 days"),
    "ca-not-ca": (WARNING, "a certificate without basicConstraints CA=true"),
    "ca-no-san": (WARNING, "a certificate without subjectAlternativeName"),
}

MAX_VALUE_CHARS = 80  # echoed values are cut here: enough to recognise a value, short enough for one line
_NO_VALUE: Any = object()


def display_value(value: Any) -> str:
    """``value`` as echoed in a finding: secrets masked, unprintable characters escaped, at most ~80 characters.

    Masking comes before shortening: a URL cut in its userinfo would no longer look like a URL to the mask.
    """
    if isinstance(value, str):
        text = mask_secrets(value)
    else:
        try:
            text = mask_secrets(json.dumps(value, ensure_ascii=False, allow_nan=True))
        except (TypeError, ValueError, RecursionError):
            text = f"<{type(value).__name__}>"
    # Escape control characters, lone surrogates and the like: they would garble a terminal or break its encoding.
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 3] + "..."
    return text


def _finding(severity: str, code: str, path: str, message: str, fix: str, value: Any) -> Finding:
    shown = None if value is _NO_VALUE else display_value(value)
    return Finding(severity, code, mask_secrets(path), mask_secrets(message), mask_secrets(fix), shown)


def error_at(path: str, code: str, message: str, fix: str, value: Any = _NO_VALUE) -> Finding:
    """An ERROR finding; ``value`` (if given) is masked and shortened, message and fix are masked."""
    return _finding(ERROR, code, path, message, fix, value)


def warning_at(path: str, code: str, message: str, fix: str, value: Any = _NO_VALUE) -> Finding:
    """A WARNING finding; same treatment of ``value`` as :func:`error_at`."""
    return _finding(WARNING, code, path, message, fix, value)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def child_path(parent: str, key: Any) -> str:
    """JSON path of ``parent[key]``: ``$.noProxy[3]``, ``$.httpProxy``, ``$["odd key"]``."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}"
    return f"{parent}[{json.dumps(str(key))}]"
