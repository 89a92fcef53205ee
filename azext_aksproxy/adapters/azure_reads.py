"""The Azure reads every command shares, each written once: the cluster's GET (raw JSON, which keeps what the GA
SDK model drops), the address spaces of its custom VNets, each pool's latest node image, the node resource group's
scale sets (by pool tag) and their instances, the aksManagedNodeOSUpgradeSchedule maintenance window, and the one
way ARM errors are put into words.

The reads that only refine an answer are best effort: a caller without access to the node resource group or to a
VNet, or a cluster without a window, gets "unknown" with the reason, never an error, so `show`, `diff` and `update`
still work.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import threading
from concurrent.futures import ThreadPoolExecutor

from knack.log import get_logger

logger = get_logger(__name__)

# The SDK's default when its configuration cannot be read (it always can for the SDK az ships).
FALLBACK_CLUSTERS_API_VERSION = "2026-06-01"
# Microsoft.Network has no SDK in az (its commands are generated, aaz): VNets are read as `az network vnet show`
# reads them, with its api-version, through the container service client's pipeline (az's credentials, retries).
VNET_API_VERSION = "2025-07-01"

POOL_TAG = "aks-managed-poolName"  # the tag AKS puts on each pool's scale set in the node resource group
PARALLEL_READS = 8  # concurrent GETs of one kind (pools, VNets): enough to hide round trips, few for ARM's limits


def error_text(ex: Exception) -> str:
    """ARM's ``(Code) Message`` when the error carries one, else the exception's first line; secrets masked."""
    from azext_aksproxy.config import mask_secrets

    error = getattr(ex, "error", None)
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    if code and message:
        text = f"({code}) {message}"
    else:
        text = str(getattr(ex, "message", None) or ex).strip()
        text = text.splitlines()[0] if text else type(ex).__name__
    return mask_secrets(text)


class ReadError(Exception):
    """A listing request failed for good (after azure-core's retries); the message is what ARM said."""


class ArmReader:
    """GET requests through the container service client's pipeline, one client per thread."""

    def __init__(self, cli_ctx) -> None:
        self.cli_ctx = cli_ctx
        self._local = threading.local()

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            from azext_aksproxy._client_factory import cf_container_service

            client = self._local.client = cf_container_service(self.cli_ctx)
        return client

    @property
    def clusters_api_version(self) -> str:
        config = getattr(self._client(), "_config", None)
        return getattr(config, "api_version", None) or FALLBACK_CLUSTERS_API_VERSION

    def get(self, path: str, api_version: str, *, missing_ok: bool = False):
        """One resource's JSON (ReadError when ARM refuses it); None for a 404 when ``missing_ok``."""
        return self._body(f"{path}?api-version={api_version}", "an ARM resource", missing_ok)

    def _body(self, url: str, expected: str, missing_ok: bool = False):
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        try:
            response = self._client().send_request(HttpRequest("GET", url))
        except AzureError as exc:
            raise ReadError(f"{type(exc).__name__}: {error_text(exc)}") from exc
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ReadError(_arm_error(response))
        try:
            body = response.json()
        except ValueError as exc:
            raise ReadError(f"HTTP {response.status_code}: the response is not {expected} ({exc})") from exc
        if not isinstance(body, dict):
            raise ReadError(f"HTTP {response.status_code}: the response is not {expected} (a JSON "
                            f"{type(body).__name__})")
        return body

    def pages(self, path: str, api_version: str):
        """Each page's ``value`` list, following nextLink (given the api-version when it lacks one, as the SDK's
        pagers do)."""

        url: str | None = f"{path}?api-version={api_version}"
        while url:
            body = self._body(url, "an ARM list")
            try:
                page = list(body.get("value") or [])
            except TypeError as exc:
                raise ReadError(f"the response is not an ARM list ({exc})") from exc
            yield page
            url = body.get("nextLink")
            if url and "api-version=" not in url:
                url += ("&" if "?" in url else "?") + f"api-version={api_version}"


def _arm_error(response) -> str:
    """``(Code) message`` as az prints ARM errors (azure_reads.error_text), with the HTTP status."""
    from azure.core.exceptions import HttpResponseError

    return f"HTTP {response.status_code} {error_text(HttpResponseError(response=response))}"


def _concurrently(read, keys: list) -> list:
    if len(keys) <= 1:
        return [read(k) for k in keys]
    with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(keys))) as reads:
        return list(reads.map(read, keys))


# ---- the cluster ---------------------------------------------------------------------------------------------


def raw_cluster(client, resource_group_name: str, name: str) -> dict:
    """The cluster's GET response as JSON: the GA SDK model has no ``effectiveNoProxy``, the wire does."""
    return client.get(resource_group_name, name, cls=lambda pipeline_response, _model, _headers:
                      pipeline_response.http_response.json())


def cluster_model(cli_ctx, resource_group_name: str, name: str):
    """The cluster's proxy model: its GET, plus the address spaces of the custom VNets its pools are in."""
    from azext_aksproxy._client_factory import cf_managed_clusters

    return model_with_vnets(cli_ctx, raw_cluster(cf_managed_clusters(cli_ctx), resource_group_name, name))


def model_with_vnets(cli_ctx, cluster: dict):
    """``cluster`` (ARM JSON) as a ClusterModel, its custom VNets read (nothing is read for a managed VNet)."""
    return VnetCache(cli_ctx).model(cluster)


# ---- virtual networks ----------------------------------------------------------------------------------------


def vnet_spaces(cli_ctx, vnet_ids, reader: ArmReader | None = None) -> dict:
    """{VNet id: VnetSpace}: each distinct VNet's address prefixes, one GET per VNet, concurrently; a refused or
    failed read is a VnetSpace with the error, never an exception. A VNet may be in another subscription than its
    cluster: the path says which."""
    from azext_aksproxy.cluster.model import VnetSpace

    ids = list(dict.fromkeys(str(v).lower() for v in vnet_ids))
    if not ids:
        return {}
    arm = reader or ArmReader(cli_ctx)

    def read(vnet_id: str) -> VnetSpace:
        try:
            body = arm.get(vnet_id, VNET_API_VERSION)
        except ReadError as exc:
            return VnetSpace(vnet_id, error=str(exc))
        space = (body.get("properties") or {}).get("addressSpace") or {}
        return VnetSpace(vnet_id, tuple(str(p) for p in space.get("addressPrefixes") or []))

    return dict(zip(ids, _concurrently(read, ids)))


def warn_unread_vnets(spaces) -> None:
    """One line per VNet whose address space could not be read: only its CIDRs get the cautious wording."""
    for space in spaces:
        if space.error:
            logger.warning("Could not read the address space of VNet %s (%s): noProxy CIDRs that may be it are "
                           "reported as possibly added by AKS.", space.vnet_id, space.error)


class VnetCache:
    """The one reader of clusters with their VNets: the address spaces of custom VNets (AKS adds them to noProxy),
    each distinct VNet read once for the whole command, concurrently; the cluster model separates them from what
    the user set. A VNet that cannot be read is said once, when it is read."""

    def __init__(self, cli_ctx, reader: ArmReader | None = None) -> None:
        self.cli_ctx, self.arm = cli_ctx, reader
        self.spaces: dict = {}
        self.lock = threading.Lock()

    def read(self, clusters) -> None:
        """Reads the VNets of ``clusters`` (ARM JSON) not read yet."""
        from azext_aksproxy.cluster.model import vnet_ids

        with self.lock:
            wanted = [v for c in clusters for v in vnet_ids(c) if v.lower() not in self.spaces]
        if wanted:
            got = vnet_spaces(self.cli_ctx, wanted, reader=self.arm)
            warn_unread_vnets(got.values())
            with self.lock:
                self.spaces.update(got)

    def model(self, cluster: dict, read: bool = True):
        """The cluster's model with the spaces read so far; ``read``: read its VNets first if not yet read."""
        from azext_aksproxy.cluster.model import ClusterModel, vnet_ids

        if read:
            self.read([cluster])
        with self.lock:
            return ClusterModel(cluster, {v: self.spaces[v.lower()] for v in vnet_ids(cluster)
                                          if v.lower() in self.spaces})


# ---- node pools and nodes ------------------------------------------------------------------------------------


def latest_node_images(client, resource_group_name: str, cluster: str, pool_names: list[str]) -> dict:
    """{pool name lower: latestNodeImageVersion} from each pool's upgrade profile, read concurrently; None for a
    pool whose profile could not be read (its rows then say unknown rather than guess)."""
    from azure.core.exceptions import HttpResponseError

    def latest(pool: str):
        try:
            return client.get_upgrade_profile(resource_group_name, cluster, pool).latest_node_image_version
        except HttpResponseError as ex:
            logger.warning("Could not read the upgrade profile of node pool %s: %s", pool, error_text(ex))
            return None

    return {n.lower(): image for n, image in zip(pool_names, _concurrently(latest, list(pool_names)))}


def pool_scale_sets(compute, node_resource_group: str) -> dict:
    """{pool name lower: scale set model} of the node resource group's scale sets AKS tagged with their pool."""
    pools = {}
    for scale_set in compute.virtual_machine_scale_sets.list(node_resource_group):
        pool = (scale_set.tags or {}).get(POOL_TAG)
        if pool:
            pools[pool.lower()] = scale_set
    return pools


def node_models(cli_ctx, cluster: dict):
    """({pool name lower: NodeModel}, "") or (None, why they could not be read). Read in the cluster's own
    subscription (from its id), whichever is current."""
    from azure.core.exceptions import AzureError
    from knack.util import CLIError

    from azext_aksproxy._client_factory import cf_compute
    from azext_aksproxy.cluster.pools import NodeModel
    from azext_aksproxy.cluster.resource_id import ResourceId
    from azext_aksproxy.config.arm import properties

    node_rg = properties(cluster).get("nodeResourceGroup")
    if not node_rg:
        return None, "the cluster names no node resource group"
    subscription = ResourceId.parse(cluster.get("id")).subscription or None
    try:
        compute = cf_compute(cli_ctx, subscription_id=subscription)
        pools = {pool: scale_set.name for pool, scale_set in pool_scale_sets(compute, node_rg).items()}

        def count(scale_set_name: str) -> NodeModel:
            vms = list(compute.virtual_machine_scale_set_vms.list(node_rg, scale_set_name))
            return NodeModel(len(vms), sum(1 for vm in vms if vm.latest_model_applied))

        return dict(zip(pools, _concurrently(count, list(pools.values())))), ""
    except (AzureError, CLIError) as ex:  # no access, throttled past az's retries, a broken connection, a
        # subscription az's profile does not hold: unknown, not fatal
        logger.info("Could not read the scale sets of %s: %s", node_rg, error_text(ex))
        return None, f"{node_rg}: {error_text(ex)}"


# ---- the node disruption window ------------------------------------------------------------------------------


def maintenance_window(cli_ctx, cluster: dict, reader: ArmReader | None = None):
    """(the aksManagedNodeOSUpgradeSchedule configuration as JSON or None when there is none, "") or (None, why it
    could not be read). Read by the cluster's id, so a cluster of any subscription can be asked."""
    from azext_aksproxy.cluster.pools import NODE_OS_WINDOW

    arm = reader or ArmReader(cli_ctx)
    try:
        return arm.get(f"{cluster['id']}/maintenanceConfigurations/{NODE_OS_WINDOW}", arm.clusters_api_version,
                       missing_ok=True), ""
    except ReadError as exc:
        return None, str(exc)


def disruption_gate(cli_ctx, cluster: dict, reader: ArmReader | None = None):
    """The node disruption gate for a reimage now; the window is read only when the policy depends on it."""
    from azext_aksproxy.cluster.pools import IN_WINDOW
    from azext_aksproxy.cluster.pools import disruption_gate as gate
    from azext_aksproxy.config.arm import properties
    from azext_aksproxy.config.x509ext import aware_now

    props = properties(cluster)
    policy = str((props.get("nodeDisruptionProfile") or {}).get("nodeDisruptionPolicy") or "")
    config, unreadable = (maintenance_window(cli_ctx, cluster, reader)
                          if policy.lower() == IN_WINDOW.lower() else (None, ""))
    return gate(cluster, config, aware_now(), unreadable)
