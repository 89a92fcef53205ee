"""The check from inside the cluster: a bash script that reaches targets from a node through a NEW proxy config,
and the parser that turns what the node printed into the same rows as the local check.

The node only gathers raw facts (curl's outcome, the certificate chain ``openssl s_client`` was shown); the
verdict is reached here, by the same code as the local check (:func:`probe.judge_chain`, :class:`NoProxy`), so a
chain is judged the same wherever it was fetched. The script:

- uses only the config it is given: every probe runs under ``env -i`` (no HTTP_PROXY/NO_PROXY of the node's
  current config, no curlrc), with the proxy passed explicitly, or ``--noproxy '*'`` for targets the new noProxy
  sends direct (matched here, as Go does);
- trusts nothing by itself (``curl -k``): the chain is judged afterwards against the public roots plus the new
  trustedCa only, never the node's store, which already holds the current trustedCa;
- writes only into a private ``mktemp -d`` directory that a trap removes, and always exits 0 (run command reports
  a failing script as a failed operation and drops its output);
- prints one short line per target, ``AKSPROXY1 <index> <curl exit> <http code> <CONNECT code> <seconds> <error>
  <chain>`` (error: base64 of curl's message; chain: the certificates' fingerprints, comma-separated, self-signed
  roots left out), and each certificate once, ``AKSPROXY1 cert <fingerprint> <base64 of gzip of its DER>``, unless
  an earlier run already brought it (``known_certificates``);
- checks each leaf on the node against the certificate presented after it, as Go would (``openssl verify
  -partial_chain``: signature and dates; the target's name against the subjectAltName only): a leaf that passes
  is named ``=<fingerprint>`` in its record and not sent, its issuer is (so trust is still judged here, by the
  same code); a leaf that fails comes back whole, and the verdict and its message are reached here. Every host
  behind an intercepting proxy has a leaf of its own (about 570 bytes each), but they share one issuer, so a
  hundred distinct hosts fit into two or three runs.
  The VMSS run command returns only the last 4,096 bytes of output: records come first, certificates last, and
  what is cut off is simply missing: :func:`parse_output` returns what is complete and the caller asks again.

Pure: no azure-cli import.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azext_aksproxy.config.findings import mask_secrets

from ..config.bypass import NoProxy
from . import verdicts
from .node_script import FINGERPRINT_HEX, RECORD, TOOLS, build_script, issuer_candidates
from .probe import _GATEWAY_ERRORS, Proxy, Trust, judge_chain, route_for
from .results import TargetResult, TlsReport, finding
from .targets import Target

__all__ = ["FINGERPRINT_HEX", "RECORD", "RUN_COMMAND_OUTPUT_LIMIT", "TOOLS", "NodeProbe", "NodeRecord", "build_script",
           "issuer_candidates", "judge", "missing_tools", "parse_certificates", "parse_output", "plan",
           "shared_leaf_settled", "split_der"]

# Azure's action run command returns only the last 4,096 bytes of a script's output ("Run scripts in your Linux VM
# by using action Run Commands", Restrictions); records are sized and re-asked for with that in mind.
RUN_COMMAND_OUTPUT_LIMIT = 4096
_MISSING = re.compile(rf"^{RECORD} missing((?: [\w.-]+)+)$", re.MULTILINE)
_LINE = re.compile(rf"^{RECORD} (\d+) (\d+) (\d{{3}}) (\d{{3}}) ([0-9.]+) (\S+) (\S+)$")
_CERT = re.compile(rf"^{RECORD} cert ([0-9a-f]{{{FINGERPRINT_HEX}}}) (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class NodeProbe:
    """What the node is asked for one target: through which proxy, or direct (and because of which entry)."""

    index: int
    target: Target
    via: str  # "httpProxy", "httpsProxy", "noProxy" or "direct", as in the local check's rows
    proxy: Proxy | None = None
    bypass_entry: str | None = None  # the noProxy entry that sends the target direct


@dataclass(frozen=True)
class NodeRecord:
    """One target's line of output, decoded."""

    index: int
    curl_exit: int
    http_code: int
    connect_code: int
    seconds: float
    error: str
    chain_der: tuple[bytes, ...]  # from the issuer on when ``leaf_checked``
    leaf_checked: bool = False  # the leaf was checked on the node against chain_der[0] (names, dates, signature)
    # the leaf did not come back: chain_der holds another target's leaf of the same issuer, which it is judged by
    shares_issuer: bool = False


def plan(config: Mapping[str, Any], targets: Sequence[Target]) -> list[NodeProbe]:
    """One probe per target, with the route the new config gives it (noProxy matched as Go does)."""
    no_proxy = NoProxy(config.get("noProxy") or [])
    return [NodeProbe(index, target, *route_for(config, target, no_proxy)) for index, target in enumerate(targets)]


def parse_certificates(text: str) -> dict[str, bytes]:
    """The certificates the output carries, by fingerprint (lines cut off or garbled are left out)."""
    out = {}
    for m in _CERT.finditer(text or ""):
        try:
            der = gzip.decompress(base64.b64decode(m[2], validate=True))
        except (binascii.Error, OSError, EOFError, ValueError):
            continue
        if len(split_der(der)) == 1 and hashlib.sha256(der).hexdigest()[:FINGERPRINT_HEX] == m[1]:
            out[m[1]] = der
    return out


def parse_output(text: str, certificates: Mapping[str, bytes] | None = None) -> dict[int, NodeRecord]:
    """Every complete record in the output, by target index: a record whose certificates are neither in the output
    nor in ``certificates`` is incomplete. Lines that are cut off or garbled are left out."""
    known = {**(certificates or {}), **parse_certificates(text)}
    records = {}
    for line in (text or "").splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        try:
            error = "" if m[6] == "-" else base64.b64decode(m[6], validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            continue
        fingerprints = [] if m[7] == "-" else m[7].split(",")
        checked = bool(fingerprints) and fingerprints[0].startswith("=")
        shared = bool(fingerprints) and fingerprints[0].startswith("~")
        needed = fingerprints[1:] if checked else [fingerprints[0][1:]] if shared else fingerprints
        if (checked and not needed) or any(fp not in known for fp in needed):
            continue
        chain = tuple(known[fp] for fp in needed)
        index = int(m[1])
        records[index] = NodeRecord(index, int(m[2]), int(m[3]), int(m[4]), float(m[5]), error.strip(), chain,
                                    checked, shared)
    return records


def missing_tools(text: str) -> list[str]:
    """The tools the script found missing where it ran ([] when it had them all)."""
    m = _MISSING.search(text or "")
    return m[1].split() if m else []


def split_der(data: bytes) -> list[bytes]:
    """Certificates written back to back in DER (each a SEQUENCE with a definite length)."""
    out, pos = [], 0
    while pos < len(data):
        if data[pos] != 0x30 or pos + 2 > len(data):
            raise ValueError("not a DER SEQUENCE")
        first = data[pos + 1]
        if first < 0x80:
            head, length = 2, first
        else:
            count = first & 0x7F
            if not 1 <= count <= 4 or pos + 2 + count > len(data):
                raise ValueError("bad DER length")
            head, length = 2 + count, int.from_bytes(data[pos + 2:pos + 2 + count], "big")
        end = pos + head + length
        if end > len(data):
            raise ValueError("truncated DER")
        out.append(data[pos:end])
        pos = end
    return out


def judge(probe: NodeProbe, record: NodeRecord | None, trust: Trust, where: str, timeout: float,
          runs: int = 1) -> TargetResult:
    """The row for one target from what ``where`` (e.g. "node aks-nodepool1-1234-vmss000000") printed in ``runs``
    run commands."""
    t = probe.target
    result = TargetResult(t, probe.via, probe.proxy.url if probe.proxy else None, where=where)
    if record is None:
        result.findings.append(finding(
            "node-no-result", t, f"{where.capitalize()} returned no result for {t.url} in {runs} run command(s): "
                                 "its record and certificates did not fit into what came back (a run command "
                                 f"returns only the last {RUN_COMMAND_OUTPUT_LIMIT:,} bytes of output; a "
                                 "certificate of about 3 KB or more never fits).",
            "Run the check with fewer --target values, or from a machine in the cluster's network (without "
            "--from-cluster, or --check-proxy-from local)."))
        return result
    said = mask_secrets(record.error) or f"curl exit code {record.curl_exit}"
    if probe.proxy is None:
        _judge_direct(probe, record, result, trust, where, said)
    else:
        _judge_proxied(probe, probe.proxy, record, result, trust, where, said, timeout)
    return result


def _reached(result: TargetResult, record: NodeRecord) -> None:
    result.reached, result.status = True, record.http_code
    result.latency_ms = round(record.seconds * 1000)


def _judge_tls(probe: NodeProbe, record: NodeRecord, result: TargetResult, trust: Trust, where: str) -> None:
    t = probe.target
    if t.scheme != "https" or (probe.proxy is not None and probe.proxy.scheme != "http"):
        return
    if record.shares_issuer:
        _judge_by_shared_issuer(probe, record, result, trust, where)
        return
    report, problems = judge_chain(list(record.chain_der), t.host, trust, "the certificate presented for the target",
                                   leaf_checked_on=where if record.leaf_checked else None)
    result.tls = report
    for code, message, fix in problems:
        result.findings.append(finding(code, t, f"From {where}: {message}", fix))


def shared_leaf_settled(record: NodeRecord, trust: Trust) -> bool:
    """Whether a record judged by another target's leaf of its issuer is final: only when that leaf leads to no
    trusted certificate (the target fails alike). When it does lead to one, the target's own leaf is needed: ask
    again with ``share_leaves`` off."""
    if not record.shares_issuer:
        return True
    report, _ = judge_chain(list(record.chain_der), "", trust, "the certificate")
    return report.trusted_by is None


def _judge_by_shared_issuer(probe: NodeProbe, record: NodeRecord, result: TargetResult, trust: Trust,
                            where: str) -> None:
    """A leaf that did not come back, neither checked on the node against the new trustedCa nor against a
    certificate presented with it, whose issuer another target's leaf (``record.chain_der``) has: a failure when
    that leaf leads to no trusted certificate; else it was never judged, a failure as well (never a pass)."""
    t = probe.target
    report, problems = judge_chain(list(record.chain_der), t.host, trust, "the certificate presented for the target")
    result.tls = TlsReport([], None, report.intercepted)
    untrusted = [p for p in problems if p.code == "tls-untrusted"]
    if untrusted:
        code, message, fix = untrusted[0]
        result.findings.append(finding(code, t, f"From {where}: {message}", fix))
        return
    result.findings.append(finding(
        "node-no-result", t, f"{where.capitalize()} could not check the certificate presented for {t.url} and did "
                             f"not send it: its issuer {report.leaf_issuer!r} is not in the new trustedCa, and the "
                             "leaf of another target it issued was trusted otherwise.",
        "Run the check with fewer --target values, or from a machine in the cluster's network (without "
        "--from-cluster, or --check-proxy-from local)."))


def _judge_direct(probe: NodeProbe, record: NodeRecord, result: TargetResult, trust: Trust, where: str,
                  said: str) -> None:
    t = probe.target
    why = (f"noProxy entry {probe.bypass_entry!r} covers {t.host}" if probe.via == "noProxy"
           else f"the config has no proxy for {t.scheme}:// targets")
    if record.curl_exit != 0:
        fix = (f"Remove {probe.bypass_entry!r} from noProxy so that nodes reach {t.host} through the proxy, or "
               f"open a direct route from the nodes to {t.authority}." if probe.via == "noProxy"
               else f"Set {'httpsProxy' if t.scheme == 'https' else 'httpProxy'}, or open a direct route from the "
                    f"nodes to {t.authority}.")
        result.findings.append(finding(
            "direct-unreachable", t, f"{why}, so nodes connect to it directly, and {where} cannot: {said}.", fix))
        return
    _reached(result, record)
    _judge_tls(probe, record, result, trust, where)
    if not result.failed:
        code = "bypass" if probe.via == "noProxy" else "direct"
        result.findings.insert(0, finding(code, t, f"{why}: {where} reached it directly, HTTP {record.http_code} in "
                                                   f"{result.latency_ms} ms.{_tls_note(result.tls)}"))


def _judge_proxied(probe: NodeProbe, p: Proxy, record: NodeRecord, result: TargetResult, trust: Trust, where: str,
                   said: str, timeout: float) -> None:
    t = probe.target
    tunnel = t.scheme == "https"
    proxy_answer = record.connect_code if tunnel and record.connect_code not in (0, 200) else record.http_code
    what = f"CONNECT {t.authority}" if tunnel and record.connect_code not in (0, 200) else f"GET {t.url}"
    if proxy_answer == 407:
        problem = verdicts.proxy_auth_required(where, p, what, "407")
    elif proxy_answer in _GATEWAY_ERRORS:
        problem = verdicts.proxy_error(where, p, t, what, str(proxy_answer))
    elif tunnel and record.connect_code not in (0, 200):
        problem = verdicts.connect_refused(where, p, t, what, str(record.connect_code))
    elif record.curl_exit in (5, 7) or (record.curl_exit == 28 and record.connect_code == 0
                                         and "connect" in said.lower() and "timed out" in said.lower()):
        problem = verdicts.proxy_unreachable(where, p, said)
    elif record.curl_exit == 35:
        problem = verdicts.tls_handshake(where, f"{t.host} through {p.field} {p.url}", said)
    elif record.curl_exit == 28:
        problem = verdicts.target_unreachable(where, p, t, f"no answer within {timeout:g} s (timed out)")
    elif record.curl_exit != 0:
        problem = verdicts.target_unreachable(where, p, t, said)
    else:
        problem = None
    if problem is not None:
        result.findings.append(finding(problem.code, t, problem.message, problem.fix))
    else:
        _reached(result, record)
        _judge_tls(probe, record, result, trust, where)
    if result.reached and not result.failed:
        result.findings.insert(0, finding(
            "reached", t, f"From {where}: reached through {p.field} {p.url}, HTTP {record.http_code} in "
                          f"{result.latency_ms} ms.{_tls_note(result.tls)}{_unread_chain_note(p, t)}"))


def _unread_chain_note(proxy: Proxy, target: Target) -> str:
    if target.scheme != "https" or proxy.scheme == "http":
        return ""
    return (" The certificates were not judged from the node: openssl cannot tunnel through an https:// proxy; "
            "run the check without --from-cluster to judge them from this machine.")


def _tls_note(tls: TlsReport | None) -> str:
    if tls is None:
        return ""
    issuer = tls.leaf_issuer or "?"
    if tls.intercepted:
        return (f" TLS is intercepted (the chain is issued by {issuer!r}, not a public CA) and trusted through "
                f"trustedCa ({tls.anchor!r}).")
    return f" The chain is issued by {issuer!r} and publicly trusted."


