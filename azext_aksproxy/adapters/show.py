"""`az aks http-proxy show` and `diff`: thin adapters reading the cluster for the pure view/diff builders."""
from knack.log import get_logger

from azext_aksproxy.adapters.reporting import exit_after_output, raise_for_errors, warn

logger = get_logger(__name__)


def raw_cluster(client, resource_group_name, name) -> dict:
    """The cluster's GET response as JSON: the GA SDK model has no ``effectiveNoProxy``, the wire does."""
    return client.get(resource_group_name, name, cls=lambda pipeline_response, _model, _headers:
                      pipeline_response.http_response.json())


def _latest_node_images(cmd, resource_group_name, name, cluster) -> dict:
    """Each pool's latest node image version (None when the upgrade profile cannot be read)."""
    from azure.core.exceptions import HttpResponseError

    from azext_aksproxy._client_factory import cf_agent_pools
    from azext_aksproxy.proxy_config.cluster import agent_pools

    pools_client = cf_agent_pools(cmd.cli_ctx)
    latest = {}
    for pool in agent_pools(cluster):
        pool_name = str(pool.get("name"))
        try:
            profile = pools_client.get_upgrade_profile(resource_group_name, name, pool_name)
            latest[pool_name] = profile.latest_node_image_version
        except HttpResponseError as exc:
            # One unreadable pool should not hide the config; the row then says "unknown" (null).
            logger.warning("Could not read the upgrade profile of node pool %s: %s", pool_name, exc.message)
            latest[pool_name] = None
    return latest


def http_proxy_show(cmd, client, resource_group_name, name, show_ca_blob=False):
    from azext_aksproxy.adapters.rollout_state import node_models
    from azext_aksproxy.proxy_config.view import show_document

    cluster = raw_cluster(client, resource_group_name, name)
    latest = _latest_node_images(cmd, resource_group_name, name, cluster)
    models, unreadable = node_models(cmd.cli_ctx, cluster)
    return show_document(cluster, resource_group_name, latest, include_ca_blob=show_ca_blob, node_models=models,
                         models_unreadable=unreadable)


def http_proxy_diff(cmd, client, resource_group_name, name, config):
    from azext_aksproxy.proxy_config import check_file
    from azext_aksproxy.proxy_config.cluster import (
        cluster_findings,
        with_cluster_advice,
    )
    from azext_aksproxy.proxy_config.diff import diff_document

    result = check_file(config)
    # The same refusal as validate and aks update: no comparison against a file the update would not send.
    if not result.ok:
        raise_for_errors(result.findings, f"--config {config}")
    cluster = raw_cluster(client, resource_group_name, name)
    # The file's notices (the in-cluster advice naming this cluster's network), then the cluster's.
    findings = with_cluster_advice(result.findings, cluster, result.config) + cluster_findings(cluster, result.config)
    warn(findings)  # the notices; the refusals end the command below, after the diff is printed
    from azext_aksproxy.adapters.rollout_state import disruption_gate
    from azext_aksproxy.rollout.pools import disruption_fix, reimage_fields

    gate = (disruption_gate(cmd.cli_ctx, resource_group_name, name, cluster)
            if reimage_fields(cluster, result.config) else None)
    doc = diff_document(cluster, result.config, resource_group=resource_group_name, name=name, config_path=config,
                        findings=findings, gate=gate)
    refusals = [f.message for f in findings if f.is_error]
    if gate is not None and gate.allowed is False:
        refusals.append(f"AKS would refuse the reimage it needs ({gate.code}): {gate.reason}. "
                        f"{disruption_fix(gate, resource_group_name, name)}")
    if refusals:
        exit_after_output(cmd.cli_ctx, f"Cluster {name}: an update with {config} would be refused: "
                                       + " ".join(refusals))
    return doc
