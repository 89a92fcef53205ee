"""The /_emu control surface (HTTPS, no auth, never journaled):

GET    /_emu/info                       urls, ports, CA path, ids
GET    /_emu/journal[?since=N]          {"entries": [...], "last": N}
DELETE /_emu/journal                    clear the journal (sequence numbers keep growing)
POST   /_emu/reset                      state, config, faults and journal back to the seed
GET    /_emu/config   POST /_emu/config  timing/version config; POST merges keys (and "faults": [...] replaces the plan)
GET    /_emu/faults   POST /_emu/faults  rules (POST one rule or {"rules": [...]}), DELETE /_emu/faults clears
PUT    /_emu/clusters/{rg}/{name}       seed a cluster directly (server-owned fields may be given)
GET    /_emu/clusters/{rg}/{name}       {"stored", "rendered", "latestNodeImages", "operations"}
DELETE /_emu/clusters/{rg}/{name}
GET    /_emu/operations                 all operations; POST /_emu/operations/finish completes the running ones now
POST   /_emu/fleet                      bulk-seed further subscriptions and their clusters (fleet.py); GET lists
                                        them, DELETE removes them
GET    /_emu/runcommands                scripts received by either run command, with what the "node" printed
PUT    /_emu/vnets/{sub}/{rg}/{name}    seed a VNet: {"addressPrefixes", "subnets": {name: prefix}, "location",
                                        "readable"}; PATCH {"readable": false} makes its reads 403; GET /_emu/vnets
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from . import model, network, proxycfg, runcommand
from .state import Cluster, Store, cluster_key
from .web import Request, Response, Router, error

if TYPE_CHECKING:
    from .server import Emulator

ENVELOPE = ("location", "identity", "sku", "tags", "properties")
POOL_SERVER_FIELDS = ("provisioningState", "nodeImageVersion", "currentOrchestratorVersion", "powerState")
CLUSTER_SERVER_FIELDS = ("provisioningState", "fqdn", "privateFQDN", "currentKubernetesVersion", "powerState",
                         "resourceUID")
SEED_ONLY_POOL_FIELDS = ("latestNodeImageVersion", "latestModelApplied")
DEFAULT_POOL = {"name": "nodepool1", "count": 3, "vmSize": "Standard_DS2_v2", "mode": "System", "osType": "Linux"}


def seed_cluster(emu: Emulator, rg: str, name: str, spec: dict) -> dict:
    """Store a cluster as if it had been created and had settled, honouring any server-owned fields given:
    per pool provisioningState, nodeImageVersion, latestNodeImageVersion, currentOrchestratorVersion, powerState,
    latestModelApplied (false: its scale set instances do not run the latest model);
    per cluster provisioningState, fqdn, privateFQDN, currentKubernetesVersion, powerState, resourceUID. No
    validation, so states the service would refuse to create (Windows pool + proxy) can be set up."""
    with emu.store.lock:
        cluster = settled_cluster(emu.store, rg, name, spec)
        if emu.store.resource_group(rg) is None:
            emu.store.put_resource_group(rg, cluster.resource["location"])
        emu.store.save_cluster(cluster)
        return model.render_cluster(emu.store, cluster)


def settled_cluster(store: Store, rg: str, name: str, spec: dict) -> Cluster:
    """The cluster seed_cluster stores, not yet saved (fleet.py renders it into another subscription)."""
    spec = copy.deepcopy(spec)
    if "properties" not in spec:
        spec = {**{k: spec.pop(k) for k in list(spec) if k in ENVELOPE}, "properties": spec}
    spec.setdefault("location", "westus2")
    spec.setdefault("identity", {"type": "SystemAssigned"})
    props = spec["properties"]
    pools_in = props.get("agentPoolProfiles") or [dict(DEFAULT_POOL)]
    props["agentPoolProfiles"] = [{"count": DEFAULT_POOL["count"], **{k: v for k, v in p.items()
                                                                      if k not in SEED_ONLY_POOL_FIELDS}}
                                  for p in pools_in]
    overrides = {k: props[k] for k in CLUSTER_SERVER_FIELDS if k in props}
    if props.get("httpProxyConfig") is not None and not isinstance(props["httpProxyConfig"], dict):
        raise ValueError("httpProxyConfig must be an object")
    with store.lock:
        cluster = model.build_cluster(store, rg, name, spec, None, "Succeeded")
        model.provisioned(cluster)
        cluster.props.update(overrides)
        if "httpProxyConfig" in cluster.props:  # grown again: the service's noProxy names a seeded FQDN
            cluster.props["httpProxyConfig"] = proxycfg.sanitize(props["httpProxyConfig"])
            model.write_aks_no_proxy(store, cluster.props)
        for sent, pool in zip(pools_in, cluster.pools()):
            pool.update({k: sent[k] for k in POOL_SERVER_FIELDS if k in sent})
            if sent.get("latestNodeImageVersion"):
                cluster.latest_images[pool["name"].lower()] = sent["latestNodeImageVersion"]
            if sent.get("latestModelApplied") is False:  # nodes still on an older model (e.g. a proxy change)
                cluster.model_applied[pool["name"].lower()] = False
        cluster.new_etags()
        return cluster


def build_router(emu: Emulator) -> Router:
    store, router = emu.store, Router()

    def body_of(req: Request):
        try:
            return req.json() or {}
        except ValueError:
            return None

    def info(req: Request) -> Response:
        return Response(200, emu.info())

    def journal(req: Request) -> Response:
        since = int(req.query.get("since") or 0)
        return Response(200, {"entries": emu.journal.entries(since), "last": emu.journal.last})

    def journal_clear(req: Request) -> Response:
        return Response(200, {"cleared": emu.journal.clear(), "last": emu.journal.last})

    def reset(req: Request) -> Response:
        emu.reset()
        return Response(200, {"reset": True})

    def config_get(req: Request) -> Response:
        with store.lock:
            return Response(200, copy.deepcopy(store.config))

    def config_post(req: Request) -> Response:
        body = body_of(req)
        if not isinstance(body, dict):
            return error(400, "BadRequest", "config body must be a JSON object")
        faults = body.pop("faults", None)
        try:
            cfg = store.configure(body)
        except KeyError as exc:
            return error(400, "BadRequest", f"unknown config key {exc}")
        if faults is not None:
            emu.faults.clear()
            for rule in faults:
                emu.faults.add(rule)
        return Response(200, cfg)

    def faults_get(req: Request) -> Response:
        return Response(200, {"rules": emu.faults.describe()})

    def faults_post(req: Request) -> Response:
        body = body_of(req)
        rules = body.get("rules") if isinstance(body, dict) and "rules" in body else [body]
        try:
            added = [emu.faults.add(rule) for rule in rules]
        except (ValueError, TypeError, AttributeError) as exc:
            return error(400, "BadRequest", str(exc))
        return Response(200, {"added": added})

    def faults_clear(req: Request) -> Response:
        emu.faults.clear()
        return Response(200, {"rules": []})

    def cluster_put(req: Request) -> Response:
        body = body_of(req)
        if not isinstance(body, dict):
            return error(400, "BadRequest", "cluster spec must be a JSON object")
        try:
            return Response(200, seed_cluster(emu, req.params["rg"], req.params["name"], body))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return error(400, "BadRequest", f"bad cluster spec: {exc!r}")

    def cluster_get(req: Request) -> Response:
        with store.lock:
            store.tick()
            cluster = store.cluster(req.params["rg"], req.params["name"])
            if cluster is None:
                return error(404, "NotFound", "no such cluster")
            ops = [op.describe() for op in store.operations.values()
                   if op.cluster_key == cluster.key]
            return Response(200, {"stored": copy.deepcopy(cluster.resource), "rg": cluster.rg, "name": cluster.name,
                                  "latestNodeImages": {p["name"]: store.latest_image(cluster, p)
                                                       for p in cluster.pools()},
                                  "rendered": model.render_cluster(store, cluster), "operations": ops})

    def cluster_delete(req: Request) -> Response:
        with store.lock:
            store.drop_cluster(cluster_key(req.params["rg"], req.params["name"]))
        return Response(200, {"deleted": True})

    def ops_get(req: Request) -> Response:
        with store.lock:
            store.tick()
            return Response(200, {"operations": [op.describe() for op in store.operations.values()]})

    def ops_finish(req: Request) -> Response:
        with store.lock:
            running = [op for op in store.operations.values() if op.status == "InProgress"]
            for op in running:
                store.finish(op)
            return Response(200, {"finished": [op.id for op in running]})

    def fleet_post(req: Request) -> Response:
        body = body_of(req)
        if not isinstance(body, dict):
            return error(400, "BadRequest", "fleet spec must be a JSON object")
        try:
            return Response(200, emu.fleet.seed(emu, body))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return error(400, "BadRequest", f"bad fleet spec: {exc!r}")

    def fleet_get(req: Request) -> Response:
        return Response(200, {"subscriptions": emu.fleet.describe()})

    def fleet_clear(req: Request) -> Response:
        emu.fleet.clear()
        return Response(200, {"subscriptions": []})

    def fleet_manager_post(req: Request) -> Response:
        body = body_of(req)
        try:
            return Response(200, emu.fleet.seed_fleet_manager(body))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return error(400, "BadRequest", f"bad Fleet Manager spec: {exc!r}")

    router.add("POST", "/_emu/fleetmanager", fleet_manager_post)
    router.add("POST", "/_emu/fleet", fleet_post)
    router.add("GET", "/_emu/fleet", fleet_get)
    router.add("DELETE", "/_emu/fleet", fleet_clear)
    router.add("GET", "/_emu/info", info)
    router.add("GET", "/_emu/journal", journal)
    router.add("DELETE", "/_emu/journal", journal_clear)
    router.add("POST", "/_emu/reset", reset)
    router.add("GET", "/_emu/config", config_get)
    router.add("POST", "/_emu/config", config_post)
    router.add("GET", "/_emu/faults", faults_get)
    router.add("POST", "/_emu/faults", faults_post)
    router.add("DELETE", "/_emu/faults", faults_clear)
    router.add("PUT", "/_emu/clusters/{rg}/{name}", cluster_put)
    router.add("GET", "/_emu/clusters/{rg}/{name}", cluster_get)
    router.add("DELETE", "/_emu/clusters/{rg}/{name}", cluster_delete)
    def run_commands(req: Request) -> Response:
        with store.lock:
            return Response(200, {"runs": [r.describe() for r in store.run_commands.values()]})

    router.add("GET", "/_emu/runcommands", run_commands)

    def vnet_put(req: Request) -> Response:
        body = body_of(req)
        if not isinstance(body, dict):
            return error(400, "BadRequest", "VNet spec must be a JSON object")
        p = req.params
        try:
            record = network.seed_vnet(store, p["sub"], p["rg"], p["name"], body.get("addressPrefixes") or [],
                                       body.get("subnets") or {}, body.get("location") or "westus2",
                                       body.get("readable", True))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return error(400, "BadRequest", f"bad VNet spec: {exc!r}")
        return Response(200, network.vnet_body(record))

    def vnet_patch(req: Request) -> Response:
        body = body_of(req)
        p = req.params
        with store.lock:
            record = store.vnets.get(network.vnet_id(p["sub"], p["rg"], p["name"]).lower())
            if record is None:
                return error(404, "NotFound", "no such VNet")
            if not isinstance(body, dict) or not isinstance(body.get("readable"), bool):
                return error(400, "BadRequest", 'expected {"readable": true|false}')
            record["readable"] = body["readable"]
            return Response(200, copy.deepcopy(record))

    def vnets_get(req: Request) -> Response:
        return Response(200, {"vnets": network.describe(store)})

    router.add("PUT", "/_emu/vnets/{sub}/{rg}/{name}", vnet_put)
    router.add("PATCH", "/_emu/vnets/{sub}/{rg}/{name}", vnet_patch)
    router.add("GET", "/_emu/vnets", vnets_get)
    runcommand.register_control(router, store)
    router.add("GET", "/_emu/operations", ops_get)
    router.add("POST", "/_emu/operations/finish", ops_finish)
    return router
