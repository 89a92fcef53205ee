"""managedClusters/{name}/agentPools: list, GET, PUT, DELETE, upgrade profile, upgradeNodeImageVersion."""
from __future__ import annotations

from . import model, network, operations, proxycfg
from .resources import MC, POOL_NAME, find_cluster, json_body
from .state import Cluster, Operation, Store
from .web import Request, Response, Router, error

AP = MC + "/{name}/agentPools"


def _pool_not_found(cluster: Cluster, pool: str) -> Response:
    return error(404, "NotFound", f"Could not find agent pool '{pool}' in managed cluster '{cluster.name}'.")


def upgrade_seconds(store: Store, pool: str) -> float:
    by_pool = {k.lower(): v for k, v in store.config["pool_upgrade_seconds_by_pool"].items()}
    return float(by_pool.get(pool.lower(), store.config["pool_upgrade_seconds"]))


def pool_upgrade_profile(store: Store, cluster: Cluster, pool: dict) -> dict:
    return {"id": f"{model.cluster_id(cluster.rg, cluster.name)}/agentPools/{pool['name']}/upgradeProfiles/default",
            "name": "default", "type": "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles",
            "properties": {"kubernetesVersion": pool.get("currentOrchestratorVersion"),
                           "osType": pool.get("osType", "Linux"), "upgrades": [],
                           "latestNodeImageVersion": store.latest_image(cluster, pool)}}


def register(router: Router, store: Store) -> None:
    def lookup(req: Request):
        cluster, err = find_cluster(store, req)
        if err:
            return None, None, err
        pool = cluster.pool(req.params["pool"])
        if pool is None:
            return cluster, None, _pool_not_found(cluster, req.params["pool"])
        return cluster, pool, None

    def list_pools(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        return err or operations.page(store, req, [model.render_pool(cluster, p) for p in cluster.pools()])

    def get(req: Request) -> Response:
        cluster, pool, err = lookup(req)
        return err or Response(200, model.render_pool(cluster, pool))

    def put(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        if err:
            return err
        name = req.params["pool"]
        body, err = json_body(req)
        if err:
            return err
        if not POOL_NAME.match(name):
            return error(400, "InvalidParameter", f"The value of parameter agentPoolProfile.name is invalid: '{name}'.",
                         target="agentPoolProfile.name")
        running = store.running(cluster.key, name)
        if running:
            return operations.conflict(running)
        existing = cluster.pool(name)
        sent = dict(body.get("properties") or {}, name=existing["name"] if existing else name)
        new = model.normalize_pool(store, sent, existing, cluster.props["currentKubernetesVersion"],
                                   "Updating" if existing else "Creating")
        if (new.get("osType") or "").lower() == "windows" and model.proxy_active(cluster.props):
            return proxycfg.windows_refusal(name)
        pools = cluster.pools()
        if existing:
            pools[pools.index(existing)] = new
        else:
            pools.append(new)
        network.ensure_pool_vnets(store, [new])  # noProxy is left as it is (README, "Virtual networks")

        def done(op: Operation) -> None:
            current = store.clusters.get(op.cluster_key)
            if current is not None:
                model.settle(current, op.status, {name.lower()})

        op = store.start_operation("agentPoolPut", cluster, store.config["pool_put_seconds"], pool=name,
                                   on_finish=done, outcome=req.op_outcome)
        return Response(200 if existing else 201, model.render_pool(cluster, new),
                        operations.lro_headers(store, req, op))

    def delete(req: Request) -> Response:
        cluster, pool, err = lookup(req)
        if err:
            return Response(204) if pool is None and cluster is not None else err
        running = store.running(cluster.key, pool["name"])
        if running:
            return operations.conflict(running)
        pool["provisioningState"] = "Deleting"

        def done(op: Operation) -> None:
            current = store.clusters.get(op.cluster_key)
            gone = current.pool(op.pool) if current is not None else None
            if gone is not None and op.status == "Succeeded":
                current.pools().remove(gone)
            elif gone is not None:
                model.settle(current, op.status, {op.pool.lower()})

        op = store.start_operation("agentPoolDelete", cluster, store.config["pool_put_seconds"], pool=pool["name"],
                                   on_finish=done, outcome=req.op_outcome)
        return Response(202, None, operations.lro_headers(store, req, op, location=True))

    def upgrade_profile(req: Request) -> Response:
        cluster, pool, err = lookup(req)
        return err or Response(200, pool_upgrade_profile(store, cluster, pool))

    def upgrade_node_image(req: Request) -> Response:
        cluster, pool, err = lookup(req)
        if err:
            return err
        running = store.running(cluster.key, pool["name"])
        if running:
            return operations.conflict(running)
        if (pool.get("osType") or "").lower() == "windows" and model.proxy_active(cluster.props):
            return proxycfg.windows_refusal(pool["name"])
        pool["provisioningState"] = "UpgradingNodeImageVersion"
        name = pool["name"].lower()

        def done(op: Operation) -> None:
            current = store.clusters.get(op.cluster_key)
            upgraded = current.pool(op.pool) if current is not None else None
            if upgraded is None:
                return
            if op.status == "Succeeded":
                upgraded["nodeImageVersion"] = store.latest_image(current, upgraded)
                current.model_applied.pop(op.pool.lower(), None)  # recreated nodes run the latest model
            model.settle(current, op.status, {name})

        op = store.start_operation("upgradeNodeImageVersion", cluster, upgrade_seconds(store, name), pool=pool["name"],
                                   on_finish=done, outcome=req.op_outcome)
        return Response(202, model.render_pool(cluster, pool), operations.lro_headers(store, req, op, location=True))

    router.add("GET", AP, list_pools)
    router.add("GET", AP + "/{pool}", get)
    router.add("PUT", AP + "/{pool}", put)
    router.add("DELETE", AP + "/{pool}", delete)
    router.add("GET", AP + "/{pool}/upgradeProfiles/default", upgrade_profile)
    router.add("POST", AP + "/{pool}/upgradeNodeImageVersion", upgrade_node_image)
