"""Microsoft.Network virtual networks: what AKS reads to learn a custom VNet's address space, and what az reads.

Served (GET only, any api-version; `az network vnet show` in az 2.91 sends 2025-07-01, core's MGMT_NETWORK
profile names 2022-01-01; the shape is the same):

    GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}
    GET .../virtualNetworks/{vnet}/subnets                    {"value": [subnet, ...]}
    GET .../virtualNetworks/{vnet}/subnets/{subnet}

Body: the VirtualNetwork / Subnet REST shapes (id, name, type, location, etag, properties.provisioningState,
resourceGuid, addressSpace.addressPrefixes, subnets[].properties.addressPrefix, ...). A VNet may live in any
subscription (a custom VNet in a network hub's subscription is common). A VNet seeded with `readable: false`
answers its reads with ARM's 403 AuthorizationFailed for the emulator's identity; AKS itself still sees it (the
cluster's identity holds Network Contributor on the subnet), so its address space still lands in noProxy.

A pool's `vnetSubnetID` naming a VNet nobody seeded creates that VNet (UNSEEDED_VNET_PREFIX, one /24 per
subnet named), so that clusters seeded or created with any subnet id stay readable; Azure would refuse such a
cluster (the subnet does not exist), so this is a convenience, not a model.
"""
from __future__ import annotations

import copy
import ipaddress
import itertools
import re

from .identity import CLIENT_ID, PRINCIPAL_ID
from .state import SUBSCRIPTION_ID, Store
from .web import Request, Response, Router, error, not_found, rg_not_found, stable_guid

VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
# the address space of a VNet a pool names without it having been seeded (distinct from the managed VNet's
# 10.224.0.0/12, so a test cannot pass by confusing the two)
UNSEEDED_VNET_PREFIX = "10.99.0.0/16"
VNET = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}"
_SUBNET_ID = re.compile(r"^(?P<vnet>/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                        r"Microsoft\.Network/virtualNetworks/(?P<name>[^/]+))/subnets/(?P<subnet>[^/]+)/?$",
                        re.IGNORECASE)


def vnet_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{name}"


def parse_subnet_id(subnet_id: str) -> dict | None:
    """{vnet (id), sub, rg, name, subnet} of a subnet id, or None when it is not one."""
    m = _SUBNET_ID.match(subnet_id or "")
    return m.groupdict() if m else None


def _etag(seed: str) -> str:
    return f'W/"{stable_guid("etag/" + seed)}"'


def seed_vnet(store: Store, sub: str, rg: str, name: str, prefixes: list, subnets: dict | list,
              location: str = "westus2", readable: bool = True) -> dict:
    """Store a VNet. `subnets`: {name: prefix} or [{"name", "addressPrefix"}]. Returns its record."""
    if not prefixes or not all(isinstance(p, str) for p in prefixes):
        raise ValueError("addressPrefixes must be a non-empty list of CIDR strings")
    for p in prefixes:
        ipaddress.ip_network(p, strict=False)  # ValueError on a bad prefix
    if isinstance(subnets, list):
        subnets = {s["name"]: s.get("addressPrefix") for s in subnets}
    record = {"id": vnet_id(sub, rg, name), "sub": sub.lower(), "rg": rg, "name": name,
              "location": location.replace(" ", "").lower(), "prefixes": list(prefixes),
              "subnets": dict(subnets or {}), "readable": bool(readable)}
    with store.lock:
        store.vnets[record["id"].lower()] = record
    return record


def _next_subnet_prefix(record: dict) -> str:
    """The n-th /24 of the VNet's first prefix for its n-th subnet (the whole prefix when it is no larger)."""
    space = ipaddress.ip_network(record["prefixes"][0], strict=False)
    if space.prefixlen >= 24:
        return str(space)
    return str(next(itertools.islice(space.subnets(new_prefix=24), len(record["subnets"]), None), space))


def ensure_pool_vnets(store: Store, pools: list) -> None:
    """Create the VNet (and subnet) of every pool `vnetSubnetID` that names one not seeded (see the module doc)."""
    with store.lock:
        for pool in pools:
            parts = parse_subnet_id(pool.get("vnetSubnetID") or "")
            if parts is None:
                continue
            record = store.vnets.get(parts["vnet"].lower())
            if record is None:
                record = seed_vnet(store, parts["sub"], parts["rg"], parts["name"], [UNSEEDED_VNET_PREFIX], {})
            if not any(s.lower() == parts["subnet"].lower() for s in record["subnets"]):
                record["subnets"][parts["subnet"]] = _next_subnet_prefix(record)


def pool_vnet_prefixes(store: Store, pools: list) -> list:
    """The address prefixes of the VNets the pools' subnets are in, once each, in pool order (an unseeded VNet
    counts with UNSEEDED_VNET_PREFIX, as ensure_pool_vnets will create it)."""
    out: list = []
    for pool in pools:
        parts = parse_subnet_id(pool.get("vnetSubnetID") or "")
        if parts is None:
            continue
        record = store.vnets.get(parts["vnet"].lower())
        for prefix in (record["prefixes"] if record else [UNSEEDED_VNET_PREFIX]):
            if prefix not in out:
                out.append(prefix)
    return out


def subnet_body(record: dict, name: str, prefix: str | None) -> dict:
    sid = f"{record['id']}/subnets/{name}"
    props: dict = {"provisioningState": "Succeeded"}
    if prefix:
        props["addressPrefix"] = prefix
    props.update({"delegations": [], "privateEndpointNetworkPolicies": "Disabled",
                  "privateLinkServiceNetworkPolicies": "Enabled"})
    return {"id": sid, "name": name, "etag": _etag(sid), "type": SUBNET_TYPE, "properties": props}


def vnet_body(record: dict) -> dict:
    return {"id": record["id"], "name": record["name"], "type": VNET_TYPE, "location": record["location"],
            "etag": _etag(record["id"] + "/" + ",".join(record["prefixes"])),
            "properties": {"provisioningState": "Succeeded", "resourceGuid": stable_guid(record["id"]),
                           "addressSpace": {"addressPrefixes": list(record["prefixes"])},
                           "subnets": [subnet_body(record, n, p) for n, p in record["subnets"].items()],
                           "virtualNetworkPeerings": [], "enableDdosProtection": False}}


def authorization_failed(scope: str, action: str) -> Response:
    """ARM's 403 for a read the caller's role assignments do not allow (its wording, the emulator's identity)."""
    return error(403, "AuthorizationFailed",
                 f"The client '{CLIENT_ID}' with object id '{PRINCIPAL_ID}' does not have authorization to perform "
                 f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
                 "please refresh your credentials.")


def register(router: Router, store: Store) -> None:
    def find(req: Request):
        """(record, None) or (None, the error ARM would send)."""
        sub, rg, name = req.params["sub"].lower(), req.params["rg"], req.params["vnet"]
        record = store.vnets.get(vnet_id(sub, rg, name).lower())
        if record is not None:
            if not record["readable"]:
                return None, authorization_failed(record["id"], "Microsoft.Network/virtualNetworks/read")
            return record, None
        known_subs = {v["sub"] for v in store.vnets.values()} | {SUBSCRIPTION_ID}
        if sub not in known_subs:
            return None, error(404, "SubscriptionNotFound", f"The subscription '{req.params['sub']}' could not be "
                                                            "found.")
        rg_known = (sub == SUBSCRIPTION_ID and store.resource_group(rg) is not None) or any(
            v["sub"] == sub and v["rg"].lower() == rg.lower() for v in store.vnets.values())
        if not rg_known:
            return None, rg_not_found(rg)
        return None, not_found(VNET_TYPE, name, rg)

    def get_vnet(req: Request) -> Response:
        record, err = find(req)
        return err or Response(200, vnet_body(record))

    def list_subnets(req: Request) -> Response:
        record, err = find(req)
        return err or Response(200, {"value": vnet_body(record)["properties"]["subnets"]})

    def get_subnet(req: Request) -> Response:
        record, err = find(req)
        if err:
            return err
        for name, prefix in record["subnets"].items():
            if name.lower() == req.params["subnet"].lower():
                return Response(200, subnet_body(record, name, prefix))
        return not_found(SUBNET_TYPE, f"{record['name']}/{req.params['subnet']}", record["rg"])

    router.add("GET", VNET, get_vnet)
    router.add("GET", VNET + "/subnets", list_subnets)
    router.add("GET", VNET + "/subnets/{subnet}", get_subnet)


def describe(store: Store) -> list:
    with store.lock:
        return [copy.deepcopy(v) for v in store.vnets.values()]
