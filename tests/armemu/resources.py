"""What the emulator's resource handlers share: the managed cluster path, the name patterns ARM enforces, the
subscription check, finding the cluster a request names, and reading a JSON body as ARM does."""
from __future__ import annotations

import re

from .state import SUBSCRIPTION_ID, Store
from .web import Request, error, not_found, rg_not_found

MC = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters"
CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")
POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")


def bad_subscription(req: Request):
    if req.params.get("sub", "").lower() != SUBSCRIPTION_ID:
        return error(404, "SubscriptionNotFound", f"The subscription '{req.params.get('sub')}' could not be found.")
    return None


def find_cluster(store: Store, req: Request):
    """(cluster, None) or (None, the 404 ARM would send)."""
    err = bad_subscription(req)
    if err:
        return None, err
    rg, name = req.params["rg"], req.params["name"]
    if store.resource_group(rg) is None:
        return None, rg_not_found(rg)
    cluster = store.cluster(rg, name)
    if cluster is None:
        return None, not_found("Microsoft.ContainerService/managedClusters", name, rg)
    return cluster, None


def json_body(req: Request):
    try:
        body = req.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return None, error(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized.")
    return body, None


def cluster_and_body(store: Store, req: Request):
    """(cluster, body, None), or (None, None, the error ARM would send) for a write to a cluster's sub-resource."""
    cluster, err = find_cluster(store, req)
    if err:
        return None, None, err
    body, err = json_body(req)
    return (None, None, err) if err else (cluster, body, None)
