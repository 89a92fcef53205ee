"""Today's AKS on a proxy change: every pool is reimaged within the cluster PUT's operation, unless the cluster's
node disruption policy refuses it; and the maintenanceConfigurations the policy's window is read from.

Sources (tests/armemu/README.md, "Proxy changes reimage every pool"): AKS release notes 2025-10-12 and the HTTP proxy
docs' caution box (every pool is reimaged); the AKS docs "Node Disruption Policy (preview)" (which changes trigger
it, Allow / AllowDuringMaintenanceWindow / Block, the aksManagedNodeOSUpgradeSchedule window, no window = allowed);
the AKS troubleshooting docs (the codes OperationBlockedByNodeDisruptionPolicy, OperationOutsideNodeDisruptionWindow);
the MaintenanceConfiguration REST shape of azure-mgmt-containerservice; when the window is open: maintenance.py.
"""
from __future__ import annotations

import copy
import datetime

from .maintenance import window_open
from .state import Cluster, Store
from .web import Request, Response, Router, error

NODE_OS_WINDOW = "aksManagedNodeOSUpgradeSchedule"
PROXY_FIELDS = ("httpProxy", "httpsProxy", "noProxy", "trustedCa")


def _proxy_state(rendered_props: dict) -> tuple:
    cfg = rendered_props.get("httpProxyConfig") or {}
    enabled = bool(cfg) and cfg.get("enabled", True) is not False
    no_proxy = frozenset(str(e).lower() for e in cfg.get("noProxy") or [])
    return (cfg.get("httpProxy"), cfg.get("httpsProxy"), no_proxy, cfg.get("trustedCa"), enabled)


def triggers_reimage(before: dict, after: dict) -> bool:
    """A change of httpProxy, httpsProxy, noProxy or trustedCa, or enabling, disabling or re-enabling the proxy.
    Compared as rendered (noProxy grown by the service's own entries, as a set): az's GET -> PUT round trip sends
    the grown list back, and the service, which stores the grown list, sees no change in it (a guess)."""
    return _proxy_state(before) != _proxy_state(after)


def refusal(cluster: Cluster, now: datetime.datetime | None = None) -> Response | None:
    """The 400 the service answers a reimage-triggering PUT with under the cluster's policy, or None."""
    policy = ((cluster.props.get("nodeDisruptionProfile") or {}).get("nodeDisruptionPolicy") or "Allow").lower()
    if policy == "block":
        return error(400, "OperationBlockedByNodeDisruptionPolicy",
                     "The operation requires node reimage, which is blocked by the node disruption policy 'Block' "
                     "of the managed cluster. Set nodeDisruptionProfile.nodeDisruptionPolicy to 'Allow' to proceed.")
    config = cluster.maintenance.get(NODE_OS_WINDOW.lower())
    if policy == "allowduringmaintenancewindow" and config is not None:
        window = (config.get("properties") or {}).get("maintenanceWindow") or {}
        if not window_open(window, now or datetime.datetime.now(datetime.UTC)):
            return error(400, "OperationOutsideNodeDisruptionWindow",
                         "The operation requires node reimage and the node disruption policy "
                         "'AllowDuringMaintenanceWindow' allows it only during the maintenance window "
                         f"'{NODE_OS_WINDOW}'. Retry during the window or change the policy.")
    return None


def reimage_seconds(store: Store, cluster: Cluster) -> float:
    """The pools reimage side by side (a guess), each as long as its node image upgrade would take."""
    from .agentpools import upgrade_seconds

    return max((upgrade_seconds(store, p["name"]) for p in cluster.pools()), default=0.0)


MAINTENANCE = ("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
               "/maintenanceConfigurations")


def register(router: Router, store: Store) -> None:
    from . import model
    from .resources import cluster_and_body, find_cluster

    def resource(cluster: Cluster, name: str, props: dict) -> dict:
        return {"id": f"{model.cluster_id(cluster.rg, cluster.name)}/maintenanceConfigurations/{name}",
                "name": name, "type": "Microsoft.ContainerService/ManagedClusters/maintenanceConfigurations",
                "properties": props}

    def list_configs(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        return err or Response(200, {"value": [copy.deepcopy(c) for c in cluster.maintenance.values()]})

    def get(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        if err:
            return err
        config = cluster.maintenance.get(req.params["config"].lower())
        if config is None:
            return error(404, "NotFound", f"Maintenance configuration {req.params['config']} not found.")
        return Response(200, copy.deepcopy(config))

    def put(req: Request) -> Response:
        cluster, body, err = cluster_and_body(store, req)
        if err:
            return err
        name = req.params["config"]
        existed = name.lower() in cluster.maintenance
        cluster.maintenance[name.lower()] = resource(cluster, name, copy.deepcopy(body.get("properties") or {}))
        return Response(200 if existed else 201, copy.deepcopy(cluster.maintenance[name.lower()]))

    def delete(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        if err:
            return err
        gone = cluster.maintenance.pop(req.params["config"].lower(), None)
        return Response(200 if gone else 204)

    router.add("GET", MAINTENANCE, list_configs)
    router.add("GET", MAINTENANCE + "/{config}", get)
    router.add("PUT", MAINTENANCE + "/{config}", put)
    router.add("DELETE", MAINTENANCE + "/{config}", delete)
