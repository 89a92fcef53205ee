"""The rules of `validate` on what a template or plan declares: the config file rules, the pool rules, the
monitoring add-on rules, and for a plan's update the reimage it causes. One row per finding, naming the resource
and the path in the template or plan.

Pure: no azure-cli import.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..cluster.addons import addon_findings
from ..cluster.cluster_rules import pool_findings
from ..cluster.model import ClusterModel
from ..cluster.pools import WHAT_A_REIMAGE_DOES, describe_pools
from ..config import check_document
from ..config.findings import ERROR, Finding, warning_at
from .declared import ClusterDecl, PoolDecl, Unknown, config_key_path

_URL_KEYS = ("httpProxy", "httpsProxy")
_NOT_CHECKED_FIX = ("Give the value with --parameters, or check the deployed cluster afterwards with az aks "
                    "http-proxy validate -g RG -n NAME.")
_DRIFT_FIX = ("Add lifecycle { ignore_changes = [http_proxy_config[0].no_proxy] } to the cluster resource, or add "
              "these entries to no_proxy so that the plan shows no change.")


def not_checked(unknown: Unknown, what: str = "") -> Finding:
    return warning_at(unknown.path, "not-evaluated", f"Not checked{what}: {unknown.reason}.", _NOT_CHECKED_FIX)


def cluster_rows(cluster: ClusterDecl, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every finding for one declared cluster, as rows naming the resource."""
    findings, config, written = config_findings(cluster, now)
    findings += _pool_findings(cluster.pools) + [not_checked(u, " (monitoring add-on rules)") for u in cluster.unknowns]
    if written is not None and not cluster.unknowns:  # the add-on rules read only which keys are set
        findings += [_rebase(cluster, f) for f in addon_findings({"properties": cluster.properties}, written)]
    if cluster.before is not None:
        findings += reimage_findings(cluster, config)
    return [row(cluster.name, cluster.where, f) for f in findings]


def row(resource: str, where: str, finding: Finding) -> dict[str, Any]:
    return {"resource": resource, "address": where, **finding.to_dict()}


def config_findings(cluster: ClusterDecl, now: datetime | None) -> tuple[list[Finding], dict[str, Any] | None,
                                                                        dict[str, Any] | None]:
    """The config rules on the declared httpProxyConfig; values not evaluated are reported, never guessed, and the
    findings that only their absence would cause are left out. Returns the findings, the canonical config (None
    when an error was found) and the config as written (the known values, REST keys as written)."""
    raw = cluster.config
    if raw is None:
        return [], None, None
    if isinstance(raw, Unknown):
        return [not_checked(raw, " (the whole httpProxyConfig)")], None, None
    if not isinstance(raw, dict):
        shape = check_document(raw, source=cluster.where, now=now).findings
        return [_rebase(cluster, f) for f in shape], None, None
    doc: dict[str, Any] = {}
    findings: list[Finding] = []
    unknown_keys: set[str] = set()
    index_maps: dict[str, list[int]] = {}
    for key, value in raw.items():
        if isinstance(value, Unknown):
            findings.append(not_checked(value))
            unknown_keys.add(key.lower())
        elif isinstance(value, list) and any(isinstance(v, Unknown) for v in value):
            findings += [not_checked(v) for v in value if isinstance(v, Unknown)]
            index_maps[key] = [i for i, v in enumerate(value) if not isinstance(v, Unknown)]
            doc[key] = [v for v in value if not isinstance(v, Unknown)]
            unknown_keys.add(key.lower())
        else:
            doc[key] = value
    findings += _enabled_string(cluster, doc)
    result = check_document(doc, source=cluster.where, now=now)
    skipped = _consequences_of(unknown_keys)
    findings += [_rebase(cluster, f, index_maps) for f in result.findings if f.code not in skipped]
    return [_mask(cluster, f) for f in findings], (result.config if result.ok else None), doc


def _consequences_of(unknown_keys: set[str]) -> set[str]:
    """Findings about what is missing, when the missing part is only not known."""
    skipped = set()
    if unknown_keys & {"httpproxy", "httpsproxy"}:
        skipped.add("no-proxy-url")
    if "noproxy" in unknown_keys:
        skipped.add("noproxy-in-cluster")
    return skipped


def _enabled_string(cluster: ClusterDecl, doc: dict[str, Any]) -> list[Finding]:
    for key in list(doc):
        value = doc[key]
        if key.lower() == "enabled" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            doc[key] = value.strip().lower() == "true"
            return [warning_at(config_key_path(cluster, key), "enabled-string",
                               f"enabled is the string {value!r}; the API's type is boolean (the AKS docs' ARM "
                               "sample writes it so). It is checked as the boolean.",
                               f"Write \"enabled\": {str(doc[key]).lower()} without quotes.", value)]
    return []


_PATH_KEY = re.compile(r"^\$(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\"([^\"]*)\"\])?(?:\[(\d+)\])?(.*)$")


def _rebase(cluster: ClusterDecl, finding: Finding, index_maps: dict[str, list[int]] | None = None) -> Finding:
    """A config finding's ``$`` path as the path in the template or plan (list indices as written)."""
    match = _PATH_KEY.match(finding.path)
    if not match:
        return finding
    key = match.group(1) or match.group(2)
    if key is None:
        return dataclasses.replace(finding, path=cluster.config_path + match.group(4))
    path = config_key_path(cluster, key)
    if match.group(3) is not None:
        index = int(match.group(3))
        mapping = (index_maps or {}).get(key)
        path += f"[{mapping[index] if mapping and index < len(mapping) else index}]"
    return dataclasses.replace(finding, path=path + match.group(4))


def _mask(cluster: ClusterDecl, finding: Finding) -> Finding:
    """Findings on a value from a secure parameter or a sensitive plan value: the value is never shown."""
    for key, secrets in cluster.secure.items():
        if finding.path.startswith(config_key_path(cluster, key)) or finding.path == cluster.config_path:
            message, fix = finding.message, finding.fix
            for secret in secrets:
                message, fix = message.replace(secret, "***"), fix.replace(secret, "***")
            return dataclasses.replace(finding, value="(secure value)" if finding.value is not None else None,
                                       message=message, fix=fix)
    return finding


def _pool_findings(pools: Iterable[PoolDecl]) -> list[Finding]:
    findings = []
    for pool in pools:
        unknown = [v for v in (pool.os_type, pool.pool_type) if isinstance(v, Unknown)]
        findings += [not_checked(u, " (node pool rules)") for u in unknown]
        shape = {"name": str(pool.name), "osType": pool.os_type, "type": pool.pool_type}
        known = {k: v for k, v in shape.items() if not isinstance(v, Unknown)}
        findings += [dataclasses.replace(f, path=pool.path) for f in pool_findings({"agentPoolProfiles": [known]})]
    return findings


def _as_arm_pools(pools: Iterable[PoolDecl]) -> list[dict[str, Any]]:
    return [{"name": str(p.name), "count": p.count if isinstance(p.count, int) else None} for p in pools]


def reimage_findings(cluster: ClusterDecl, config: dict[str, Any] | None) -> list[Finding]:
    """A plan's update of the proxy config: the reimage it causes (as `az aks update` announces it), or, where the
    only difference is the noProxy entries AKS adds itself, that drift said in those words."""
    model = ClusterModel(cluster.before or {})
    if config is None:
        return []
    before_raw = [str(e) for e in (model.stored or {}).get("noProxy") or []]
    fields = model.changed_fields(config)
    certain = model.certain_fields(config)
    pools = describe_pools([{"name": r["name"], "nodes": r["count"], "maxSurge": None, "stopped": False}
                            for r in _as_arm_pools(cluster.pools)])
    if certain:
        return [warning_at(
            cluster.config_path, "plan-reimages",
            f"Applying this plan changes {', '.join(fields)} of cluster {cluster.name}'s HTTP proxy config: AKS "
            f"reimages every node pool as part of the update: {pools or 'its pools'}; {WHAT_A_REIMAGE_DOES}.",
            "Apply in a maintenance window; PodDisruptionBudgets limit how many pods go down at once. az aks "
            "http-proxy diff -g RG -n NAME --config FILE shows the change against the running cluster.")]
    after_raw = [str(e) for e in config.get("noProxy") or []]
    dropped = [e for e in before_raw if e.lower() not in {a.lower() for a in after_raw}]
    if fields or sorted(e.lower() for e in before_raw) != sorted(e.lower() for e in after_raw):
        aks = [e for e in dropped if model.aks_adds(e)] or list(model.possibly_aks_added(dropped)) or dropped
        return [warning_at(
            f"{cluster.config_path}.no_proxy" if ".http_proxy_config" in cluster.config_path
            else f"{cluster.config_path}.noProxy", "plan-aks-no-proxy-only",
            f"The only difference in cluster {cluster.name}'s HTTP proxy config is the noProxy entries AKS adds "
            f"itself ({', '.join(aks)}): the drift azurerm users have reported since 2023 (azurerm issue 24188). "
            "Nothing you set changes, but apply sends the list without them.", _DRIFT_FIX, ", ".join(aks))]
    return []


def fails(rows: Iterable[dict[str, Any]], fail_on: str) -> list[dict[str, Any]]:
    """The rows that fail the command under ``--fail-on`` (as audit's)."""
    if fail_on == "never":
        return []
    return [r for r in rows if fail_on == "warning" or r["severity"] == ERROR]
