"""httpProxyConfig as the AKS resource provider treats it: server-side checks, stored shape, noProxy growth."""
from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from .web import Response, error

KNOWN_KEYS = ("httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled")
AKS_FIXED_NO_PROXY = ("konnectivity", "168.63.129.16", "169.254.169.254")
LOOPBACK_NO_PROXY = ("localhost", "127.0.0.1")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----")


def sanitize(cfg: dict) -> dict:
    """What the service keeps: the known keys, as sent (unknown keys and read-only effectiveNoProxy dropped)."""
    return {k: cfg[k] for k in KNOWN_KEYS if k in cfg and cfg[k] is not None}


def _url_ok(url: str) -> bool:
    if not isinstance(url, str) or url != url.strip() or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a non-numeric/out-of-range port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _pem_ok(value: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    match = _PEM_BLOCK.search(raw)
    if not match:
        return False
    try:
        base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def validate(cfg: object) -> Response | None:
    """The resource provider's own checks, with its error codes and messages. None when acceptable."""
    if not isinstance(cfg, dict):
        return error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
    cfg = sanitize(cfg)
    if not cfg.get("httpProxy") and not cfg.get("httpsProxy"):
        return error(400, "HTTPProxyConfigInputError", "HTTPProxy and HTTPSProxy both cannot be empty.")
    for key, prop in (("httpProxy", "HTTPProxy"), ("httpsProxy", "HTTPSProxy")):
        url = cfg.get(key)
        if url and not _url_ok(url):
            return error(400, "HTTPProxyWrongUrlError",
                         f"The url {url} is not correct for the property HTTPProxyConfig.{prop}")
    if "noProxy" in cfg and not (isinstance(cfg["noProxy"], list)
                                 and all(isinstance(x, str) for x in cfg["noProxy"])):
        return error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
    if cfg.get("trustedCa") and not _pem_ok(cfg["trustedCa"]):
        return error(400, "HTTPProxyTrustedCAPEMDecodeFailure",
                     "failed to decode HTTPProxyConfig.TrustedCA to PEM after base64 decoding.")
    return None


def windows_refusal(pool_name: str) -> Response:
    return error(400, "HTTPProxyConfigNotSupported",
                 f"HTTPProxyConfig is not supported or OSType: agent pool '{pool_name}' has OSType Windows; "
                 "HTTP proxy is only supported on Linux node pools.")


def service_entries(props: dict, vnet_cidrs: list) -> list:
    """The entries AKS adds to noProxy: loopback, konnectivity, node/pod/service CIDRs, wireserver, IMDS, API FQDN."""
    net = props.get("networkProfile") or {}
    pod = net.get("podCidrs") or ([net["podCidr"]] if net.get("podCidr") else [])
    svc = net.get("serviceCidrs") or ([net["serviceCidr"]] if net.get("serviceCidr") else [])
    out = [*LOOPBACK_NO_PROXY, AKS_FIXED_NO_PROXY[0], *vnet_cidrs, *pod, *svc, *AKS_FIXED_NO_PROXY[1:]]
    for fqdn in (props.get("fqdn"), props.get("privateFQDN")):
        if fqdn:
            out.append(fqdn)
    return out


def rendered(stored: dict, props: dict, vnet_cidrs: list) -> dict:
    """The response shape: user's noProxy grown by the service entries (deduplicated, user order first), the same
    list as effectiveNoProxy, everything else verbatim."""
    out = dict(stored)
    grown: list = []
    for entry in list(stored.get("noProxy") or []) + service_entries(props, vnet_cidrs):
        if entry not in grown:
            grown.append(entry)
    keyed: dict = {}
    for key in ("httpProxy", "httpsProxy"):
        if key in out:
            keyed[key] = out[key]
    keyed["noProxy"] = grown
    keyed["effectiveNoProxy"] = list(grown)
    for key in ("trustedCa", "enabled"):
        if key in out:
            keyed[key] = out[key]
    return keyed
