"""Microsoft.ContainerService/managedClusters: GET/PUT/DELETE, lists, upgrade profile, kubernetes versions."""
from __future__ import annotations

from . import model, operations, proxycfg, reimage
from .resources import (
    CLUSTER_NAME,
    MC,
    POOL_NAME,
    bad_subscription,
    find_cluster,
    json_body,
)
from .state import Cluster, Operation, Store, cluster_key
from .web import Request, Response, Router, error, rg_not_found


def windows_conflict(props: dict):
    if not model.proxy_active(props):
        return None
    for pool in props.get("agentPoolProfiles") or []:
        if (pool.get("osType") or "").lower() == "windows":
            return proxycfg.windows_refusal(pool.get("name", ""))
    return None


def _etag(value: str) -> str:
    return value.strip().removeprefix("W/").strip('"')


def precondition_failed(req: Request, existing: Cluster | None) -> Response | None:
    """412 for a PUT whose If-Match / If-None-Match does not hold (AKS docs, "Use eTags in AKS"; the error code is a
    guess: the docs name only the status)."""
    if_match, if_none_match = req.headers.get("if-match"), req.headers.get("if-none-match")
    current = existing.etag if existing else None
    if if_match is not None and (current is None or (if_match.strip() != "*" and _etag(if_match) != current)):
        why = "the resource does not exist" if current is None else f"its eTag is now {current}"
        return error(412, "PreconditionFailed", f"The If-Match condition '{if_match}' is not met: {why}.")
    if if_none_match is not None and current is not None and (
            if_none_match.strip() == "*" or _etag(if_none_match) == current):
        return error(412, "PreconditionFailed",
                     f"The If-None-Match condition '{if_none_match}' is not met: the resource exists.")
    return None


def register(router: Router, store: Store) -> None:
    def get(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        return err or Response(200, model.render_cluster(store, cluster))

    def put(req: Request) -> Response:
        err = bad_subscription(req)
        if err:
            return err
        rg, name = req.params["rg"], req.params["name"]
        if store.resource_group(rg) is None:
            return rg_not_found(rg)
        body, err = json_body(req)
        if err:
            return err
        if not CLUSTER_NAME.match(name):
            return error(400, "InvalidParameter", f"The value of parameter resourceName is invalid: '{name}'.",
                         target="resourceName")
        existing = store.cluster(rg, name)
        err = precondition_failed(req, existing)
        if err:
            return err
        if existing:
            running = store.running(cluster_key(rg, name))
            if running:
                return operations.conflict(running)
        elif not body.get("location"):
            return error(400, "LocationRequired", "The location property is required for this definition.")
        props = body.get("properties") or {}
        pools = props.get("agentPoolProfiles") or []
        if not existing and not pools:
            return error(400, "InvalidParameter", "The value of parameter agentPoolProfiles is invalid.",
                         target="agentPoolProfiles")
        for pool in pools:
            if not POOL_NAME.match(str(pool.get("name", ""))):
                return error(400, "InvalidParameter",
                             f"The value of parameter agentPoolProfile.name is invalid: '{pool.get('name')}'. "
                             "Agent pool names must start with a lowercase letter, have max length of 12, "
                             "and only have characters a-z0-9.", target="agentPoolProfile.name")
        if props.get("httpProxyConfig") is not None:
            err = proxycfg.validate(props["httpProxyConfig"])
            if err:
                return err
        state = "Updating" if existing else "Creating"
        cluster = model.build_cluster(store, rg, name, body, existing, state)
        err = windows_conflict(cluster.props)
        if err:
            return err
        proxy_changed = existing is not None and reimage.triggers_reimage(
            model.render_cluster(store, existing)["properties"], model.render_cluster(store, cluster)["properties"])
        # A PUT on a cluster whose last operation failed part-way through a reimage finishes it (a guess, README
        # "Proxy changes reimage every pool": the service brings a failed cluster to its goal state again).
        reconciles = (existing is not None and not proxy_changed and store.config["proxy_change_reimages"]
                      and existing.props.get("provisioningState") == "Failed"
                      and any(v is False for v in existing.model_applied.values()))
        reimages = (proxy_changed and store.config["proxy_change_reimages"]) or reconciles
        if reimages:
            err = reimage.refusal(existing)  # the policy in effect before this PUT decides (a guess)
            if err:
                return err
        cluster.new_etags()
        store.save_cluster(cluster)
        kind = "update" if existing else "create"
        seconds = store.config["cluster_update_seconds" if existing else "cluster_create_seconds"]
        if reimages:  # the operation runs until every pool has been reimaged
            seconds += reimage.reimage_seconds(store, cluster)
        if proxy_changed:  # the scale sets get the new model; the nodes run the old one until recreated
            cluster.model_applied.update({p["name"].lower(): False for p in cluster.pools()})

        def done(op: Operation) -> None:
            current = store.clusters.get(op.cluster_key)
            if current is None:
                return
            if kind == "create":  # a create that fails does so at the nodes, after the identities and LB exist
                model.provisioned(current)
            if reimages and op.status == "Succeeded":
                current.model_applied.clear()
            model.settle(current, op.status)

        op = store.start_operation(kind, cluster, seconds, on_finish=done, outcome=req.op_outcome,
                                   resource_id=model.cluster_id(cluster.rg, cluster.name))
        return Response(200 if existing else 201, model.render_cluster(store, cluster),
                        operations.lro_headers(store, req, op))

    def delete(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        if err:
            return Response(204) if err.status == 404 and err.body["error"]["code"] == "ResourceNotFound" else err
        running = store.running(cluster.key)
        if running:
            return operations.conflict(running)
        cluster.props["provisioningState"] = "Deleting"

        def done(op: Operation) -> None:
            if op.status == "Succeeded":
                store.drop_cluster(op.cluster_key)
            elif op.cluster_key in store.clusters:
                model.settle(store.clusters[op.cluster_key], op.status)

        op = store.start_operation("delete", cluster, store.config["cluster_delete_seconds"], on_finish=done,
                                   outcome=req.op_outcome, resource_id=model.cluster_id(cluster.rg, cluster.name))
        return Response(202, None, operations.lro_headers(store, req, op, location=True))

    def list_rg(req: Request) -> Response:
        err = bad_subscription(req)
        if err:
            return err
        if store.resource_group(req.params["rg"]) is None:
            return rg_not_found(req.params["rg"])
        rg = req.params["rg"].lower()
        return operations.page(store, req, [model.render_cluster(store, c)
                                             for (r, _), c in sorted(store.clusters.items()) if r == rg])

    def list_sub(req: Request) -> Response:
        err = bad_subscription(req)
        return err or operations.page(store, req, [model.render_cluster(store, c)
                                                   for _, c in sorted(store.clusters.items())])

    def upgrade_profile(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        if err:
            return err
        return Response(200, cluster_upgrade_profile(store, cluster))

    def k8s_versions(req: Request) -> Response:
        err = bad_subscription(req)
        return err or Response(200, kubernetes_versions(store))

    router.add("GET", MC + "/{name}", get)
    router.add("PUT", MC + "/{name}", put)
    router.add("DELETE", MC + "/{name}", delete)
    router.add("GET", MC, list_rg)
    router.add("GET", "/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters", list_sub)
    router.add("GET", MC + "/{name}/upgradeProfiles/default", upgrade_profile)
    router.add("GET", "/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}/kubernetesVersions",
               k8s_versions)


def _upgrades(store: Store, patch: str) -> list:
    minor = ".".join(patch.split(".")[:2])
    out = []
    for m, p in sorted(store.config["kubernetes_versions"].items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
        if [int(x) for x in m.split(".")] > [int(x) for x in minor.split(".")]:
            out.append({"kubernetesVersion": p})
    return out[:1]


def cluster_upgrade_profile(store: Store, cluster: Cluster) -> dict:
    patch = cluster.props["currentKubernetesVersion"]
    pools = [{"kubernetesVersion": p.get("currentOrchestratorVersion", patch), "name": p["name"],
              "osType": p.get("osType", "Linux"),
              "upgrades": _upgrades(store, p.get("currentOrchestratorVersion", patch))} for p in cluster.pools()]
    return {"id": model.cluster_id(cluster.rg, cluster.name) + "/upgradeprofiles/default", "name": "default",
            "type": "Microsoft.ContainerService/managedClusters/upgradeprofiles",
            "properties": {"controlPlaneProfile": {"kubernetesVersion": patch, "name": None, "osType": "Linux",
                                                   "upgrades": _upgrades(store, patch)},
                           "agentPoolProfiles": pools}}


def kubernetes_versions(store: Store) -> dict:
    values = []
    for minor, patch in sorted(store.config["kubernetes_versions"].items()):
        entry = {"version": minor, "capabilities": {"supportPlan": ["KubernetesOfficial", "AKSLongTermSupport"]},
                 "patchVersions": {patch: {"upgrades": [u["kubernetesVersion"] for u in _upgrades(store, patch)]}}}
        if minor == store.config["default_kubernetes_version"]:
            entry["isDefault"] = True
        values.append(entry)
    return {"values": values}
