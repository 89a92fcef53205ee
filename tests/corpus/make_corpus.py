"""Writes the config corpus: `good/` and `bad/` files and `index.json`, which says what each file must yield.

    python -m tests.corpus.make_corpus          # rewrite the files (from the repository root)
    python -m tests.corpus.make_corpus --check  # exit 1 if the committed files differ from what this writes

The output is reproducible: certificates come from a fixed key with RFC 6979 signatures and fixed dates (valid ones
until 2099, expired ones in 2020, future ones from 2098), so they mean the same whenever the tests run. The three
`good/sample-*` files are Azure CLI's own HTTP proxy test data (their certificates expire in 2031 and 2032).

Two cases are not committed (`"generated": true`): a file over 1 MiB and one nested 100,000 deep. Write them with
:func:`generated_bytes` wherever they are needed. The index format is described in README.md next to this file.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.armemu.fixtures import DATA_DIR
from tests.unit.certs import CertFactory, der, near_limit_bundle, pem, trusted_ca

CORPUS = Path(__file__).parent
SECRET = "S3cr3t-P@ss"  # the fake password of every credentials case; it must never be echoed
URL = "http://proxy.contoso.com:3128/"
HTTPS_URL = "https://proxy.contoso.com:3129/"
SEED = 0xA4B5_C0DE  # key of the corpus certificates; throwaway, nothing is signed with it but these files
# Not a real key: the rule only reads the PEM label, and no private key is committed.
FAKE_PRIVATE_KEY = b"-----BEGIN PRIVATE KEY-----\nTk9UIEEgUkVBTCBLRVksIE9OTFkgQSBMQUJFTA==\n-----END PRIVATE KEY-----\n"


@dataclass
class Case:
    file: str  # relative to tests/corpus
    data: bytes | None  # None when generated
    expect_codes: list[str]  # every finding code the file yields, errors and warnings, in any order
    path: str  # JSON path of the first finding with expect_codes[0] ("$" when none is expected)
    description: str
    secret: str | None = None  # a string that must appear in no finding
    generated: bool = False

    def index_entry(self) -> dict[str, Any]:
        return {"file": self.file, "expect_codes": self.expect_codes, "path": self.path, "secret": self.secret,
                "generated": self.generated, "description": self.description}


@dataclass
class _Builder:
    cases: list[Case] = field(default_factory=list)

    def json(self, file: str, doc: Any, codes: list[str], path: str, description: str,
             secret: str | None = None) -> None:
        self.raw(file, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode(), codes, path, description,
                 secret)

    def raw(self, file: str, data: bytes, codes: list[str], path: str, description: str,
            secret: str | None = None) -> None:
        self.cases.append(Case(file, data, codes, path, description, secret))

    def generated(self, file: str, codes: list[str], path: str, description: str) -> None:
        self.cases.append(Case(file, None, codes, path, description, generated=True))


def _generate_too_large() -> bytes:
    entries = ",\n".join(f'    "host-{i:06}.corp.contoso.com"' for i in range(32_000))
    return f'{{\n  "httpProxy": "{URL}",\n  "noProxy": [\n{entries}\n  ]\n}}\n'.encode()


def _generate_deep_nesting() -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


GENERATORS: dict[str, Callable[[], bytes]] = {
    "bad/too-large.json": _generate_too_large,
    "bad/deep-nesting.json": _generate_deep_nesting,
}


def generated_bytes(file: str) -> bytes:
    """The content of a generated case (its index entry has ``"generated": true``)."""
    return GENERATORS[file]()


def build() -> list[Case]:
    """Every case, in index order."""
    certs = CertFactory.reproducible(SEED)
    good_ca = trusted_ca(certs.proxy_ca())
    b = _Builder()
    _good(b, certs, good_ca)
    _loading(b)
    _shape(b, good_ca)
    _urls(b)
    _no_proxy(b)
    _trusted_ca(b, certs)
    _aggregate(b, certs)
    for case in b.cases:
        where = None if case.data is None else in_cluster_path(case.data)
        if where is not None:
            case.expect_codes.append(IN_CLUSTER)
            if len(case.expect_codes) == 1:
                case.path = where
    return b.cases


IN_CLUSTER = "noproxy-in-cluster"
_IN_CLUSTER_NAMES = ({"svc"}, {"svc.cluster.local", "cluster.local", "local"})


def in_cluster_path(data: bytes) -> str | None:
    """Where a file gets the in-cluster notice (None when it gets none), stated here independently of the rule: a
    JSON object that is not a wrapper and does not disable the proxy, whose noProxy (any key case) is absent, or a
    list whose strings lack `svc` or `svc.cluster.local` (or a parent of it), dots stripped."""
    def no_constants(name: str) -> None:
        raise ValueError(name)

    try:  # raw control characters inside strings are read (the URL and trustedCa rules name them); NaN is not JSON
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
        doc = json.loads(text, strict=False, parse_constant=no_constants)
    except ValueError:
        return None
    if not isinstance(doc, dict) or any(k.lower().replace("_", "") == "httpproxyconfig" for k in doc):
        return None
    if doc.get("enabled") is False:
        return None
    keys = [k for k in doc if k.lower() == "noproxy"]
    if not keys:
        return "$"
    entries = doc[keys[0]]
    if not isinstance(entries, list):
        return None
    names = {e.lower().strip(".") for e in entries if isinstance(e, str)}
    if all(names & wanted for wanted in _IN_CLUSTER_NAMES):
        return None
    return f"$.{keys[0]}"


def _good(b: _Builder, certs: CertFactory, good_ca: str) -> None:
    # Copies of Azure CLI's own test data, kept with the emulator's recordings: a change there shows up as a stale
    # corpus file here.
    for name, source, description in (
            ("sample-create.json", "httpproxyconfig.json", "Azure CLI's create test data (CA valid until 2032)"),
            ("sample-update.json", "httpproxyconfig_update.json", "Azure CLI's update test data (CA valid until 2031)"),
            ("sample-update-later.json", "httpproxyconfig_update.later_version.json",
             "a later version of the update test data")):
        b.raw(f"good/{name}", (DATA_DIR / source).read_bytes(), [], "$", description)
    b.json("good/minimal.json", {"httpProxy": URL}, [], "$", "httpProxy alone")
    b.json("good/https-proxy-only.json", {"httpsProxy": HTTPS_URL}, [], "$", "httpsProxy alone")
    b.json("good/full.json", {"httpProxy": URL, "httpsProxy": HTTPS_URL,
                              "noProxy": ["localhost", "127.0.0.1", ".svc", ".cluster.local", "mcr.microsoft.com",
                                          "::1"],
                              "trustedCa": good_ca, "enabled": True}, [], "$", "all five keys")
    b.json("good/enabled-false.json", {"httpProxy": URL, "enabled": False}, [], "$", "proxy disabled")
    b.json("good/ipv6-proxy.json", {"httpProxy": "http://[fd00::10]:3128/", "noProxy": ["fd00::1"]}, [], "$",
           "bracketed IPv6 proxy host")
    b.raw("good/utf8-bom.json", b"\xef\xbb\xbf" + json.dumps({"httpProxy": URL}).encode(), [], "$",
          "UTF-8 with a byte-order mark")
    b.raw("good/crlf-tabs.json", b'{\r\n\t"httpProxy": "' + URL.encode() + b'",\r\n\t"noProxy": ["localhost"]\r\n}\r\n',
          [], "$", "Windows line endings and tab indentation")
    b.json("good/bundle-of-20.json", {"httpProxy": URL, "trustedCa": near_limit_bundle(certs)}, [], "$",
           "20 CA certificates, just under 35 KB")
    b.json("good/warn-key-case.json", {"httpProxy": URL, "trustedCA": good_ca}, ["key-case"], "$.trustedCA",
           "trustedCA (the docs' spelling) is normalised to trustedCa")
    b.json("good/warn-trailing-slash.json", {"httpProxy": "http://proxy.contoso.com:3128"}, ["url-trailing-slash"],
           "$.httpProxy", "no trailing slash")
    b.json("good/warn-default-port.json", {"httpProxy": "http://proxy.contoso.com/"}, ["url-default-port"],
           "$.httpProxy", "no port")
    b.json("good/warn-noproxy-duplicate.json", {"httpProxy": URL, "noProxy": ["localhost", "LocalHost"]},
           ["noproxy-duplicate"], "$.noProxy[1]", "a noProxy entry repeated in another case")
    b.json("good/warn-noproxy-cidr.json", {"httpProxy": URL, "noProxy": ["10.0.0.0/8", "fd00::/8"]},
           ["noproxy-cidr"], "$.noProxy", "CIDRs: one notice for the list")
    b.json("good/warn-ca-not-ca.json", {"httpProxy": URL, "trustedCa": trusted_ca(certs.leaf())}, ["ca-not-ca"],
           "$.trustedCa", "a non-CA certificate")
    b.json("good/warn-ca-no-san.json", {"httpProxy": URL, "trustedCa": trusted_ca(certs.cn_only())},
           ["ca-no-san"], "$.trustedCa", "a CN-only certificate (openssl req -x509 -subj /CN=...)")


def _loading(b: _Builder) -> None:
    text = json.dumps({"httpProxy": URL, "noProxy": ["localhost"]}, indent=2) + "\n"
    b.raw("good/warn-encoding-utf16le-bom.json", text.encode("utf-16"), ["encoding-utf16"], "$",
          "UTF-16 LE with BOM (Windows PowerShell 5.1 `>`), which az reads")
    b.raw("good/warn-encoding-utf16be-bom.json", b"\xfe\xff" + text.encode("utf-16-be"), ["encoding-utf16"], "$",
          "UTF-16 BE with BOM, which az reads")
    b.raw("bad/encoding-utf16le-no-bom.json", text.encode("utf-16-le"), ["encoding"], "$", "UTF-16 LE, no BOM")
    b.raw("bad/encoding-utf32le-bom.json", text.encode("utf-32"), ["encoding"], "$", "UTF-32 LE with BOM")
    latin1 = json.dumps({"httpProxy": URL, "noProxy": ["b\u00fcro.contoso.com"]}, ensure_ascii=False)
    b.raw("bad/encoding-latin1.json", latin1.encode("latin-1"), ["encoding"], "$", "Latin-1 bytes")
    b.raw("bad/encoding-cp1252-quotes.json", '{\u201chttpProxy\u201d: "http://proxy:3128/"}'.encode("cp1252"),
          ["encoding"], "$", "Windows-1252 smart quotes")
    b.raw("bad/empty.json", b"", ["empty-file"], "$", "empty file")
    b.raw("bad/whitespace-only.json", b" \n\t\r\n", ["empty-file"], "$", "only whitespace")
    b.raw("bad/syntax-trailing-comma.json", f'{{\n  "httpProxy": "{URL}",\n}}\n'.encode(), ["json-syntax"], "$",
          "trailing comma")
    b.raw("bad/syntax-single-quotes.json", f"{{'httpProxy': '{URL}'}}\n".encode(), ["json-syntax"], "$",
          "single quotes")
    b.raw("bad/syntax-comment.json", f'{{\n  // corporate proxy\n  "httpProxy": "{URL}"\n}}\n'.encode(),
          ["json-syntax"], "$", "a // comment")
    b.raw("bad/syntax-missing-comma.json", f'{{"httpProxy": "{URL}" "noProxy": []}}\n'.encode(), ["json-syntax"],
          "$", "missing comma")
    b.raw("bad/syntax-unclosed.json", f'{{"httpProxy": "{URL}"\n'.encode(), ["json-syntax"], "$", "unclosed object")
    b.raw("bad/nan.json", f'{{"httpProxy": "{URL}", "enabled": NaN}}\n'.encode(), ["json-constant"], "$.enabled",
          "NaN")
    b.raw("bad/infinity.json", f'{{"httpProxy": "{URL}", "noProxy": [Infinity]}}\n'.encode(), ["json-constant"],
          "$.noProxy[0]", "Infinity")
    b.raw("bad/duplicate-key.json", f'{{"httpProxy": "{URL}", "noProxy": [], "httpProxy": "{URL}"}}\n'.encode(),
          ["duplicate-key"], "$.httpProxy", "httpProxy twice")
    b.raw("bad/duplicate-key-nested.json",
          f'{{"httpProxy": "{URL}", "extra": {{"a": 1, "a": 2}}}}\n'.encode(), ["duplicate-key", "unknown-key"],
          "$.extra.a", "a duplicate key one level down (inside an unknown key)")
    b.generated("bad/deep-nesting.json", ["json-too-deep"], "$", "arrays nested 100,000 deep")
    b.generated("bad/too-large.json", ["file-too-large"], "$", "a valid config over 1 MiB")
    b.json("bad/top-level-array.json", [{"httpProxy": URL}], ["not-object"], "$", "the object inside an array")
    b.json("bad/top-level-string.json", URL, ["not-object"], "$", "a bare string")
    b.raw("bad/top-level-null.json", b"null\n", ["not-object"], "$", "null")


def _shape(b: _Builder, good_ca: str) -> None:
    b.json("bad/wrapper.json", {"httpProxyConfig": {"httpProxy": URL, "noProxy": ["localhost"]}},
           ["wrapper-object"], "$.httpProxyConfig", "settings wrapped in httpProxyConfig")
    b.json("bad/wrapper-lowercase.json", {"httpproxyconfig": {"httpProxy": URL}}, ["wrapper-object"],
           "$.httpproxyconfig", "wrapper in lower case")
    b.json("bad/wrapper-with-error-inside.json", {"httpProxyConfig": {"httpProxy": "https://proxy:3128/"}},
           ["wrapper-object", "url-scheme"], "$.httpProxyConfig", "wrapper, and an https httpProxy inside")
    b.json("bad/snake-case-keys.json", {"http_proxy": URL, "https_proxy": HTTPS_URL, "no_proxy": ["localhost"]},
           ["unknown-key", "unknown-key", "unknown-key"], "$.http_proxy", "snake_case keys")
    b.json("bad/env-var-keys.json", {"HTTP_PROXY": URL, "NO_PROXY": ["localhost"]}, ["unknown-key", "unknown-key"],
           "$.HTTP_PROXY", "environment variable names")
    b.json("bad/kebab-case-keys.json", {"https-proxy": HTTPS_URL}, ["unknown-key"], '$["https-proxy"]',
           "kebab-case key")
    b.json("bad/snake-case-trusted-ca.json", {"httpProxy": URL, "trusted_ca": good_ca}, ["unknown-key"],
           "$.trusted_ca", "trusted_ca")
    b.json("bad/typo-key.json", {"httpProxy": URL, "noProxies": ["localhost"]}, ["unknown-key"], "$.noProxies",
           "a typo")
    b.json("bad/unrelated-key.json", {"httpProxy": URL, "region": "westus2"}, ["unknown-key"], "$.region",
           "a key the API does not have")
    b.json("bad/effective-no-proxy.json", {"httpProxy": URL, "noProxy": ["localhost"],
                                           "effectiveNoProxy": ["localhost", "konnectivity", "10.224.0.0/16"]},
           ["read-only-key"], "$.effectiveNoProxy", "effectiveNoProxy copied from az aks show")
    b.json("bad/az-show-output.json", {"enabled": True, "httpProxy": URL, "httpsProxy": None,
                                       "noProxy": ["localhost"], "trustedCa": None,
                                       "effectiveNoProxy": ["localhost", "konnectivity"]},
           ["type", "type", "read-only-key"], "$.httpsProxy", "httpProxyConfig as az aks show prints it")
    b.json("bad/key-case-duplicate.json", {"httpProxy": URL, "trustedCa": good_ca, "trustedCA": good_ca},
           ["duplicate-key"], "$.trustedCA", "trustedCa and trustedCA")
    b.json("bad/enabled-string.json", {"httpProxy": URL, "enabled": "true"}, ["type"], "$.enabled",
           '"true" in quotes')
    b.json("bad/enabled-number.json", {"httpProxy": URL, "enabled": 1}, ["type"], "$.enabled", "1 for true")
    b.json("bad/noproxy-string.json", {"httpProxy": URL, "noProxy": "localhost,127.0.0.1,.svc"}, ["type"],
           "$.noProxy", "noProxy as a comma-separated string")
    b.json("bad/noproxy-number-entry.json", {"httpProxy": URL, "noProxy": ["localhost", 10]}, ["type"],
           "$.noProxy[1]", "a number in noProxy")
    b.json("bad/httpproxy-null.json", {"httpProxy": None, "httpsProxy": HTTPS_URL}, ["type"], "$.httpProxy",
           "null httpProxy")
    b.json("bad/httpproxy-array.json", {"httpProxy": [URL]}, ["type"], "$.httpProxy", "httpProxy as an array")
    b.json("bad/trustedca-array.json", {"httpProxy": URL, "trustedCa": [good_ca, good_ca]}, ["type"],
           "$.trustedCa", "one string per certificate")


def _urls(b: _Builder) -> None:
    def url(file: str, value: str, codes: list[str], description: str, field: str = "httpProxy",
            secret: str | None = None) -> None:
        b.json(file, {field: value}, codes, f"$.{field}", description, secret)

    b.json("bad/no-proxy-url.json", {"noProxy": ["localhost"]}, ["no-proxy-url"], "$", "no proxy URL at all")
    b.json("bad/both-proxies-empty.json", {"httpProxy": "", "httpsProxy": ""}, ["no-proxy-url"], "$",
           "both URLs empty")
    url("bad/httpproxy-https-scheme.json", "https://proxy.contoso.com:3128/", ["url-scheme"], "https:// httpProxy")
    url("bad/httpproxy-no-scheme.json", "proxy.contoso.com:3128/", ["url-scheme"], "no scheme")
    url("bad/httpproxy-mistyped-scheme.json", "http:/proxy.contoso.com:3128/", ["url-scheme"], "http:/ (one slash)")
    url("bad/httpsproxy-socks5.json", "socks5://proxy.contoso.com:1080/", ["url-scheme"], "SOCKS", "httpsProxy")
    url("bad/httpproxy-credentials.json", f"http://alice:{SECRET}@proxy.contoso.com:3128/", ["url-credentials"],
        "user:password@", secret=SECRET)
    url("bad/httpproxy-user-only.json", "http://alice@proxy.contoso.com:3128/", ["url-credentials"], "user@")
    url("bad/httpsproxy-credentials.json", f"https://alice:{SECRET}@proxy.contoso.com:3129/", ["url-credentials"],
        "user:password@ in httpsProxy", "httpsProxy", secret=SECRET)
    url("bad/credentials-no-scheme.json", f"alice:{SECRET}@proxy.contoso.com:3128/",
        ["url-scheme", "url-credentials"], "user:password@ and no scheme", secret=SECRET)
    url("bad/url-port-zero.json", "http://proxy.contoso.com:0/", ["url-port"], "port 0")
    url("bad/url-port-too-big.json", "http://proxy.contoso.com:65536/", ["url-port"], "port 65536")
    url("bad/url-port-not-number.json", "http://proxy.contoso.com:squid/", ["url-port"], "port not a number")
    url("bad/url-query.json", "http://proxy.contoso.com:3128/?auth=1", ["url-query"], "a query")
    url("bad/url-fragment.json", "http://proxy.contoso.com:3128/#main", ["url-fragment"], "a fragment")
    url("bad/url-path.json", "http://proxy.contoso.com:3128/proxy.pac", ["url-path"], "a path (a PAC file)")
    url("bad/url-trailing-space.json", "http://proxy.contoso.com:3128/ ", ["url-whitespace"], "a trailing space")
    url("bad/url-newline.json", "http://proxy.contoso.com:3128/\n", ["url-whitespace"], "an escaped newline")
    b.raw("bad/url-raw-tab.json", b'{"httpProxy": "http://proxy.contoso.com:3128/\t"}\n', ["url-whitespace"],
          "$.httpProxy", "a raw tab inside the string")
    url("bad/url-ipv6-unbracketed.json", "http://fd00::10:3128/", ["url-host"], "IPv6 without brackets")
    url("bad/url-ipv6-bad-address.json", "http://[fd00::zz]:3128/", ["url-host"], "not an IPv6 address")
    b.json("good/warn-url-host-underscore.json", {"httpProxy": "http://my_proxy:3128/"}, ["url-host-underscore"],
           "$.httpProxy", "underscore in the proxy host (AD/Windows name): undocumented in AKS, a warning")
    url("bad/url-no-host.json", "http://:3128/", ["url-host"], "no host")


def _no_proxy(b: _Builder) -> None:
    def entry(file: str, value: str, codes: list[str], description: str, secret: str | None = None) -> None:
        b.json(file, {"httpProxy": URL, "noProxy": ["localhost", value]}, codes, "$.noProxy[1]", description,
               secret)

    entry("bad/noproxy-wildcard.json", "*.corp.contoso.com", ["noproxy-wildcard"], "*. wildcard")
    entry("bad/noproxy-star.json", "*", ["noproxy-wildcard"], "bare *")
    entry("bad/noproxy-url.json", "https://registry.contoso.com/", ["noproxy-url"], "a URL")
    entry("bad/noproxy-url-credentials.json", f"http://alice:{SECRET}@registry.contoso.com",
          ["noproxy-url"], "a URL with credentials", SECRET)
    entry("bad/noproxy-host-port.json", "registry.contoso.com:5000", ["noproxy-port"], "host:port")
    entry("bad/noproxy-ipv6-brackets.json", "[fd00::1]", ["noproxy-brackets"], "bracketed IPv6")
    entry("bad/noproxy-cidr-host-bits.json", "10.0.0.1/8", ["noproxy-bad-cidr"], "CIDR with host bits")
    entry("bad/noproxy-cidr-prefix-33.json", "10.0.0.0/33", ["noproxy-bad-cidr"], "IPv4 prefix /33")
    entry("bad/noproxy-ipv6-cidr-129.json", "fd00::/129", ["noproxy-bad-cidr"], "IPv6 prefix /129")
    entry("bad/noproxy-empty-entry.json", "", ["noproxy-empty"], "empty string")
    entry("bad/noproxy-space.json", "mcr.microsoft.com ", ["noproxy-whitespace"], "trailing space")
    entry("bad/noproxy-control-char.json", "mcr.microsoft\u0007.com", ["noproxy-whitespace"], "control character")
    entry("bad/noproxy-comma.json", "127.0.0.1,.svc", ["noproxy-comma"], "two hosts in one entry")
    entry("bad/noproxy-bad-ipv4.json", "10.0.0.256", ["noproxy-invalid"], "octet over 255")
    entry("good/warn-noproxy-underscore.json", "my_host.corp.contoso.com", ["noproxy-underscore"],
          "underscore (AD/Windows name): the service's acceptance is unclear, a warning")
    entry("good/warn-noproxy-trailing-dot.json", "source-controller.flux-system.svc.cluster.local.",
          ["noproxy-trailing-dot"], "trailing dot: refused by AKS in March 2026, accepted since 2026-04-02")
    entry("bad/noproxy-ipv6-zone.json", "fe80::1%eth0", ["noproxy-invalid"], "IPv6 zone index")


def _trusted_ca(b: _Builder, certs: CertFactory) -> None:
    def ca(file: str, value: str, codes: list[str], description: str) -> None:
        b.json(file, {"httpProxy": URL, "trustedCa": value}, codes, "$.trustedCa", description)

    proxy_pem = pem(certs.proxy_ca("proxy.contoso.com"))
    b.raw("bad/ca-raw-pem.json", b'{\n  "httpProxy": "' + URL.encode() + b'",\n  "trustedCa": "' + proxy_pem.strip()
          + b'"\n}\n', ["ca-not-base64"], "$.trustedCa", "raw PEM pasted with its line breaks")
    ca("bad/ca-raw-pem-escaped.json", proxy_pem.decode(), ["ca-not-base64"], "raw PEM with \\n escapes")
    ca("bad/ca-wrapped-base64.json", "\n".join(textwrap.wrap(base64.b64encode(proxy_pem).decode(), 76)),
       ["ca-base64"], "base64 wrapped at 76 columns (base64 without -w0)")
    ca("bad/ca-url-safe.json", base64.urlsafe_b64encode(der(certs.proxy_ca("url-safe.contoso.com"))).decode(),
       ["ca-base64", "ca-der"], "URL-safe base64 (of DER, the only input where it differs)")
    ca("bad/ca-bad-padding.json", base64.b64encode(proxy_pem).decode().rstrip("=")[:-1], ["ca-base64"],
       "padding cut off")
    ca("bad/ca-not-base64-chars.json", "not base64: \u201ccopied from a document\u201d", ["ca-base64"],
       "words and smart quotes")
    ca("bad/ca-der.json", base64.b64encode(der(certs.proxy_ca())).decode(), ["ca-der"], "base64 of DER")
    ca("bad/ca-not-pem.json", base64.b64encode(b"subject=CN=proxy.contoso.com\n").decode(), ["ca-not-pem"],
       "base64 of text that is not PEM")
    ca("bad/ca-double-encoded.json", base64.b64encode(base64.b64encode(proxy_pem)).decode(), ["ca-not-pem"],
       "base64 applied twice")
    ca("bad/ca-private-key.json", base64.b64encode(proxy_pem + FAKE_PRIVATE_KEY).decode(), ["ca-private-key"],
       "certificate and (fake) private key")
    ca("bad/ca-csr.json", base64.b64encode(certs.csr_pem()).decode(), ["ca-not-certificate"],
       "a certificate request")
    garbage = b"-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    ca("bad/ca-garbage-cert.json", base64.b64encode(proxy_pem + garbage).decode(), ["ca-cert-invalid"],
       "second CERTIFICATE block does not parse")
    ca("bad/ca-truncated-pem.json", base64.b64encode(proxy_pem[:300]).decode(), ["ca-not-pem"],
       "PEM cut off before its END line")
    ca("bad/ca-expired.json", trusted_ca(certs.expired("Contoso Old Root")), ["ca-expired"], "expired in 2020")
    ca("bad/ca-not-yet-valid.json", trusted_ca(certs.not_yet_valid("Contoso Future Root")), ["ca-not-yet-valid"],
       "valid from 2098")
    ca("bad/ca-too-many.json", trusted_ca(*[certs.issuing_ca(f"Contoso CA {i}") for i in range(21)]),
       ["ca-too-many"], "21 certificates")
    big = certs.make("Contoso Big CA", sans=tuple(f"host-{i:04}.proxy.corp.contoso.com" for i in range(800)))
    ca("bad/ca-too-large.json", trusted_ca(big), ["ca-too-large"], "one certificate, over 35 KB")
    ca("bad/ca-empty.json", "", ["ca-empty"], "empty string")


def _aggregate(b: _Builder, certs: CertFactory) -> None:
    b.json("bad/several-problems.json",
           {"httpProxy": "https://proxy.contoso.com:3128/", "noProxy": ["localhost", "*.corp.contoso.com"],
            "trustedCa": trusted_ca(certs.expired("Contoso Old Root"))},
           ["url-scheme", "noproxy-wildcard", "ca-expired"], "$.httpProxy",
           "a bad httpProxy, a bad noProxy entry and an expired CA: three errors at once")
    b.json("bad/everything-wrong.json",
           {"trustedCA": trusted_ca(certs.cn_only()), "httpProxy": f"http://alice:{SECRET}@proxy.contoso.com:3128",
            "no_proxy": ["localhost"], "noProxy": ["a.contoso.com", "A.contoso.com", "10.0.0.1/8", "[::1]"],
            "httpsProxy": "socks5://proxy.contoso.com:1080/", "enabled": "true", "effectiveNoProxy": []},
           ["key-case", "ca-no-san", "url-credentials", "url-trailing-slash", "unknown-key", "noproxy-duplicate",
            "noproxy-bad-cidr", "noproxy-brackets", "url-scheme", "type", "read-only-key"], "$.trustedCA",
           "one of nearly everything", SECRET)


def write(cases: list[Case]) -> None:
    for directory in ("good", "bad"):
        (CORPUS / directory).mkdir(exist_ok=True)
        for stale in (CORPUS / directory).glob("*.json"):
            if not stale.name.startswith("sample-"):  # the samples are inputs, copied in by hand
                stale.unlink()
    for case in cases:
        if case.data is not None:
            (CORPUS / case.file).write_bytes(case.data)
    (CORPUS / "index.json").write_text(render_index(cases), encoding="utf-8")


def render_index(cases: list[Case]) -> str:
    return json.dumps([case.index_entry() for case in cases], indent=2, ensure_ascii=False) + "\n"


def differences(cases: list[Case]) -> list[str]:
    """Files whose committed content is not what :func:`build` makes."""
    found = []
    for case in cases:
        path = CORPUS / case.file
        if case.data is not None and (not path.is_file() or path.read_bytes() != case.data):
            found.append(case.file)
    if (CORPUS / "index.json").read_text(encoding="utf-8") != render_index(cases):
        found.append("index.json")
    listed = {case.file for case in cases}
    found += [f"{p.parent.name}/{p.name} (not in the index)" for d in ("good", "bad")
              for p in sorted((CORPUS / d).glob("*")) if f"{d}/{p.name}" not in listed]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    cases = build()
    if args.check:
        stale = differences(cases)
        print("\n".join(stale) or "corpus up to date")
        return 1 if stale else 0
    write(cases)
    print(f"wrote {sum(c.data is not None for c in cases)} files and index.json ({len(cases)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
