"""Findings: what the config rules say about a file, and the canonical result.

Pure data, no azure-cli import: adapters turn these into az errors and warnings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

ERROR = "error"
WARNING = "warning"

# userinfo in anything URL-like ("scheme://user:pass@host"); masked wherever a value is echoed.
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s]*@")


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
    value: Optional[str] = None  # the offending value, already masked and shortened

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> Dict[str, Any]:
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

    findings: List[Finding] = field(default_factory=list)
    config: Optional[Dict[str, Any]] = None
    source: str = "<config>"

    @property
    def errors(self) -> List[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> List[Finding]:
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
