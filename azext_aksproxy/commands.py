"""Command table: core's aks create/update wrapped, plus the aks http-proxy group.

Each command's handlers live in the adapter module named after it (azext_aksproxy/adapters/), so a reader goes from
the command to its module directly; its argument checks in _validators.py (a command's validator: az runs it before
the handler, and then no argument validator, so these commands have none).
"""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).


def _handlers(module):
    from azure.cli.core.commands import CliCommandType

    return CliCommandType(operations_tmpl=f"azext_aksproxy.{module}#{{}}")


def load_command_table(self, _):
    from azext_aksproxy import _validators as checks
    from azext_aksproxy._client_factory import cf_managed_clusters
    from azext_aksproxy._format import (
        audit_table_format,
        check_table_format,
        findings_table_format,
        http_proxy_config_table_format,
        http_proxy_diff_table_format,
        http_proxy_pods_table_format,
        http_proxy_show_table_format,
        node_image_table_format,
    )

    with self.command_group("aks", client_factory=cf_managed_clusters) as g:
        g.custom_command("create", "aks_create", supports_no_wait=True)
        g.custom_command("update", "aks_update", supports_no_wait=True)

    with self.command_group("aks http-proxy", is_preview=True,
                            custom_command_type=_handlers("adapters.validate")) as g:
        g.custom_command("validate", "http_proxy_validate", table_transformer=findings_table_format,
                         validator=checks.validate_validate_input)
    with self.command_group("aks http-proxy", custom_command_type=_handlers("adapters.show"),
                            client_factory=cf_managed_clusters) as g:
        g.custom_show_command("show", "http_proxy_show", table_transformer=http_proxy_show_table_format)
        g.custom_command("diff", "http_proxy_diff", table_transformer=http_proxy_diff_table_format)
    with self.command_group("aks http-proxy", custom_command_type=_handlers("adapters.generate")) as g:
        g.custom_command("generate", "http_proxy_generate", table_transformer=http_proxy_config_table_format,
                         validator=checks.validate_generate_source)
    with self.command_group("aks http-proxy", custom_command_type=_handlers("adapters.check")) as g:
        g.custom_command("check", "http_proxy_check", table_transformer=check_table_format,
                         validator=checks.validate_check_arguments)
    with self.command_group("aks http-proxy", custom_command_type=_handlers("adapters.nodes_upgrade"),
                            client_factory=cf_managed_clusters) as g:
        g.custom_command("upgrade-nodes", "http_proxy_upgrade_nodes", supports_no_wait=True,
                         table_transformer=node_image_table_format, validator=checks.validate_upgrade_nodes_timeout)
    with self.command_group("aks http-proxy", custom_command_type=_handlers("adapters.fleet_audit")) as g:
        g.custom_command("audit", "http_proxy_audit", table_transformer=audit_table_format,
                         validator=checks.validate_audit_arguments)
    with self.command_group("aks http-proxy", custom_command_type=_handlers("adapters.stale_pods"),
                            client_factory=cf_managed_clusters) as g:
        g.custom_command("pods", "http_proxy_pods", table_transformer=http_proxy_pods_table_format)

    # ---- aks http-proxy rollout ----
    from azext_aksproxy._format import rollout_plan_table_format, rollout_table_format

    for command, handler, table, validator in (
            ("plan", "fleet_rollout_plan", rollout_plan_table_format, checks.validate_rollout_plan),
            ("apply", "fleet_rollout_apply", rollout_table_format, checks.validate_rollout_apply),
            ("status", "fleet_rollout_status", rollout_table_format, checks.validate_report_folder)):
        with self.command_group("aks http-proxy rollout", custom_command_type=_handlers(f"adapters.{handler}"),
                                is_preview=True) as g:
            g.custom_command(command, f"http_proxy_rollout_{command}", table_transformer=table, validator=validator)
