"""The monitoring add-on (Container insights) behind an HTTP proxy: what its docs say it does not support.

Works on a cluster's ARM JSON (a GET response, ``as_dict()``, or what a template or plan declares) and the proxy
config the cluster runs or will run. Pure: no azure-cli import.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.arm import properties
from ..config.findings import Finding, warning_at

# The add-on's key in addonProfiles is spelt both ways in the wild (REST responses: omsagent; ARM templates and the
# AKS docs' samples: omsAgent); ARM keys are case-insensitive.
_MONITORING_ADDON = "omsagent"


def _on(value: Any) -> bool:
    """An add-on's ``enabled``: true, or the string "true" as templates copied from the docs write it."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def monitoring_enabled(cluster: Mapping[str, Any]) -> bool:
    """Whether Container insights runs: the omsagent add-on, or azureMonitorProfile.containerInsights."""
    props = properties(cluster)
    addons = props.get("addonProfiles") or {}
    if isinstance(addons, Mapping):
        for name, profile in addons.items():
            if str(name).lower() == _MONITORING_ADDON and isinstance(profile, Mapping) and _on(profile.get("enabled")):
                return True
    insights = ((props.get("azureMonitorProfile") or {}).get("containerInsights") or {})
    return isinstance(insights, Mapping) and _on(insights.get("enabled"))


def private_cluster(cluster: Mapping[str, Any]) -> bool:
    return _on((properties(cluster).get("apiServerAccessProfile") or {}).get("enablePrivateCluster"))


def addon_findings(cluster: Mapping[str, Any], config: Mapping[str, Any] | None) -> list[Finding]:
    """Warnings for the monitoring add-on on a cluster whose proxy ``config`` (canonical, None: no proxy) is in
    effect: custom metrics and recommended alerts with a trustedCa; an HTTPS proxy on a private cluster."""
    if not config or config.get("enabled") is False or not monitoring_enabled(cluster):
        return []
    if not (config.get("httpProxy") or config.get("httpsProxy")):
        return []
    findings = []
    if config.get("trustedCa"):
        findings.append(warning_at(
            "$.trustedCa", "monitoring-trusted-ca",
            "The monitoring add-on (Container insights) is enabled and the proxy config has a trustedCa: custom "
            "metrics and recommended alerts are not supported with a proxy that uses a trusted certificate.",
            "Use Azure Monitor managed Prometheus and its alert rules instead, or accept that these features "
            "do not work on this cluster."))
    if private_cluster(cluster):
        findings.append(warning_at(
            "$.httpsProxy" if config.get("httpsProxy") else "$.httpProxy", "monitoring-private-https-proxy",
            "The monitoring add-on (Container insights) is enabled on a private cluster behind an HTTPS proxy: "
            "Azure Monitor does not support that combination.",
            "Send the add-on's endpoints through Azure Monitor Private Link Scope, or disable the add-on on this "
            "cluster; see the Azure Monitor network requirements for Kubernetes monitoring."))
    return findings
