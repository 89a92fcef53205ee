"""httpProxyConfig as the AKS resource provider treats it: server-side checks, stored shape, noProxy growth."""
from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from .web import Response, error

KNOWN_KEYS = ("httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled")
LOOPBACK_NO_PROXY = ("localhost", "127.0.0.1")
KONNECTIVITY = "konnectivity"
WIRESERVER = "168.63.129.16"  # Azure's platform DNS / health endpoint
IMDS = "169.254.169.254"
MANAGED_VNET_SPACE = "10.224.0.0/12"  # the VNet AKS creates when no pool names a subnet
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


def _pods_on_node_network(net: dict) -> bool:
    """Azure CNI without overlay gives pods addresses of the node subnet: their range is the VNet's."""
    return (net.get("networkPlugin") or "").lower() == "azure" and \
        (net.get("networkPluginMode") or "").lower() != "overlay"


def aks_entries(props: dict, vnet_prefixes: list) -> list:
    """What the service writes into noProxy, in the emulator's fixed order (README, "httpProxyConfig", says what
    each rests on). vnet_prefixes: the address prefixes of the VNets the pools' subnets are in (empty: managed VNet)."""
    net = props.get("networkProfile") or {}
    node_network = list(vnet_prefixes) or [MANAGED_VNET_SPACE]
    pods = [] if _pods_on_node_network(net) else (net.get("podCidrs") or [net.get("podCidr")])
    services = net.get("serviceCidrs") or [net.get("serviceCidr")]
    api_servers = [props.get("fqdn"), props.get("privateFQDN")]
    wanted = [*LOOPBACK_NO_PROXY, KONNECTIVITY, *node_network, *pods, *services, WIRESERVER, IMDS, *api_servers]
    return [e for e in wanted if e]


def grow_no_proxy(cfg: dict, props: dict, vnet_prefixes: list) -> None:
    """Write the service's entries into the stored noProxy (the recordings: the GET after a PUT of
    ["localhost", "127.0.0.1"] lists all of them): the client's list in its order, then what it lacks."""
    grown = list(dict.fromkeys(cfg.get("noProxy") or []))
    grown += [e for e in dict.fromkeys(aks_entries(props, vnet_prefixes)) if e not in grown]
    cfg["noProxy"] = grown


def rendered(stored: dict) -> dict:
    """The response shape: the stored config, noProxy mirrored as effectiveNoProxy, in the recorded key order."""
    out = {k: stored[k] for k in ("httpProxy", "httpsProxy") if k in stored}
    out["noProxy"] = list(stored.get("noProxy") or [])
    out["effectiveNoProxy"] = list(out["noProxy"])
    out.update((k, stored[k]) for k in ("trustedCa", "enabled") if k in stored)
    return out
