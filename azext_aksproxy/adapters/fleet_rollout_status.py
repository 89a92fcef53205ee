"""`az aks http-proxy rollout status`: every planned cluster's state read from Azure now, optionally as a report."""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import os

from azext_aksproxy.adapters.azure_reads import ArmReader, VnetCache
from azext_aksproxy.adapters.findings_to_az import write_report
from azext_aksproxy.adapters.fleet_rollout import (
    load_plan,
    read_states,
    state_row,
    summary,
)
from azext_aksproxy.adapters.progress import outcome


def http_proxy_rollout_status(cmd, plan_file, report=None):
    arm = ArmReader(cmd.cli_ctx)
    plan = load_plan(plan_file)
    states = read_states(arm, VnetCache(cmd.cli_ctx, arm), plan)
    rows = [state_row(plan, c, *states[c.id.lower()][:2]) for c in plan.clusters]
    if report is not None:
        from azext_aksproxy.config.x509ext import aware_now
        from azext_aksproxy.fleet.audit_rules import DEFAULT_EXPIRY_HORIZON_DAYS
        from azext_aksproxy.fleet.report_html import render
        from azext_aksproxy.fleet.rollout_report import report_document

        document = report_document(plan, {k: v[:2] for k, v in states.items()}, os.path.basename(plan_file),
                                   aware_now(), DEFAULT_EXPIRY_HORIZON_DAYS)
        write_report(report, render(document))
    outcome(cmd.cli_ctx, "Rollout status", summary(rows) + ".")
    return rows
