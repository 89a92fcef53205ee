"""`az aks http-proxy validate`: the file's findings, and with -g/-n the cluster's, for people and CI."""
from azext_aksproxy.adapters.reporting import exit_after_output


def http_proxy_validate(cmd, config, resource_group_name=None, name=None, strict=False):
    from azext_aksproxy.proxy_config import check_file

    result = check_file(config)
    findings = list(result.findings)
    if resource_group_name and name:
        from azext_aksproxy.adapters.azure_reads import cluster_model
        from azext_aksproxy.proxy_config.cluster import (
            cluster_findings,
            with_cluster_advice,
        )

        model = cluster_model(cmd.cli_ctx, resource_group_name, name)
        findings = with_cluster_advice(findings, model, result.config) + cluster_findings(model, result.config)
    errors = [f for f in findings if f.is_error or strict]
    if errors:
        exit_after_output(cmd.cli_ctx, f"{config}: {len(errors)} finding(s) fail validation"
                                       f"{' (--strict)' if strict else ''}.")
    return [f.to_dict() for f in findings]
