"""core/v1 Pod objects as `kubectl get pods -A -o json` lists them, for the stale-pods tests (unit and e2e)."""
from __future__ import annotations

OLD = "http://old-proxy.contoso.com:3128/"
NEW = "http://proxy.contoso.com:3128/"


def proxy_env(http, https=None, no_proxy="localhost,.svc", lower=True):
    env = [{"name": "HTTP_PROXY", "value": http}, {"name": "HTTPS_PROXY", "value": https or http},
           {"name": "NO_PROXY", "value": no_proxy}]
    if lower:
        env += [{"name": e["name"].lower(), "value": e["value"]} for e in list(env)]
    return env


def pod(namespace, name, env=None, owner=None, template_hash=None, opt_out=False, init_env=None):
    meta = {"name": name, "namespace": namespace, "labels": {}, "annotations": {}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True,
                                    "uid": "00000000-0000-0000-0000-000000000001"}]
    if template_hash:
        meta["labels"]["pod-template-hash"] = template_hash
    if opt_out:
        meta["annotations"]["kubernetes.azure.com/no-http-proxy-vars"] = "true"
    spec = {"containers": [{"name": "app", "image": "nginx", "env": [{"name": "MODE", "value": "x"},
                                                                       *(env or [])]}]}
    if init_env is not None:
        spec["initContainers"] = [{"name": "init", "image": "busybox", "env": init_env}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {"phase": "Running"}}


def seeded(new=NEW, no_proxy="localhost,.svc"):
    """Three stale workloads, current ones, one opted out, one without variables."""
    return [
        pod("web", "front-7d9f8-abcde", proxy_env(OLD), ("ReplicaSet", "front-7d9f8"), "7d9f8"),
        pod("web", "front-7d9f8-fghij", proxy_env(OLD), ("ReplicaSet", "front-7d9f8"), "7d9f8"),
        pod("web", "back-55c4-aaaaa", proxy_env(new, no_proxy=no_proxy), ("ReplicaSet", "back-55c4"), "55c4"),
        pod("data", "db-0", proxy_env(new, no_proxy="localhost"), ("StatefulSet", "db")),
        pod("kube-system", "agent-x1", proxy_env(OLD), ("DaemonSet", "agent")),
        pod("batch", "nightly-1-q", proxy_env(new, no_proxy=".svc,localhost"), ("Job", "nightly-1")),
        pod("tools", "debug", env=[{"name": "HTTPS_PROXY", "value": "http://user:s3cret@old:3128/"}]),
        pod("web", "legacy-9c-zz", proxy_env(OLD), ("ReplicaSet", "legacy-9c"), "9c", opt_out=True),
        pod("plain", "no-vars"),
    ]
