"""More subscriptions, bulk-seeded with settled clusters: the fleet that `az aks http-proxy audit` reads.

The seed subscription keeps its full read/write behaviour (clusters.py). Each fleet subscription is a read-only
snapshot: its clusters are built by the same code as a seeded cluster (control.settled_cluster, model.render_cluster)
and rendered once, with the subscription's id in every resource id, so listing thousands of them costs no more than
slicing a list. Served (GET only, as ARM serves them):

    GET /subscriptions                                            the seed subscription and every fleet one
    GET /subscriptions/{sub}                                      one subscription
    GET /subscriptions/{sub}/resourcegroups                       the groups holding its clusters
    GET /subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters           paged by nextLink
    GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters[/{name}]

Anything else under a fleet subscription (writes included) is answered 404 EmulatorRouteNotFound, journaled as
unhandled, unless it was seeded with `"writable": true`: then it has a store of its own, served by the seed
subscription's routes (writes, operations, pools, scale sets, run commands). Fleet Manager fleets (in any subscription, the seed one included) serve their members and update
strategies, read-only:

    GET .../resourceGroups/{rg}/providers/Microsoft.ContainerService/fleets/{fleet}/members             paged
    GET .../resourceGroups/{rg}/providers/Microsoft.ContainerService/fleets/{fleet}/updateStrategies/{name}
        (validated when seeded, answered in the api-version asked for: fleet_strategy.py)
 Seeding: POST /_emu/fleet (see `seed`), which also accepts the seed subscription's id: those clusters go
to the full store (control.seed_cluster).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import control, fleet_strategy, model, network
from .operations import page
from .state import SUBSCRIPTION_ID, TENANT_ID, Store
from .web import Request, Response, error, not_found, rg_not_found

if TYPE_CHECKING:
    from .server import Emulator

_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_MC = r"/providers/Microsoft\.ContainerService/managedClusters"
_ROUTES = (
    ("subscription", re.compile(_SUB + r"/?$", re.IGNORECASE)),
    ("groups", re.compile(_SUB + r"/resourcegroups/?$", re.IGNORECASE)),
    ("list", re.compile(_SUB + _MC + r"/?$", re.IGNORECASE)),
    ("list_rg", re.compile(_SUB + r"/resourcegroups/(?P<rg>[^/]+)" + _MC + r"/?$", re.IGNORECASE)),
    ("get", re.compile(_SUB + r"/resourcegroups/(?P<rg>[^/]+)" + _MC + r"/(?P<name>[^/]+)/?$", re.IGNORECASE)),
)
_NETWORK = re.compile(r"/providers/Microsoft\.Network/", re.IGNORECASE)
_ANY_SUB = re.compile(_SUB + r"(/|$)", re.IGNORECASE)
_FLEETS = _SUB + r"/resourcegroups/(?P<rg>[^/]+)/providers/Microsoft\.ContainerService/fleets/(?P<fleet>[^/]+)"
_FLEET_ROUTES = (
    ("members", re.compile(_FLEETS + r"/members/?$", re.IGNORECASE)),
    ("strategy", re.compile(_FLEETS + r"/updateStrategies/(?P<name>[^/]+)/?$", re.IGNORECASE)),
)
FLEET_TYPE = "Microsoft.ContainerService/fleets"
SUBSCRIPTION_STATES = ("Enabled", "Warned", "PastDue", "Disabled", "Deleted")


@dataclass
class FleetSubscription:
    id: str
    display_name: str
    state: str = "Enabled"
    clusters: list = field(default_factory=list)  # rendered ARM documents, sorted by resource id
    # "writable": true at seeding: a full store of its own, served by the seed subscription's routes (see seed)
    store: Store | None = None
    router: Any = None

    def body(self) -> dict:
        return subscription_body(self.id, self.display_name, self.state)


def subscription_body(sub: str, name: str, state: str = "Enabled") -> dict:
    """A subscription as GET /subscriptions lists it (api-version 2022-12-01)."""
    return {"id": f"/subscriptions/{sub}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": sub, "tenantId": TENANT_ID, "displayName": name, "state": state,
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Internal_2014-09-01",
                                     "spendingLimit": "Off"}}


class Fleet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.subscriptions: dict[str, FleetSubscription] = {}
        self.fleets: dict[tuple, dict] = {}  # (sub, rg, fleet) lower -> {"members": [...], "strategies": {...}}

    def clear(self) -> None:
        with self._lock:
            self.subscriptions = {}
            self.fleets = {}

    def seed_fleet_manager(self, spec: dict) -> dict:
        """``{"subscriptionId"?, "resourceGroup", "name", "members": [{"name", "clusterResourceId", "group"?}],
        "updateStrategies": [{"name", "strategy": {"stages": [...]}}]}``, rendered as Fleet Manager's REST API
        (api-version 2025-03-01) returns them."""
        sub = str(spec.get("subscriptionId") or SUBSCRIPTION_ID).lower()
        rg, name = spec["resourceGroup"], spec["name"]
        for u in spec.get("updateStrategies") or []:
            fleet_strategy.validate(u["strategy"])
        fleet_id = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{FLEET_TYPE}/{name}"
        members = [{"id": f"{fleet_id}/members/{m['name']}", "name": m["name"], "type": f"{FLEET_TYPE}/members",
                    "properties": {"clusterResourceId": m["clusterResourceId"], "provisioningState": "Succeeded",
                                   **({"group": m["group"]} if m.get("group") else {})}}
                   for m in spec.get("members") or []]
        strategies = {str(u["name"]).lower(): {
            "id": f"{fleet_id}/updateStrategies/{u['name']}", "name": u["name"], "type": f"{FLEET_TYPE}/updateStrategies",
            "properties": {"provisioningState": "Succeeded", "strategy": u["strategy"]}}
            for u in spec.get("updateStrategies") or []}
        with self._lock:
            self.fleets[(sub, rg.lower(), name.lower())] = {"members": members, "strategies": strategies}
        return {"members": len(members), "updateStrategies": len(strategies)}

    def _fleet_manager(self, emu: Emulator, req: Request) -> Response | None:
        for route, rx in _FLEET_ROUTES:
            hit = rx.match(req.path)
            if not hit or req.method != "GET":
                continue
            key = (hit.group("sub").lower(), hit.group("rg").lower(), hit.group("fleet").lower())
            with self._lock:
                fleet = self.fleets.get(key)
            if fleet is None:
                return not_found(FLEET_TYPE, hit.group("fleet"), hit.group("rg"))
            if route == "members":
                return page(emu.store, req, fleet["members"])
            found = fleet["strategies"].get(hit.group("name").lower())
            if found:
                version = req.query.get("api-version", "")
                found = {**found, "properties": {**found["properties"], "strategy": fleet_strategy.project(
                    found["properties"]["strategy"], version)}}
            return Response(200, found) if found else not_found(f"{FLEET_TYPE}/updateStrategies", hit.group("name"),
                                                                 hit.group("rg"))
        return None

    def describe(self) -> list:
        with self._lock:
            return [{"subscriptionId": s.id, "displayName": s.display_name, "state": s.state,
                     "clusters": len(s.clusters)} for s in self.subscriptions.values()]

    def seed(self, emu: Emulator, spec: dict) -> dict:
        """``{"subscriptions": [{"subscriptionId", "displayName"?, "state"?, "clusters": [{"resourceGroup",
        "name", ...cluster spec as for PUT /_emu/clusters}]}]}``; a subscription seeded again is replaced."""
        subs = spec.get("subscriptions")
        if not isinstance(subs, list):
            raise TypeError('"subscriptions" must be a list')
        built: list[FleetSubscription] = []
        seeded = 0
        for entry in subs:
            sub = str(entry["subscriptionId"]).lower()
            state = entry.get("state", "Enabled")
            if state not in SUBSCRIPTION_STATES:
                raise ValueError(f"subscription state must be one of {SUBSCRIPTION_STATES}")
            clusters = entry.get("clusters") or []
            if sub == SUBSCRIPTION_ID:
                for c in clusters:
                    c = dict(c)
                    control.seed_cluster(emu, c.pop("resourceGroup"), c.pop("name"), c)
                seeded += len(clusters)
                continue
            fs = FleetSubscription(sub, entry.get("displayName") or f"fleet-{sub[:8]}", state)
            if entry.get("writable"):
                _make_writable(emu, fs, clusters)
                built.append(fs)
                seeded += len(clusters)
                continue
            for c in clusters:
                c = dict(c)
                rg, name = c.pop("resourceGroup"), c.pop("name")
                with emu.store.lock:
                    cluster = control.settled_cluster(emu.store, rg, name, c)
                    rendered = model.render_cluster(emu.store, cluster)
                # Every id the model writes names the seed subscription: move the document to its own.
                fs.clusters.append(json.loads(json.dumps(rendered).replace(SUBSCRIPTION_ID, sub)))
                network.ensure_pool_vnets(emu.store, fs.clusters[-1]["properties"]["agentPoolProfiles"])
            fs.clusters.sort(key=lambda d: d["id"].lower())
            built.append(fs)
            seeded += len(clusters)
        with self._lock:
            for fs in built:
                self.subscriptions[fs.id] = fs
        return {"subscriptions": len(subs), "clusters": seeded}

    def dispatch(self, emu: Emulator, req: Request) -> Response | None:
        """The answer for a request about a fleet subscription (or the subscription list) or a Fleet Manager fleet;
        None for the rest."""
        resp = self._fleet_manager(emu, req) if self.fleets else None
        if resp is not None:
            return resp
        with self._lock:
            if not self.subscriptions:
                return None
            if req.method == "GET" and req.path.rstrip("/").lower() == "/subscriptions":
                subs = [subscription_body(SUBSCRIPTION_ID, "aksproxy-emulator")]
                subs += [s.body() for s in self.subscriptions.values()]
                return page(emu.store, req, subs)
            m = _ANY_SUB.match(req.path)
            fs = self.subscriptions.get(m.group("sub").lower()) if m else None
        if fs is None or (req.method == "GET" and _NETWORK.search(req.path)):
            return None  # VNets of any subscription are served by network.py
        if fs.store is not None and not (req.method == "GET" and _ROUTES[0][1].match(req.path)):
            return _serve_writable(fs, req)
        if req.method == "GET":
            for route, rx in _ROUTES:
                hit = rx.match(req.path)
                if hit:
                    return self._serve(emu, req, fs, route, hit.groupdict())
        resp = error(404, "EmulatorRouteNotFound",
                     f"The ARM emulator serves fleet subscription {fs.id} read-only; no route for {req.method} "
                     f"{req.path}.")
        resp.unhandled = True
        return resp

    @staticmethod
    def _serve(emu: Emulator, req: Request, fs: FleetSubscription, route: str, params: dict) -> Response:
        if route == "subscription":
            return Response(200, fs.body())
        groups = sorted({_group(c) for c in fs.clusters})
        if route == "groups":
            return Response(200, {"value": [
                {"id": f"/subscriptions/{fs.id}/resourceGroups/{g}", "name": g,
                 "type": "Microsoft.Resources/resourceGroups", "location": "westus2",
                 "properties": {"provisioningState": "Succeeded"}} for g in groups]})
        if route == "list":
            return page(emu.store, req, fs.clusters)
        rg = params["rg"].lower()
        if rg not in {g.lower() for g in groups}:
            return rg_not_found(params["rg"])
        in_group = [c for c in fs.clusters if _group(c).lower() == rg]
        if route == "list_rg":
            return page(emu.store, req, in_group)
        for c in in_group:
            if c["name"].lower() == params["name"].lower():
                return Response(200, c)
        return not_found("Microsoft.ContainerService/managedClusters", params["name"], params["rg"])


def _make_writable(emu: Emulator, fs: FleetSubscription, clusters: list) -> None:
    """A writable fleet subscription: a Store of its own (the emulator's timing config at seeding) with its
    clusters settled, served by the same routes as the seed subscription (arm.build_router): writes, operations,
    node pools, scale sets and run commands work there as in the seed subscription. Its clusters' VNets are the
    managed one (the VNets live in the seed store)."""
    from .arm import build_router

    fs.store = Store(copy.deepcopy(emu.store.config))
    for c in clusters:
        c = dict(c)
        rg, name = c.pop("resourceGroup"), c.pop("name")
        with fs.store.lock:
            cluster = control.settled_cluster(fs.store, rg, name, c)
            if fs.store.resource_group(rg) is None:
                fs.store.put_resource_group(rg, cluster.resource["location"])
            fs.store.save_cluster(cluster)
    fs.router = build_router(fs.store)
    with fs.store.lock:
        fs.clusters = sorted((_moved_body(model.render_cluster(fs.store, c), fs.id) for c in fs.store.clusters.values()),
                             key=lambda d: d["id"].lower())


def _moved_body(body: Any, sub: str) -> Any:
    """A document of the seed subscription's routes, its ids moved to subscription ``sub``."""
    return json.loads(json.dumps(body).replace(SUBSCRIPTION_ID, sub)) if isinstance(body, (dict, list)) else body


def _serve_writable(fs: FleetSubscription, req: Request) -> Response:
    """The request answered by the subscription's own store as if it were the seed subscription's (the path's
    subscription swapped in, the ids in the answer and its headers, such as Azure-AsyncOperation, swapped back)."""
    assert fs.store is not None and fs.router is not None
    inner = dataclasses.replace(req, path=_ANY_SUB.sub(f"/subscriptions/{SUBSCRIPTION_ID}/", req.path, count=1),
                                params={})
    with fs.store.lock:
        fs.store.tick()
        resp = fs.router.dispatch(inner)
    if resp is None:
        resp = error(404, "EmulatorRouteNotFound", f"The ARM emulator has no route for {req.method} {req.path}.")
        resp.unhandled = True
        return resp
    resp.body = _moved_body(resp.body, fs.id)
    resp.headers = {k: v.replace(SUBSCRIPTION_ID, fs.id) if isinstance(v, str) else v for k, v in resp.headers.items()}
    return resp


def _group(cluster: dict) -> str:
    return cluster["id"].split("/")[4]
