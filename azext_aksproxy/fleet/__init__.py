"""The fleet: the audit's rules (audit_rules) and its report (report_document, report_html), and a fleet
rollout: the edit of each cluster's config (edits), the stages in Fleet Manager's vocabulary (strategy),
gates (gates), the plan file (plan_file), the per-cluster states and the scheduler (states) and the
rollout report (rollout_report). Pure (no azure-cli import).
"""
