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
CLUSTER = "cluster"  # scope of the rules that need the cluster as well as the file
FLEET = "fleet"  # scope of the rules of `az aks http-proxy audit` (fleet.py)
CHECK = "check"  # scope of what `az aks http-proxy check` and --check-proxy report (check/results.py)
TEMPLATE = "template"  # scope of the rules on ARM/Bicep templates and Terraform plans (azext_aksproxy/iac)
INFO = "info"  # a checked target that is fine: the check reports every target, good ones included

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
    code: str  # stable rule id, e.g. "url-scheme"; documented in docs/rules.md
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
            "source": source_of(self.code),
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


@dataclass(frozen=True)
class Rule:
    """One entry of the catalogue: what a code means and the public source that sets its severity."""

    severity: str
    summary: str
    source: str
    scope: str = "file"  # "file": the config alone; "cluster": with the cluster (validate -g -n, diff, update);
    # "fleet": audit; "check": the proxy check


# Sources named by several rules. A rule is an error only where a public source says the service refuses the value
# or the value breaks nodes; where the service's behaviour is undocumented or changed recently, it is a warning whose
# message tells the history.
_DOCS = "AKS docs, HTTP proxy: learn.microsoft.com/azure/aks/http-proxy"
_SPEC = "REST spec ManagedClusterHTTPProxyConfig (azure-rest-api-specs, Microsoft.ContainerService)"
_AZ_FILE = "azure-cli reads --http-proxy-config with get_file_json (azure/cli/core/util.py)"
_RFC8259 = "RFC 8259 (JSON)"
_AZ_READ = "azure-cli reads the file as UTF-8 or UTF-16 with a byte-order mark (read_file_content, azure/cli/core/util.py)"
# Clients (Go net/http, curl, Python) keep only scheme, host and port of a proxy URL: anything after them is a PAC,
# WPAD or web address pasted by mistake, and the nodes would send their proxy requests to that host:port.
_URL_FORM = f"{_DOCS} (proxy URL scheme://host:port/); proxy clients drop the rest (Go net/http, curl)"
_NO_PROXY_ENV = f"{_DOCS} (noProxy becomes NO_PROXY, one comma-separated variable)"
_RFC1123 = ("RFC 1123 host names; AKS validates noProxy hosts (fluxcd/kustomize-controller#1623, "
            "AKS CHANGELOG 2026-04-02)")
_CA = f"{_DOCS} (trustedCa: base64 of PEM); service error HTTPProxyTrustedCAPEMDecodeFailure"
_TLS = "RFC 5280 validity; TLS clients on the nodes refuse the chain"
_PUT = f"{_SPEC}: a PUT replaces httpProxyConfig as a whole"
_ENABLED = f"{_SPEC}: enabled defaults to true (api-version 2026-01-01)"
_OUTBOUND = ("AKS docs, outbound network and FQDN rules (the endpoints nodes must reach); a node that cannot reach them "
             "fails bootstrap (AgentBaker CSE exit code 50)")
_MONITORING = f"{_DOCS} (monitoring add-on section: custom metrics and recommended alerts not supported with a trusted certificate)"
_MONITOR_NET = ("Azure Monitor docs, network firewall requirements for monitoring Kubernetes clusters "
                "(learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-firewall): HTTPS proxy "
                "and private cluster combination not supported")
_ARM_EXPR = ("ARM template functions and expressions (learn.microsoft.com/azure/azure-resource-manager/templates/"
             "template-expressions): values are computed by the deployment")
_AZURERM_DRIFT = ("hashicorp/terraform-provider-azurerm#24188 (open since 2023-12): no diff suppression of the noProxy "
                  "entries AKS adds; Terraform docs, lifecycle ignore_changes")
_REIMAGE = ("AKS docs, HTTP proxy (updating the proxy config reimages the node pools); AKS release notes "
            "2025-10-12")
_GO_TLS = "Go crypto/x509 (the nodes' and Kubernetes' TLS clients): RFC 5280 path validation"

# Every code a rule can emit: the stable, documented surface (docs/rules.md's table is tested against it). Adding a rule
# is one line here.
CATALOGUE: dict[str, Rule] = {
    # reading the file (load.py)
    "file-not-found": Rule(ERROR, "the path does not exist", _AZ_FILE),
    "file-not-regular": Rule(ERROR, "the path is a directory, device or pipe, not a regular file", _AZ_FILE),
    "file-unreadable": Rule(ERROR, "the file cannot be read (permissions, I/O error)", _AZ_FILE),
    "file-too-large": Rule(ERROR, "the file is larger than 1 MiB",
                           "aksproxy bound, far above any real config (trustedCa is limited to 35 KB by the AKS docs)"),
    "encoding": Rule(ERROR, "the file is neither UTF-8 nor UTF-16 with a byte-order mark (UTF-32, Latin-1, NUL bytes)",
                     f"{_AZ_READ}; {_RFC8259} section 8.1"),
    "encoding-utf16": Rule(WARNING, "UTF-16 with a byte-order mark: az reads it, most other tools expect UTF-8",
                           f"{_AZ_READ}; {_RFC8259} section 8.1"),
    "empty-file": Rule(ERROR, "the file is empty or only whitespace", _AZ_FILE),
    "json-syntax": Rule(ERROR, "the file is not valid JSON", f"{_RFC8259}; {_AZ_FILE}"),
    "json-constant": Rule(ERROR, "NaN or Infinity, which JSON does not allow", f"{_RFC8259} section 6"),
    "json-too-deep": Rule(ERROR, "nesting far deeper than a proxy config can have", _SPEC),
    "duplicate-key": Rule(ERROR, "the same key twice in one object (also through case variants)",
                          f"{_RFC8259} section 4 (duplicate names: unpredictable; az keeps the last)"),
    # shape (keys.py, typecheck.py)
    "not-object": Rule(ERROR, "the top level is not a JSON object", f"{_SPEC}; {_AZ_FILE}"),
    "key-case": Rule(WARNING, "a key spelled with the wrong case; normalised",
                     f"{_SPEC} (keys are case-sensitive; the docs' own example spells trustedCA)"),
    "wrapper-object": Rule(ERROR, "the settings are wrapped in an httpProxyConfig object",
                           "Azure/AKS#205: the wrapped keys are dropped, then HTTPProxyConfigInputError"),
    "unknown-key": Rule(ERROR, "a key the API does not have (snake_case, env-var names, typos)",
                        f"{_SPEC}: unknown keys are dropped by the service without an error"),
    "read-only-key": Rule(ERROR, "effectiveNoProxy, which AKS computes and which cannot be set",
                          f"{_SPEC}: effectiveNoProxy is readOnly"),
    "type": Rule(ERROR, "a value of the wrong JSON type", _SPEC),
    "schema": Rule(ERROR, "a schema.json constraint not covered by a dedicated rule", _SPEC),
    # proxy URLs (urls.py)
    "no-proxy-url": Rule(ERROR, "neither httpProxy nor httpsProxy is set",
                         "service error HTTPProxyConfigInputError: HTTPProxy and HTTPSProxy both cannot be empty"),
    "url-whitespace": Rule(ERROR, "whitespace or control characters in a proxy URL",
                           "RFC 3986 section 2; Go's net/url (kubelet, containerd) refuses control characters"),
    "url-scheme": Rule(ERROR, "a missing or unsupported URL scheme", f"{_DOCS} (httpProxy: the scheme must be http)"),
    "url-credentials": Rule(ERROR, "user:password@ in a proxy URL; AKS has no proxy authentication",
                            f"{_DOCS} (user/password authentication not supported); Azure/AKS#3392"),
    "url-host": Rule(ERROR, "a missing or invalid proxy host", "RFC 3986 section 3.2.2"),
    "url-host-underscore": Rule(WARNING, "`_` in the proxy host; not RFC 1123, accepted by node clients",
                                "undocumented in AKS; RFC 1123; Go, curl and Python resolve such names"),
    "url-port": Rule(ERROR, "a port outside 1-65535 or not a number", "RFC 3986 section 3.2.3 (TCP ports 1-65535)"),
    "url-path": Rule(ERROR, "a path other than /", _URL_FORM),
    "url-query": Rule(ERROR, "a ?query in a proxy URL", _URL_FORM),
    "url-fragment": Rule(ERROR, "a #fragment in a proxy URL", _URL_FORM),
    "url-trailing-slash": Rule(WARNING, "no trailing slash; the service rejected that form for a period",
                               "Azure/AKS#4574 (2024-10), #5561 (2026-01): HTTPProxyWrongUrlError, accepted again"),
    "url-default-port": Rule(WARNING, "no port; the scheme's default port will be used", "RFC 3986 section 3.2.3"),
    # noProxy (noproxy.py)
    "noproxy-empty": Rule(ERROR, "an empty noProxy entry", _RFC1123),
    "noproxy-whitespace": Rule(ERROR, "whitespace or control characters in a noProxy entry", _NO_PROXY_ENV),
    "noproxy-comma": Rule(ERROR, "several hosts in one noProxy entry", _NO_PROXY_ENV),
    "noproxy-url": Rule(ERROR, "a URL where a host is expected", f"{_RFC1123}; clients match hosts, not URLs"),
    "noproxy-wildcard": Rule(ERROR, "a * wildcard, which AKS does not support",
                             f"{_DOCS} (`*` attached to a domain suffix is not supported)"),
    "noproxy-port": Rule(ERROR, "host:port; ports are not matched", f"{_RFC1123}; Go and Python ignore such entries"),
    "noproxy-brackets": Rule(ERROR, "a bracketed IPv6 address", f"{_RFC1123}; clients match the bare address"),
    "noproxy-bad-cidr": Rule(ERROR, "a CIDR with host bits set or an invalid prefix",
                             "RFC 4632 / RFC 4291 prefix notation"),
    "noproxy-invalid": Rule(ERROR, "not a host name, IP address or CIDR", _RFC1123),
    "noproxy-underscore": Rule(WARNING, "`_` in a noProxy host; the service's acceptance is unclear",
                               "RFC 1123; AKS noProxy check strict from 2026-03, relaxed 2026-04-02 (AKS CHANGELOG)"),
    "noproxy-trailing-dot": Rule(WARNING, "a host ending in `.`; refused by the service in March 2026, accepted since",
                                 "fluxcd/kustomize-controller#1623; AKS CHANGELOG 2026-04-02"),
    "noproxy-duplicate": Rule(WARNING, "an entry given twice (case-insensitive); de-duplicated", _NO_PROXY_ENV),
    "noproxy-cidr": Rule(WARNING, "CIDR entries, which some HTTP clients ignore",
                         f"{_DOCS} (curl and Python ignore CIDRs in NO_PROXY)"),
    "noproxy-in-cluster": Rule(WARNING, "in-cluster names (.svc, .cluster.local) not in noProxy; they go to the proxy",
                               f"Azure/AKS#3174, #205, #2887, #5034; {_DOCS}"),
    # trustedCa (certs.py)
    "ca-empty": Rule(ERROR, "trustedCa is an empty string", _CA),
    "ca-not-base64": Rule(ERROR, "raw PEM text instead of its base64 encoding", _CA),
    "ca-base64": Rule(ERROR, "not strict standard base64 (line breaks, URL-safe alphabet, padding)", _CA),
    "ca-der": Rule(ERROR, "base64 of DER (binary) instead of PEM", _CA),
    "ca-not-pem": Rule(ERROR, "decodes to something without a PEM certificate", _CA),
    "ca-private-key": Rule(ERROR, "a PRIVATE KEY block",
                           f"{_DOCS} (trustedCa is a CA certificate); a key copied to every node is leaked"),
    "ca-not-certificate": Rule(ERROR, "a PEM block that is not a CERTIFICATE", _CA),
    "ca-cert-invalid": Rule(ERROR, "a CERTIFICATE block that does not parse", f"{_CA}; RFC 5280"),
    "ca-too-many": Rule(ERROR, "more than 20 certificates", f"{_DOCS} (at most 20 certificates)"),
    "ca-too-large": Rule(ERROR, "trustedCa longer than 35 KB", f"{_DOCS} (at most 35 KB)"),
    "ca-expired": Rule(ERROR, "an expired certificate", _TLS),
    "ca-not-yet-valid": Rule(ERROR, "a certificate whose validity starts in the future", _TLS),
    "ca-expiring-soon": Rule(WARNING, "a certificate that expires within 30 days", _TLS),
    "ca-not-ca": Rule(WARNING, "a certificate without basicConstraints CA=true", "RFC 5280 section 4.2.1.9"),
    "ca-no-san": Rule(WARNING, "a certificate without subjectAlternativeName",
                      f"{_DOCS} (Go components need SANs); Go 1.15 release notes (CN matching removed)"),
    # the cluster (cluster.py: validate -g -n, diff, update)
    "pool-windows": Rule(ERROR, "the cluster has Windows node pools",
                         f"{_DOCS} (Windows node pools not supported); Azure/AKS#4069", scope=CLUSTER),
    "pool-availability-set": Rule(ERROR, "the cluster has availability-set (VMAS) node pools",
                                  f"{_DOCS} (VMAS node pools not supported)", scope=CLUSTER),
    "update-removes-trusted-ca": Rule(WARNING, "the update removes the cluster's trustedCa", _PUT, scope=CLUSTER),
    "update-removes-no-proxy": Rule(WARNING, "the update removes noProxy entries the cluster has", _PUT, scope=CLUSTER),
    "proxy-stays-disabled": Rule(WARNING, "the cluster's proxy is disabled and the file does not enable it",
                                 _ENABLED, scope=CLUSTER),
    "update-disables-proxy": Rule(WARNING, "the file disables the cluster's enabled proxy", _ENABLED, scope=CLUSTER),
    "monitoring-trusted-ca": Rule(WARNING, "the monitoring add-on with a trustedCa: custom metrics and recommended "
                                           "alerts are not supported", _MONITORING, scope=CLUSTER),
    "monitoring-private-https-proxy": Rule(WARNING, "the monitoring add-on on a private cluster behind an HTTPS proxy, "
                                                    "which Azure Monitor does not support", _MONITOR_NET, scope=CLUSTER),
    # templates and plans (azext_aksproxy/iac: validate --template, --terraform-plan)
    "not-evaluated": Rule(WARNING, "a template expression or plan value aksproxy cannot evaluate exactly: not checked",
                          _ARM_EXPR, scope=TEMPLATE),
    "enabled-string": Rule(WARNING, "enabled written as the string \"true\"/\"false\" (as the AKS docs' ARM sample "
                                    "does); the API's type is boolean", f"{_SPEC}; {_DOCS} (ARM template sample)",
                           scope=TEMPLATE),
    "plan-reimages": Rule(WARNING, "the plan changes a cluster's proxy config: AKS reimages every node pool",
                          _REIMAGE, scope=TEMPLATE),
    "plan-aks-no-proxy-only": Rule(WARNING, "the plan's only proxy change is the noProxy entries AKS adds itself "
                                            "(the azurerm drift)", _AZURERM_DRIFT, scope=TEMPLATE),
    # the proxy check (check/: az aks http-proxy check, --check-proxy)
    "reached": Rule(INFO, "the target answered through the proxy, and its certificate chain is trusted", _OUTBOUND,
                    scope=CHECK),
    "bypass": Rule(INFO, "a noProxy entry covers the target: nodes reach it directly, the proxy is not involved",
                   f"{_DOCS} (noProxy); Go net/http's NO_PROXY matching", scope=CHECK),
    "direct": Rule(INFO, "the config has no proxy for the target's scheme: nodes reach it directly",
                   f"{_DOCS} (httpsProxy defaults to httpProxy)", scope=CHECK),
    "proxy-unreachable": Rule(ERROR, "no connection to the proxy (refused, timed out, name not resolved)",
                              f"{_DOCS} (a new proxy must already work before the update); {_OUTBOUND}", scope=CHECK),
    "proxy-auth-required": Rule(ERROR, "the proxy asks for credentials (407); AKS cannot send any",
                                f"{_DOCS} (no proxy authentication)", scope=CHECK),
    "connect-refused": Rule(ERROR, "the proxy refused CONNECT to the target (403 and other error statuses)", _OUTBOUND,
                            scope=CHECK),
    "proxy-error": Rule(ERROR, "the proxy answered 502/503/504: it could not reach the target", _OUTBOUND,
                        scope=CHECK),
    "target-unreachable": Rule(ERROR, "the proxy or the target closed, reset or timed out the exchange", _OUTBOUND,
                               scope=CHECK),
    "tls-handshake": Rule(ERROR, "the TLS handshake failed", _GO_TLS, scope=CHECK),
    "tls-untrusted": Rule(ERROR, "the presented chain leads neither to a public root nor to a trustedCa certificate",
                          f"{_GO_TLS}; {_DOCS} (trustedCa is what nodes add to their trust store)", scope=CHECK),
    "tls-unreadable": Rule(ERROR, "a certificate of the presented chain cannot be read (malformed DER or extensions)",
                           _GO_TLS, scope=CHECK),
    "tls-expired": Rule(ERROR, "a certificate on the presented chain is expired or not yet valid", _TLS, scope=CHECK),
    "tls-no-san": Rule(ERROR, "the presented leaf has no subjectAltName; Go components refuse CN-only certificates",
                       f"{_DOCS} (Go components need SANs); Go 1.15 release notes (CN matching removed)", scope=CHECK),
    "tls-name-mismatch": Rule(ERROR, "no subjectAltName of the presented leaf covers the host", _GO_TLS, scope=CHECK),
    "direct-unreachable": Rule(ERROR, "noProxy (or no proxy for the scheme) sends the target direct, and the node "
                                      "cannot reach it that way", _OUTBOUND, scope=CHECK),
    "node-no-result": Rule(ERROR, "the node ran the check but its output for the target was lost",
                           "Azure docs, action Run Commands on Linux VMs (output: the last 4,096 bytes); az aks command "
                           "invoke docs (output cut at 512 KB)", scope=CHECK),
    # the fleet (fleet.py: az aks http-proxy audit)
    "ca-expiring": Rule(WARNING, "a trustedCa certificate expires within --expiring-within days (default 30)", _TLS,
                        scope=FLEET),
    "proxy-disabled": Rule(WARNING, "the cluster has an HTTP proxy config with enabled: false", _ENABLED,
                           scope=FLEET),
    "config-drift": Rule(WARNING, "a field differs from the --config reference (noProxy entries AKS adds are ignored)",
                         f"{_PUT}; the entries AKS adds: {_DOCS}", scope=FLEET),
    "subscription-unreadable": Rule(ERROR, "the subscription's clusters could not be listed; the reason is given",
                                    "ARM's answer to the managedClusters list, quoted", scope=FLEET),
    "cluster-unreadable": Rule(ERROR, "a listed cluster whose document could not be audited; the reason is given",
                               "the listed cluster document, as ARM returned it", scope=FLEET),
}

# (severity, summary) per code: the catalogue without its sources.
CODES: dict[str, tuple[str, str]] = {code: (rule.severity, rule.summary) for code, rule in CATALOGUE.items()}


def source_of(code: str) -> str | None:
    """The public source of a catalogued rule (None for codes outside the catalogue, e.g. the proxy check's)."""
    rule = CATALOGUE.get(code)
    return rule.source if rule else None


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
    rule = CATALOGUE.get(code)
    if rule is None or rule.severity != severity:  # a rule out of step with the catalogue: caught by the unit tests
        raise ValueError(f"finding code {code!r} is not catalogued as a {severity}")
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
