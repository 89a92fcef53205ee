"""What the check reports: one result per target, with its findings and the details behind them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azext_aksproxy.config.findings import (
    CATALOGUE,
    CHECK,
    ERROR,
    INFO,
    WARNING,
    Finding,
    mask_secrets,
)

from .chain import CertFacts
from .targets import Target

# Every code the check can report, with its severity and summary: the check's part of the one catalogue
# (config.findings.CATALOGUE, scope "check"), where each code names its source.
CODES: dict[str, tuple[str, str]] = {code: (rule.severity, rule.summary) for code, rule in CATALOGUE.items()
                                     if rule.scope == CHECK}

_RANK = {ERROR: 0, WARNING: 1, INFO: 2}


def finding(code: str, target: Target, message: str, fix: str = "") -> Finding:
    """A finding about ``target``: its path is the target's URL; the proxy used is in the row, not in ``value``."""
    return Finding(CODES[code][0], code, target.url, mask_secrets(message), mask_secrets(fix))


@dataclass
class TlsReport:
    """The chain a TLS peer presented and what trusts it."""

    chain: list[CertFacts]
    trusted_by: str | None  # "public roots", "trustedCa", or None when nothing does
    intercepted: bool  # the chain is not publicly trusted: the proxy (or a private origin) signs it
    anchor: str | None = None  # subject of the trusted certificate the chain ends at
    # where the leaf was checked (names, dates, signature) when it did not come back: chain[0] then holds its issuer
    leaf_checked_on: str | None = None

    @property
    def leaf_issuer(self) -> str | None:
        if not self.chain:
            return None
        return self.chain[0].subject if self.leaf_checked_on else self.chain[0].issuer

    def to_dict(self) -> dict[str, Any]:
        leaf = self.chain[0] if self.chain and not self.leaf_checked_on else None
        out = {
            "subject": leaf.subject if leaf else None,
            "issuer": self.leaf_issuer,
            "sans": list(leaf.sans) if leaf and leaf.sans is not None else None,
            "verified": self.trusted_by is not None,
            "trustedBy": self.trusted_by,
            "anchor": self.anchor,
            "intercepted": self.intercepted,
            "chain": [c.to_dict() for c in self.chain],
        }
        if self.leaf_checked_on:
            out["leafCheckedOn"] = self.leaf_checked_on
        return out


@dataclass
class TargetResult:
    target: Target
    via: str  # "httpProxy", "httpsProxy", "noProxy" (bypass) or "direct" (no proxy for the scheme)
    proxy: str | None = None  # the proxy URL used, masked
    reached: bool = False  # the target answered an HTTP request through the proxy
    status: int | None = None
    latency_ms: int | None = None
    tls: TlsReport | None = None
    proxy_tls: TlsReport | None = None  # an https:// proxy's own certificate
    findings: list[Finding] = field(default_factory=list)
    where: str = "local"  # where the probe ran: "local" (this machine) or "node <name>" (--from-cluster)

    @property
    def failed(self) -> bool:
        return any(f.is_error for f in self.findings)

    @property
    def summary(self) -> Finding:
        """The finding that heads this target's row: the first of the worst severity."""
        return min(self.findings, key=lambda f: _RANK.get(f.severity, 0))

    def to_dict(self) -> dict[str, Any]:
        row = self.summary.to_dict()
        row.update({
            "target": self.target.url,
            "via": self.via,
            "proxy": self.proxy,
            "reached": self.reached,
            "status": self.status,
            "latencyMs": self.latency_ms,
            "tls": self.tls.to_dict() if self.tls else None,
            "findings": [f.to_dict() for f in self.findings],
            "ranOn": self.where,
        })
        if self.proxy_tls is not None:
            row["proxyTls"] = self.proxy_tls.to_dict()
        return row
