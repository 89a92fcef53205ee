"""Reading ARM REST JSON: a raw GET response, ``as_dict()`` of an SDK model, or a list item, all the same way."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """An ARM resource's properties, from a GET response or ``as_dict()`` (``{"properties": {...}}``) and from the
    flat shape of a cluster's ``agentPoolProfiles`` entries alike."""
    props = resource.get("properties")
    return props if isinstance(props, Mapping) else resource


def agent_pools(cluster: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pools = properties(cluster).get("agentPoolProfiles") or []
    return [p for p in pools if isinstance(p, Mapping)]


def current_proxy_config(cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    value = properties(cluster).get("httpProxyConfig")
    return dict(value) if isinstance(value, Mapping) else None
