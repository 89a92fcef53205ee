"""The emulator's in-memory world: subscription, resource groups, clusters, running operations, timing config.

Everything is guarded by one re-entrant lock; handlers run with it held. Operations finish lazily: every request
first calls `tick()`, which completes the operations whose time is up, so no background threads are needed.
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .web import arm_time, new_guid, utc_now

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
SUBSCRIPTION_NAME = "aksproxy-emulator"
TENANT_ID = "72f988bf-0000-4000-8000-00000000e1e1"
SEED_RESOURCE_GROUPS = (("rg1", "westus2"),)

DEFAULT_CONFIG: dict = {
    "cluster_create_seconds": 1.0,
    "cluster_update_seconds": 1.0,
    "cluster_delete_seconds": 1.0,
    "pool_put_seconds": 1.0,
    "pool_upgrade_seconds": 2.0,
    "pool_upgrade_seconds_by_pool": {},  # {"<pool name>": seconds}
    "retry_after": 1,
    "page_size": 0,  # > 0: list endpoints return pages of this size linked by nextLink  # integer seconds on every LRO response (azure-core treats 0 as absent -> 30 s)
    "default_kubernetes_version": "1.33",
    "kubernetes_versions": {"1.32": "1.32.9", "1.33": "1.33.5", "1.34": "1.34.1"},
    # node images: (pool start image, latest image) per OS family
    "node_images": {
        "ubuntu": ["AKSUbuntu-2204gen2containerd-202512.01.0", "AKSUbuntu-2204gen2containerd-202601.10.0"],
        "azurelinux": ["AKSAzureLinux-V2gen2-202512.01.0", "AKSAzureLinux-V2gen2-202601.10.0"],
        "windows": ["AKSWindows-2022-containerd-20348.4405.251201", "AKSWindows-2022-containerd-20348.4529.260110"],
    },
    # run commands (runcommand.py, compute.py): a script is killed after this long (the VMSS action run command's
    # limit is 90 minutes)
    "run_command_timeout_seconds": 5400.0,
    # programs the AKS run command pod's image lacks (runcommand.py): its contents are not documented
    "aks_command_pod_missing_tools": [],
    # kubectl in the AKS run command pod (kubectl.py): the run command pod's image (a guess: not documented), what
    # refuses the pods it creates (null, "PodSecurity", "Gatekeeper", "RBAC"), and how they behave ("run"; "fail":
    # the container exits 1; "hang": the pod stays Pending, as with an image that cannot be pulled)
    "aks_command_pod_image": "mcr.microsoft.com/aks/command/runtime:master.250101.1",
    "kube_admission": None,
    "kube_pod_behaviour": "run",
    # Today's AKS (since 2025-10-12) reimages every pool as part of a cluster PUT that changes the proxy config;
    # false = the older service: the PUT changes the pools' model only and a node image upgrade rolls it out.
    "proxy_change_reimages": True,
}


@dataclass
class Operation:
    id: str
    kind: str  # create | update | delete | upgradeNodeImageVersion | agentPoolPut | agentPoolDelete
    location: str
    cluster_key: tuple
    pool: str | None
    duration: float
    start_mono: float = field(default_factory=time.monotonic)
    start_wall: Any = field(default_factory=utc_now)
    status: str = "InProgress"
    end_wall: Any = None
    outcome: str = "Succeeded"
    error: dict | None = None
    on_finish: Callable[[Operation], None] | None = None
    resource_id: str = ""

    def due(self, now: float) -> bool:
        return self.status == "InProgress" and now >= self.start_mono + self.duration

    def status_body(self) -> dict:
        body = {"name": self.id, "status": self.status, "startTime": arm_time(self.start_wall)}
        if self.end_wall is not None:
            body["endTime"] = arm_time(self.end_wall)
        if self.error and self.status != "InProgress":
            body["error"] = self.error
        return body

    def describe(self) -> dict:
        out = self.status_body()
        out.update(kind=self.kind, pool=self.pool, cluster=list(self.cluster_key), duration=self.duration,
                   resourceId=self.resource_id)
        return out


def cluster_key(rg: str, name: str) -> tuple:
    return rg.lower(), name.lower()


@dataclass
class Cluster:
    rg: str  # resource group name as first written
    name: str
    resource: dict  # ARM shape; httpProxyConfig.noProxy holds the list the client sent
    latest_images: dict = field(default_factory=dict)  # pool name lower -> latest node image
    # pool name lower -> False while its nodes do not run the scale set's latest model (a proxy change that was
    # not rolled out yet); missing = True. Rendered as the scale set instances' latestModelApplied.
    model_applied: dict = field(default_factory=dict)
    maintenance: dict = field(default_factory=dict)  # maintenance configuration name lower -> ARM resource
    # Optimistic concurrency (AKS docs, "Use eTags in AKS"): a new one on every cluster-level write, pools' too.
    etag: str = field(default_factory=new_guid)

    def new_etags(self) -> None:
        self.etag = new_guid()
        for pool in self.pools():
            pool["eTag"] = new_guid()

    @property
    def key(self) -> tuple:
        """How the store finds it: resource group and name, case-insensitively (as ARM does)."""
        return cluster_key(self.rg, self.name)

    @property
    def props(self) -> dict:
        return self.resource["properties"]

    def pools(self) -> list:
        return self.props.setdefault("agentPoolProfiles", [])

    def pool(self, name: str) -> dict | None:
        for p in self.pools():
            if p.get("name", "").lower() == name.lower():
                return p
        return None


class Store:
    def __init__(self, config: dict | None = None) -> None:
        self.lock = threading.RLock()
        self._startup_config = copy.deepcopy(config or {})
        self.reset()

    def reset(self) -> None:
        """Everything back to the seed: resource groups, no clusters, no operations, the startup config."""
        with self.lock:
            self.config: dict = copy.deepcopy(DEFAULT_CONFIG)
            self.configure(self._startup_config)
            self.resource_groups: dict = {}
            self.clusters: dict = {}
            self.operations: dict = {}
            self.role_assignments: dict = {}
            self.run_commands: dict = {}  # id -> runcommand.RunRecord
            self.vnets: dict = {}  # VNet id lower -> network.seed_vnet record
            self.kube_pods: dict = {}  # "sub/rg/name" -> pods kubectl lists (runcommand.py)
            self.kube_events: dict = {}  # "sub/rg/name" -> pod creations, refusals, deletions
            for name, loc in SEED_RESOURCE_GROUPS:
                self.put_resource_group(name, loc)

    def configure(self, updates: dict) -> dict:
        with self.lock:
            for key, value in updates.items():
                if key not in DEFAULT_CONFIG:
                    raise KeyError(key)
                if isinstance(DEFAULT_CONFIG[key], dict) and isinstance(value, dict):
                    self.config[key] = {**self.config[key], **value}
                else:
                    self.config[key] = value
            return copy.deepcopy(self.config)

    # resource groups
    def put_resource_group(self, name: str, location: str, tags: dict | None = None) -> tuple:
        key = name.lower()
        created = key not in self.resource_groups
        rg = self.resource_groups.get(key) or {"name": name}
        rg.update(location=location.replace(" ", "").lower(), tags=tags or rg.get("tags") or {})
        self.resource_groups[key] = rg
        return rg, created

    def resource_group(self, name: str) -> dict | None:
        return self.resource_groups.get(name.lower())

    # clusters
    def cluster(self, rg: str, name: str) -> Cluster | None:
        return self.clusters.get(cluster_key(rg, name))

    def save_cluster(self, cluster: Cluster) -> None:
        from .network import ensure_pool_vnets  # network builds on this module

        self.clusters[cluster.key] = cluster
        ensure_pool_vnets(self, cluster.pools())  # a subnet nobody seeded becomes a readable VNet

    def drop_cluster(self, key: tuple) -> None:
        self.clusters.pop(key, None)

    # operations
    def start_operation(self, kind: str, cluster: Cluster, duration: float, pool: str | None = None,
                        on_finish: Callable[[Operation], None] | None = None,
                        outcome: dict | None = None, resource_id: str = "") -> Operation:
        op = Operation(new_guid(), kind, cluster.resource["location"], cluster.key,
                       pool, float(duration), on_finish=on_finish, resource_id=resource_id)
        if outcome:
            op.outcome = outcome.get("status", "Failed")
            op.error = outcome.get("error") or {"code": "InternalOperationError",
                                                "message": "The operation failed (injected by the emulator)."}
        self.operations[op.id] = op
        return op

    def running(self, cluster_key: tuple, pool: str | None = None) -> Operation | None:
        """The in-progress operation that blocks a write: any on the cluster for a cluster-level write; a
        cluster-level one or one on the same pool for a pool-level write."""
        self.tick()
        for op in self.operations.values():
            if op.status != "InProgress" or op.cluster_key != cluster_key:
                continue
            if pool is None or op.pool is None or op.pool.lower() == pool.lower():
                return op
        return None

    def tick(self) -> None:
        now = time.monotonic()
        for op in sorted(self.operations.values(), key=lambda o: o.start_mono):
            if op.due(now):
                self.finish(op)

    def finish(self, op: Operation) -> None:
        op.status = op.outcome
        op.end_wall = utc_now()
        if op.on_finish is not None:
            op.on_finish(op)

    # node images and versions
    def image_family(self, pool: dict) -> str:
        if (pool.get("osType") or "Linux").lower() == "windows":
            return "windows"
        sku = (pool.get("osSKU") or "Ubuntu").lower()
        return "azurelinux" if sku in ("azurelinux", "cblmariner", "mariner") else "ubuntu"

    def initial_image(self, pool: dict) -> str:
        return self.config["node_images"][self.image_family(pool)][0]

    def latest_image(self, cluster: Cluster, pool: dict) -> str:
        return (cluster.latest_images.get(pool.get("name", "").lower())
                or self.config["node_images"][self.image_family(pool)][1])

    def patch_version(self, version: str) -> str:
        version = version or self.config["default_kubernetes_version"]
        if version.count(".") >= 2:
            return version
        return self.config["kubernetes_versions"].get(version, version + ".0")
