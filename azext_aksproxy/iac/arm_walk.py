"""Finding the managed clusters in an ARM template: top-level, nested in other resources' ``resources``, and in
inline nested deployments; their node pools from ``agentPoolProfiles`` and from ``agentPools`` child resources
(nested, or top-level named ``cluster/pool``).

Pure: no azure-cli import.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .declared import ClusterDecl, PoolDecl, Unknown
from .expressions import (
    NotEvaluated,
    Scope,
    is_expression,
    literal_text,
    resolve_strict,
)
from .template import CLUSTER_TYPE, DEPLOYMENT_TYPE, POOL_TYPE, template_scope

# The cluster properties the add-on rules read (cluster/addons.py).
ADDON_PROPERTIES = ("addonProfiles", "azureMonitorProfile", "apiServerAccessProfile")
_MAX_DEPTH = 10  # nested deployments followed; deeper ones are named as not read


@dataclass
class _Walk:
    clusters: list[ClusterDecl] = field(default_factory=list)
    child_pools: list[tuple[str | None, PoolDecl]] = field(default_factory=list)
    notes: list[Unknown] = field(default_factory=list)  # what stopped the walk itself (linked templates, ...)


def template_clusters(template: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[list[ClusterDecl],
                                                                                      list[Unknown]]:
    """Every managed cluster the template deploys, and what could not be read at all (linked templates, pools
    of a cluster the template does not hold)."""
    walk = _Walk()
    _walk(template.get("resources"), template_scope(template, given), "resources", walk, 0, None)
    for cluster_name, pool in walk.child_pools:
        matches = [c for c in walk.clusters if cluster_name is not None and c.name.lower() == cluster_name.lower()]
        if not matches and len(walk.clusters) == 1:
            matches = walk.clusters
        if matches:
            matches[0].pools.append(pool)
        else:
            walk.notes.append(Unknown(pool.path, "a node pool whose cluster is not found in this template; its "
                                                 "pool rules are not checked"))
    return walk.clusters, walk.notes


def _child_path(base: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if str(key).isidentifier() else f"{base}[{json.dumps(str(key))}]"


def _walk(resources: Any, scope: Scope, base: str, walk: _Walk, depth: int, parent: ClusterDecl | None) -> None:
    items = list(enumerate(resources)) if isinstance(resources, list) else \
        list(resources.items()) if isinstance(resources, dict) else []
    for key, res in items:
        path = _child_path(base, key)
        if not isinstance(res, dict) or res.get("existing") is True:
            continue
        if "condition" in res and value_at(res["condition"], scope, path + ".condition") is False:
            continue  # not deployed
        kind = str(res.get("type", "")).lower()
        if kind == CLUSTER_TYPE:
            cluster = _cluster(res, scope, path)
            walk.clusters.append(cluster)
            _walk(res.get("resources"), scope, path + ".resources", walk, depth, cluster)
        elif kind == POOL_TYPE or (parent is not None and kind == "agentpools"):
            name = value_at(res.get("name"), scope, path + ".name")
            owner = parent.name if parent is not None else \
                str(name).split("/")[0] if isinstance(name, str) and "/" in name else None
            pool_name = name.split("/")[-1] if isinstance(name, str) else name
            walk.child_pools.append((owner, _pool(pool_name, res.get("properties") or {}, scope, path,
                                                  path + ".properties")))
        elif kind == DEPLOYMENT_TYPE:
            _deployment(res, scope, path, walk, depth)
        elif res.get("resources"):
            _walk(res.get("resources"), scope, path + ".resources", walk, depth, None)


def _deployment(res: Mapping[str, Any], scope: Scope, path: str, walk: _Walk, depth: int) -> None:
    props = res.get("properties") or {}
    template = props.get("template")
    if not isinstance(template, dict):
        if props.get("templateLink"):
            walk.notes.append(Unknown(path, "a linked template (templateLink) is not read: check that template "
                                            "with its own --template"))
        return
    if depth >= _MAX_DEPTH:
        walk.notes.append(Unknown(path, f"deployments nested deeper than {_MAX_DEPTH} are not read"))
        return
    inner = str((props.get("expressionEvaluationOptions") or {}).get("scope", "outer")).lower() == "inner"
    nested_scope = scope
    if inner:
        given: dict[str, Any] = {}
        for name, entry in (props.get("parameters") or {}).items():
            if isinstance(entry, dict) and "value" in entry:
                try:
                    given[name] = {"value": resolve_strict(entry["value"], scope)}
                except NotEvaluated as exc:
                    given[name] = {"unknown": f"parameters('{name}') of the nested deployment: {exc}"}
            else:
                given[name] = {"unknown": f"parameters('{name}') is a Key Vault reference, resolved by the "
                                          "deployment"}
        nested_scope = template_scope(template, given)
    _walk(template.get("resources"), nested_scope, path + ".properties.template.resources", walk, depth + 1, None)


def value_at(raw: Any, scope: Scope, path: str) -> Any:
    """``raw`` evaluated, or an :class:`Unknown` naming ``path`` and why."""
    try:
        return resolve_strict(raw, scope)
    except NotEvaluated as exc:
        return Unknown(path, str(exc))


def _display(raw: Any, scope: Scope, path: str) -> str:
    value = value_at(raw, scope, path)
    return str(raw) if isinstance(value, Unknown) else str(value)


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """ARM property names are case-insensitive."""
    for k, v in obj.items():
        if str(k).lower() == key.lower():
            return v
    return None


def _cluster(res: Mapping[str, Any], scope: Scope, path: str) -> ClusterDecl:
    props_path = path + ".properties"
    cluster = ClusterDecl(name=_display(res.get("name"), scope, path + ".name"), where=path,
                          config_path=props_path + ".httpProxyConfig")
    props = value_at(res.get("properties"), scope, props_path) if is_expression(res.get("properties")) \
        else res.get("properties") or {}
    if isinstance(props, Unknown):
        cluster.config = props
        return cluster
    if not isinstance(props, dict):
        return cluster
    _config(cluster, _get(props, "httpProxyConfig"), scope)
    pools_path = props_path + ".agentPoolProfiles"
    pools = _get(props, "agentPoolProfiles")
    pools = value_at(pools, scope, pools_path) if is_expression(pools) else pools
    if isinstance(pools, Unknown):
        cluster.unknowns.append(pools)
    for i, pool in enumerate(pools if isinstance(pools, list) else []):
        if isinstance(pool, dict):
            pool_path = f"{pools_path}[{i}]"
            cluster.pools.append(_pool(value_at(pool.get("name"), scope, pool_path + ".name"), pool, scope,
                                       pool_path, pool_path))
    for key in ADDON_PROPERTIES:
        if _get(props, key) is not None:
            value = _lenient(_get(props, key), scope, f"{props_path}.{key}")
            # Only the switches the add-on rules read matter (an add-on's config may hold resourceId()).
            cluster.unknowns += [u for u in _unknowns(value) if u.path.lower().endswith(_SWITCHES)]
            cluster.properties[key] = value
    return cluster


_SWITCHES = (".enabled", ".enableprivatecluster", ".containerinsights")


def _lenient(raw: Any, scope: Scope, path: str) -> Any:
    """``raw`` evaluated where it can be, each part that cannot an :class:`Unknown`."""
    if isinstance(raw, dict):
        return {k: _lenient(v, scope, _child_path(path, k)) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_lenient(v, scope, _child_path(path, i)) for i, v in enumerate(raw)]
    value = value_at(raw, scope, path)
    return value


def _unknowns(value: Any) -> list[Unknown]:
    if isinstance(value, Unknown):
        return [value]
    if isinstance(value, dict):
        return [u for v in value.values() for u in _unknowns(v)]
    if isinstance(value, list):
        return [u for v in value for u in _unknowns(v)]
    return []


def _pool(name: Any, props: Mapping[str, Any], scope: Scope, path: str, props_path: str) -> PoolDecl:
    def field_value(key: str) -> Any:
        raw = _get(props, key)
        return None if raw is None else value_at(raw, scope, f"{props_path}.{key}")

    return PoolDecl(name=name, path=path, os_type=field_value("osType"), pool_type=field_value("type"),
                    count=field_value("count"))


def _config(cluster: ClusterDecl, raw: Any, scope: Scope) -> None:
    """httpProxyConfig with each value evaluated on its own (Unknown where it cannot be), and which keys read a
    secure parameter."""
    base = cluster.config_path
    if raw is None:
        return
    if is_expression(raw):
        scope.secure_used = False
        value = value_at(raw, scope, base)
        if scope.secure_used and isinstance(value, dict):
            cluster.secure = {k: _strings(v) for k, v in value.items()}
        cluster.config = value
        return
    if not isinstance(raw, dict):
        cluster.config = literal_text(raw) if isinstance(raw, str) else raw
        return
    config: dict[str, Any] = {}
    for key, item in raw.items():
        path = _child_path(base, key)
        cluster.key_paths[key] = path
        scope.secure_used = False
        if isinstance(item, list):
            config[key] = [value_at(v, scope, f"{path}[{i}]") for i, v in enumerate(item)]
        else:
            config[key] = value_at(item, scope, path)
        if scope.secure_used:
            cluster.secure[key] = _strings(config[key])
    cluster.config = config


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []

