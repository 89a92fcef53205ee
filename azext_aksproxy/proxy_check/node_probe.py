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
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization

from azext_aksproxy.proxy_config.findings import mask_secrets

from ..proxy_config.bypass import NoProxy
from . import verdicts
from .chain import trusted_ca_certificates
from .probe import _GATEWAY_ERRORS, Proxy, Trust, judge_chain, route_for
from .results import TargetResult, TlsReport, finding
from .targets import Target

RECORD = "AKSPROXY1"
# Azure's action run command returns only the last 4,096 bytes of a script's output ("Run scripts in your Linux VM
# by using action Run Commands", Restrictions); records are sized and re-asked for with that in mind.
RUN_COMMAND_OUTPUT_LIMIT = 4096
_ERROR_BYTES = 240  # of curl's message: one line is all it ever says
_MISSING = re.compile(rf"^{RECORD} missing((?: [\w.-]+)+)$", re.MULTILINE)
# What the script needs; node images have them all (AgentBaker's own checks use curl and openssl), AKS run command's
# pod image may not (Azure/AKS issue 3034: kubectl, helm, later jq, grep, awk, xargs; network tools were asked for).
TOOLS = ("curl", "openssl", "timeout", "awk", "sed", "gzip", "base64", "mktemp", "env", "head")
_LINE = re.compile(rf"^{RECORD} (\d+) (\d+) (\d{{3}}) (\d{{3}}) ([0-9.]+) (\S+) (\S+)$")
# Hex digits of a certificate's SHA-256 named in records: enough to tell apart the few certificates of one check.
FINGERPRINT_HEX = 12
_CERT = re.compile(rf"^{RECORD} cert ([0-9a-f]{{{FINGERPRINT_HEX}}}) (\S+)$", re.MULTILINE)
_PARALLEL = 16  # probes at once on the node: a long --target list is not a flood from one node
# Leaves not checked on the node that come back whole per issuer before the others are named by the first: the
# first targets are judged each by its own leaf, a hundred still fit into two or three runs.
_WHOLE_LEAVES_PER_ISSUER = 2


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


def build_script(probes: Sequence[NodeProbe], timeout: float, config: Mapping[str, Any],
                 known_certificates: Mapping[str, bytes] | None = None, share_leaves: bool = True) -> list[str]:
    """The script's lines (RunShellScript takes a list of lines). ``config`` is only read for proxy URLs, which
    must carry no credentials: the config rules refuse them, and a script is never the place to send one.
    ``known_certificates`` (by fingerprint) are not printed again. ``share_leaves``: a leaf not checked on the node
    may be named by another of its issuer (see :func:`shared_leaf_settled`); off, every such leaf comes back."""
    for field in ("httpProxy", "httpsProxy"):
        url = config.get(field) or ""
        if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            raise ValueError(f"{field} holds user info; it is never sent to a node")
    seconds = max(1, round(timeout))
    candidates = issuer_candidates(config)
    lines = [
        "#!/bin/bash",
        "[ -n \"${BASH_VERSION:-}\" ] || exec /bin/bash \"$0\" \"$@\"  # run command may start it with sh",
        f"# aksproxy: reach {len(probes)} target(s) from this node through the HTTP proxy config about to be",
        "# applied. Writes only to a private temp dir, removed on exit; the node's own proxy settings are not used.",
        "set -u",
        "umask 077",
        "W=$(mktemp -d) || exit 0",
        "trap 'cd /; rm -rf \"$W\"' EXIT",
        "cd \"$W\" || exit 0",
        "m=''",
        f"for t in {' '.join(TOOLS)}; do command -v \"$t\" >/dev/null 2>&1 || m=\"$m $t\"; done",
        f"[ -z \"$m\" ] || {{ echo \"{RECORD} missing$m\"; exit 0; }}",
        "run() { env -i PATH=\"$PATH\" HOME=\"$W\" LC_ALL=C \"$@\"; }",
        *_write_issuers(candidates),
        f"known=' {' '.join(sorted({**(known_certificates or {}), **candidates}))} '",
        f"throttle() {{ while [ \"$(jobs -rp | wc -l)\" -ge {_PARALLEL} ]; do wait -n 2>/dev/null || sleep 0.1; done; }}",
        "b64() { base64 -w0; }",
        # The leaf checked here as Go checks it, against the certificate presented right after it, else against
        # each certificate of the NEW trustedCa (a.<fingerprint>), never the node's store: signature and dates
        # (openssl verify), the name against the subjectAltName only (never the CN: a leaf without a DNS name is
        # not checked for a DNS target), no partial wildcards. Prints the issuer's file; a leaf that fails comes
        # back whole, to be judged (and named) by aksproxy.
        "leaf() {",
        "  local i=$1 sni=$2 host=$3 sans a",
        "  sans=$(run openssl x509 -in \"x.$i.1\" -noout -ext subjectAltName 2>/dev/null) || return 1",
        "  case \"$sans\" in *[!:]\\**) return 1;; esac",
        "  if [ \"$sni\" = - ]; then set -- -verify_ip \"$host\"",
        "  else case \"$sans\" in *DNS:*) ;; *) return 1;; esac; set -- -verify_hostname \"$host\"; fi",
        "  for a in \"x.$i.2\" a.*; do",
        "    [ -f \"$a\" ] || continue",
        "    if run openssl verify -no-CApath -no-CAstore -partial_chain -CAfile \"$a\" \"$@\" \"x.$i.1\" \\",
        "        >/dev/null 2>&1; then echo \"$a\"; return 0; fi",
        "  done",
        "  return 1",
        "}",
        # A leaf not checked here comes back whole for the first few targets of its issuer (name hash), the first
        # of them the reference; the others name the reference (~<fingerprint>) and are judged by it, as failures
        # only. The slots are claimed with mkdir, which only one probe can win.
        "same() {",
        "  local h k",
        f"  [ {int(share_leaves)} = 1 ] || return 1",
        "  h=$(run openssl x509 -in \"x.$1.1\" -noout -issuer_hash) || return 1",
        f"  for k in {' '.join(str(k) for k in range(1, _WHOLE_LEAVES_PER_ISSUER + 1))}; do",
        "    mkdir \"i.$h.$k\" 2>/dev/null || continue",
        "    [ $k != 1 ] || { echo \"$2\" >\"i.$h.1/t\" && mv \"i.$h.1/t\" \"i.$h.1/fp\"; }",
        "    return 1",
        "  done",
        "  for k in 1 2 3 4 5 6 7 8 9 10; do",
        "    [ -f \"i.$h.1/fp\" ] && { [ \"$(cat \"i.$h.1/fp\")\" != \"$2\" ] && cat \"i.$h.1/fp\"; return; }; sleep 0.2",
        "  done",
        "  return 1",
        "}",
        # i url proxy-url|- tls-authority|- sni|- proxy-authority|- host
        "probe() {",
        "  local i=$1 url=$2 proxy=$3 hp=$4 sni=$5 pa=$6 host=$7 np='' w rc c=- e f n s d fp v r",
        "  local via=() ossl=()",
        "  if [ \"$proxy\" = - ]; then np='*'; else via=(--proxy \"$proxy\"); fi",
        "  if [ \"$pa\" != - ]; then ossl+=(-proxy \"$pa\"); fi",
        "  if [ \"$sni\" = - ]; then ossl+=(-noservername); else ossl+=(-servername \"$sni\"); fi",
        (f"  w=$(run curl -q -sS -o /dev/null -k --proxy-insecure --noproxy \"$np\" ${{via[@]+\"${{via[@]}}\"}} "
        f"--connect-timeout {seconds} --max-time {seconds} -w '%{{http_code}} %{{http_connect}} %{{time_total}}' "
        "\"$url\" 2>\"e.$i\")"),
        "  rc=$?",
        "  [ -n \"$w\" ] || w='000 000 0'",
        "  if [ $rc = 0 ] && [ \"$hp\" != - ]; then",
        (f"    run timeout {seconds} openssl s_client -connect \"$hp\" \"${{ossl[@]}}\" -showcerts </dev/null "
        "2>/dev/null >\"s.$i\""),
        "    awk -v p=\"x.$i.\" '/-BEGIN CERTIFICATE-/{n++; f=p n} f{print > f} /-END CERTIFICATE-/{f=\"\"}' \"s.$i\"",
        "    v=$(leaf \"$i\" \"$sni\" \"$host\")",
        "    n=1",
        "    while [ -f \"x.$i.$n\" ]; do",
        "      f=\"x.$i.$n\"",
        "      s=$(run openssl x509 -in \"$f\" -noout -subject -issuer -nameopt RFC2253 | sed 's/^[a-z]*=//' | uniq | wc -l)",
        "      d=\"d.$i.$n\"",
        "      run openssl x509 -in \"$f\" -outform DER >\"$d\"",
        f"      fp=$(run openssl dgst -sha256 -r \"$d\" | head -c {FINGERPRINT_HEX})",
        # A leaf checked here is named by its fingerprint after '=' and not sent; then its issuer: a trustedCa
        # certificate by its fingerprint alone (aksproxy has it), a presented one as any other, self-signed or not.
        "      if [ \"$n\" = 1 ] && [ -n \"$v\" ]; then",
        "        c=\"=$fp\"",
        "        case \"$v\" in a.*) c=\"$c,${v#a.}\"; break;; esac",
        "      elif [ \"$n\" = 1 ] && r=$(same \"$i\" \"$fp\"); then c=\"~$r\"; break",
        "      elif [ \"$n\" = 1 ] || [ \"$s\" != 1 ] || { [ \"$n\" = 2 ] && [ -n \"$v\" ]; }; then",
        # Each certificate once per run, and not at all when an earlier run brought it.
        "        case \"$known\" in *\" $fp \"*) ;; *) [ -f \"c.$fp\" ] || {",
        f"          echo \"{RECORD} cert $fp $(gzip -9c \"$d\" | b64)\" >\"t.$fp.$i\" && mv \"t.$fp.$i\" \"c.$fp\"; }};; esac",
        "        if [ \"$c\" = - ]; then c=$fp; else c=\"$c,$fp\"; fi",
        "      fi",
        "      n=$((n + 1))",
        "    done",
        "  fi",
        f"  e=$(head -c {_ERROR_BYTES} \"e.$i\" | b64)",
        "  [ -n \"$e\" ] || e=-",
        f"  echo \"{RECORD} $i $rc $w $e $c\" >\"r.$i\"",
        "}",
    ]
    for p in probes:
        t = p.target
        hp = t.authority if t.scheme == "https" else "-"
        sni = "-" if t.ip is not None else t.host
        if p.proxy is None:
            proxy_url, proxy_authority = "-", "-"
        else:
            proxy_url = p.proxy.url
            # openssl s_client tunnels through an http:// proxy only; through an https:// one the chain is not read.
            proxy_authority = _authority(p.proxy.host, p.proxy.port) if p.proxy.scheme == "http" else "-"
            if p.proxy.scheme != "http":
                hp = "-"
        args = " ".join(shlex.quote(a) for a in (str(p.index), t.url, proxy_url, hp, sni, proxy_authority, t.host))
        lines += ["throttle", f"probe {args} &"]
    # Records first (largest first), certificates last: a run command keeps the output's tail, so the certificates
    # survive (and are not sent again), and the records cut off come back, short, in the next run.
    lines += ["wait", "for f in $(ls -S r.* 2>/dev/null) $(ls -S c.* 2>/dev/null); do cat \"$f\"; done", "exit 0"]
    return lines


def issuer_candidates(config: Mapping[str, Any]) -> dict[str, bytes]:
    """The NEW trustedCa's certificates (DER) by fingerprint: what the node checks leaves against when the chain
    presented holds no issuer (an intercepting proxy that sends its leaf alone)."""
    ders = (c.public_bytes(serialization.Encoding.DER) for c in trusted_ca_certificates(config.get("trustedCa")))
    return {hashlib.sha256(der).hexdigest()[:FINGERPRINT_HEX]: der for der in ders}


def _write_issuers(candidates: Mapping[str, bytes]) -> list[str]:
    """Script lines writing each candidate issuer as PEM to a.<fingerprint> (openssl verify -CAfile reads PEM)."""
    return [f"printf %s {base64.b64encode(der).decode('ascii')} | base64 -d >a.der && "
            f"run openssl x509 -inform DER -in a.der -out a.{fp}" for fp, der in sorted(candidates.items())]


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


