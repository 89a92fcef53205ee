"""`az aks http-proxy show` and `diff`: thin adapters reading the cluster (azure_reads) for the pure view/diff
builders."""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from knack.log import get_logger

from azext_aksproxy.adapters.findings_to_az import (
    exit_after_output,
    raise_for_errors,
    warn,
)

logger = get_logger(__name__)


def http_proxy_show(cmd, client, resource_group_name, name, show_ca_blob=False):
    from azext_aksproxy._client_factory import cf_agent_pools
    from azext_aksproxy.adapters.azure_reads import (
        latest_node_images,
        model_with_vnets,
        node_models,
        raw_cluster,
    )
    from azext_aksproxy.cluster.view import show_document
    from azext_aksproxy.config.arm import agent_pools

    model = model_with_vnets(cmd.cli_ctx, raw_cluster(client, resource_group_name, name))
    pools = [str(p.get("name")) for p in agent_pools(model.cluster)]
    latest = latest_node_images(cf_agent_pools(cmd.cli_ctx), resource_group_name, name, pools)
    models, unreadable = node_models(cmd.cli_ctx, model.cluster)
    return show_document(model, resource_group_name, {p: latest.get(p.lower()) for p in pools},
                         include_ca_blob=show_ca_blob, node_models=models, models_unreadable=unreadable)


def http_proxy_diff(cmd, client, resource_group_name, name, config):
    from azext_aksproxy.adapters.azure_reads import (
        disruption_gate,
        model_with_vnets,
        raw_cluster,
    )
    from azext_aksproxy.cluster.cluster_rules import (
        cluster_findings,
        with_cluster_advice,
    )
    from azext_aksproxy.cluster.diff import diff_document
    from azext_aksproxy.cluster.pools import disruption_fix
    from azext_aksproxy.config import check_file

    result = check_file(config)
    # The same refusal as validate and aks update: no comparison against a file the update would not send.
    if not result.ok:
        raise_for_errors(result.findings, f"--config {config}")
    model = model_with_vnets(cmd.cli_ctx, raw_cluster(client, resource_group_name, name))
    # The file's notices (the in-cluster advice naming this cluster's network), then the cluster's.
    findings = with_cluster_advice(result.findings, model, result.config) + cluster_findings(model, result.config)
    warn(findings)  # the notices; the refusals end the command below, after the diff is printed
    gate = (disruption_gate(cmd.cli_ctx, model.cluster)
            if model.certain_fields(result.config) else None)
    doc = diff_document(model, result.config, resource_group=resource_group_name, name=name, config_path=config,
                        findings=findings, gate=gate)
    refusals = [f.message for f in findings if f.is_error]
    if gate is not None and gate.allowed is False:
        refusals.append(f"AKS would refuse the reimage it needs ({gate.code}): {gate.reason}. "
                        f"{disruption_fix(gate, resource_group_name, name)}")
    if refusals:
        exit_after_output(cmd.cli_ctx, f"Cluster {name}: an update with {config} would be refused: "
                                       + " ".join(refusals))
    return doc
