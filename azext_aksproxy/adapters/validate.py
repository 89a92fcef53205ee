"""`az aks http-proxy validate`: the file's findings, and with -g/-n the cluster's, for people and CI; or a
template's or Terraform plan's (adapters/templates.py)."""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from azext_aksproxy.adapters.findings_to_az import exit_after_output


def http_proxy_validate(cmd, config=None, resource_group_name=None, name=None, strict=False, template=None,
                        parameters=None, terraform_plan=None, fail_on=None):
    # The arguments were checked by _validators.validate_validate_input.
    fail_on = fail_on or ("warning" if strict else "error")
    if template:
        from azext_aksproxy.adapters.templates import validate_template

        return validate_template(cmd, template, parameters, fail_on)
    if terraform_plan:
        from azext_aksproxy.adapters.templates import validate_plan

        return validate_plan(cmd, terraform_plan, fail_on)
    from azext_aksproxy.config import check_file

    result = check_file(config)
    findings = list(result.findings)
    if resource_group_name and name:
        from azext_aksproxy.adapters.azure_reads import cluster_model
        from azext_aksproxy.cluster.cluster_rules import (
            cluster_findings,
            with_cluster_advice,
        )

        model = cluster_model(cmd.cli_ctx, resource_group_name, name)
        findings = with_cluster_advice(findings, model, result.config) + cluster_findings(model, result.config)
    failing = [f for f in findings if fail_on == "warning" or (fail_on == "error" and f.is_error)]
    if failing:
        exit_after_output(cmd.cli_ctx, f"{config}: {len(failing)} finding(s) fail validation"
                                       f"{' (--strict)' if strict else ''}.")
    return [f.to_dict() for f in findings]
