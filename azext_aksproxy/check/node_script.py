"""The node probe's script: the bash that :func:`build_script` generates from a NEW proxy config and the targets,
run on a node by the scale-set run command or in a pod on the node (what it prints is read back by
:mod:`node_probe`, whose docstring tells the protocol).

Pure: no azure-cli import.
"""
from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

from .chain import trusted_ca_certificates

if TYPE_CHECKING:
    from .node_probe import NodeProbe

RECORD = "AKSPROXY1"
_ERROR_BYTES = 240  # of curl's message: one line is all it ever says
# What the script needs; node images have them all (AgentBaker's own checks use curl and openssl), AKS run command's
# pod image may not (Azure/AKS issue 3034: kubectl, helm, later jq, grep, awk, xargs; network tools were asked for).
TOOLS = ("curl", "openssl", "timeout", "awk", "sed", "gzip", "base64", "mktemp", "env", "head")
# Hex digits of a certificate's SHA-256 named in records: enough to tell apart the few certificates of one check.
FINGERPRINT_HEX = 12
_PARALLEL = 16  # probes at once on the node: a long --target list is not a flood from one node
# Leaves not checked on the node that come back whole per issuer before the others are named by the first: the
# first targets are judged each by its own leaf, a hundred still fit into two or three runs.
_WHOLE_LEAVES_PER_ISSUER = 2


def build_script(probes: Sequence[NodeProbe], timeout: float, config: Mapping[str, Any],
                 known_certificates: Mapping[str, bytes] | None = None, share_leaves: bool = True) -> list[str]:
    """The script's lines (RunShellScript takes a list of lines). ``config`` is only read for proxy URLs, which
    must carry no credentials: the config rules refuse them, and a script is never the place to send one.
    ``known_certificates`` (by fingerprint) are not printed again. ``share_leaves``: a leaf not checked on the node
    may be named by another of its issuer (see :func:`shared_leaf_settled`); off, every such leaf comes back."""
    _refuse_user_info(config)
    candidates = issuer_candidates(config)
    return [
        *_preamble(len(probes)),
        *_write_issuers(candidates),
        f"known=' {' '.join(sorted({**(known_certificates or {}), **candidates}))} '",
        f"throttle() {{ while [ \"$(jobs -rp | wc -l)\" -ge {_PARALLEL} ]; do wait -n 2>/dev/null || sleep 0.1; done; }}",
        "b64() { base64 -w0; }",
        *_LEAF_FUNCTION,
        *_same_function(share_leaves),
        *_probe_function(max(1, round(timeout))),
        *(line for p in probes for line in ("throttle", f"probe {_probe_arguments(p)} &")),
        *_PRINT_RECORDS_THEN_CERTIFICATES,
    ]


def _refuse_user_info(config: Mapping[str, Any]) -> None:
    for field in ("httpProxy", "httpsProxy"):
        url = config.get(field) or ""
        if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            raise ValueError(f"{field} holds user info; it is never sent to a node")


def _preamble(targets: int) -> list[str]:
    """bash, a private temp dir removed on exit, the tools checked, and ``run``: a command without the node's
    environment (its own proxy settings above all)."""
    return [
        "#!/bin/bash",
        "[ -n \"${BASH_VERSION:-}\" ] || exec /bin/bash \"$0\" \"$@\"  # run command may start it with sh",
        f"# aksproxy: reach {targets} target(s) from this node through the HTTP proxy config about to be",
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
    ]


# The leaf checked here as Go checks it, against the certificate presented right after it, else against each
# certificate of the NEW trustedCa (a.<fingerprint>), never the node's store: signature and dates (openssl verify),
# the name against the subjectAltName only (never the CN: a leaf without a DNS name is not checked for a DNS
# target), no partial wildcards. Prints the issuer's file; a leaf that fails comes back whole, to be judged (and
# named) by aksproxy.
_LEAF_FUNCTION = (
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
)


def _same_function(share_leaves: bool) -> list[str]:
    """A leaf not checked here comes back whole for the first few targets of its issuer (name hash), the first of
    them the reference; the others name the reference (~<fingerprint>) and are judged by it, as failures only. The
    slots are claimed with mkdir, which only one probe can win."""
    return [
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
    ]


def _probe_function(seconds: int) -> list[str]:
    """``probe i url proxy-url|- tls-authority|- sni|- proxy-authority|- host``: curl through the proxy, then the
    chain the target presents through it, written to r.<i> as one record (certificates to c.<fingerprint>)."""
    return [
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
        *_CHAIN_LOOP,
        "  fi",
        f"  e=$(head -c {_ERROR_BYTES} \"e.$i\" | b64)",
        "  [ -n \"$e\" ] || e=-",
        f"  echo \"{RECORD} $i $rc $w $e $c\" >\"r.$i\"",
        "}",
    ]


# The presented chain, certificate by certificate. A leaf checked here is named by its fingerprint after '=' and
# not sent; then its issuer: a trustedCa certificate by its fingerprint alone (aksproxy has it), a presented one as
# any other, self-signed or not. Each certificate is printed once per run, and not at all when an earlier run
# brought it.
_CHAIN_LOOP = (
    "    n=1",
    "    while [ -f \"x.$i.$n\" ]; do",
    "      f=\"x.$i.$n\"",
    "      s=$(run openssl x509 -in \"$f\" -noout -subject -issuer -nameopt RFC2253 | sed 's/^[a-z]*=//' | uniq | wc -l)",
    "      d=\"d.$i.$n\"",
    "      run openssl x509 -in \"$f\" -outform DER >\"$d\"",
    f"      fp=$(run openssl dgst -sha256 -r \"$d\" | head -c {FINGERPRINT_HEX})",
    "      if [ \"$n\" = 1 ] && [ -n \"$v\" ]; then",
    "        c=\"=$fp\"",
    "        case \"$v\" in a.*) c=\"$c,${v#a.}\"; break;; esac",
    "      elif [ \"$n\" = 1 ] && r=$(same \"$i\" \"$fp\"); then c=\"~$r\"; break",
    "      elif [ \"$n\" = 1 ] || [ \"$s\" != 1 ] || { [ \"$n\" = 2 ] && [ -n \"$v\" ]; }; then",
    "        case \"$known\" in *\" $fp \"*) ;; *) [ -f \"c.$fp\" ] || {",
    f"          echo \"{RECORD} cert $fp $(gzip -9c \"$d\" | b64)\" >\"t.$fp.$i\" && mv \"t.$fp.$i\" \"c.$fp\"; }};; esac",
    "        if [ \"$c\" = - ]; then c=$fp; else c=\"$c,$fp\"; fi",
    "      fi",
    "      n=$((n + 1))",
    "    done",
)


def _probe_arguments(p: NodeProbe) -> str:
    """One probe call's arguments, quoted: see :func:`_probe_function`."""
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
    return " ".join(shlex.quote(a) for a in (str(p.index), t.url, proxy_url, hp, sni, proxy_authority, t.host))


# Records first (largest first), certificates last: a run command keeps the output's tail, so the certificates
# survive (and are not sent again), and the records cut off come back, short, in the next run.
_PRINT_RECORDS_THEN_CERTIFICATES = (
    "wait",
    "for f in $(ls -S r.* 2>/dev/null) $(ls -S c.* 2>/dev/null); do cat \"$f\"; done",
    "exit 0",
)


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
