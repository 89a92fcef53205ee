"""What a template or a plan declares about a cluster, in one shape for both: the proxy config as the deployment
would send it (values aksproxy could not evaluate kept as :class:`Unknown`), the node pools, the add-ons, and for a
plan the cluster as it is before the change.

Pure: no azure-cli import.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class IacError(ValueError):
    """Input that is not what the command reads (not JSON, not a template, a plan of another format): one error."""


@dataclass(frozen=True)
class Unknown:
    """A value only the deployment knows (an expression aksproxy does not evaluate, a value known after apply)."""

    path: str
    reason: str


@dataclass
class PoolDecl:
    """One node pool: from ``agentPoolProfiles``, an ``agentPools`` child resource or a Terraform node pool."""

    name: Any
    path: str
    os_type: Any = None
    pool_type: Any = None
    count: Any = None


@dataclass
class ClusterDecl:
    """One managed cluster a template deploys or a plan changes.

    ``config`` is the httpProxyConfig object (REST keys; ``Unknown`` leaves or an ``Unknown`` whole), or None when
    the cluster has none. ``key_paths`` says where each REST key was written (its findings' paths), ``secure``
    the REST keys whose value came from a securestring/secureObject parameter or a sensitive plan value (never
    shown). ``properties`` holds the cluster properties the add-on rules read, in ARM's shape.
    """

    name: str
    where: str  # the resource's template path (resources[2]) or plan address (azurerm_kubernetes_cluster.main)
    config_path: str
    config: Any = None
    key_paths: dict[str, str] = field(default_factory=dict)
    secure: dict[str, list[str]] = field(default_factory=dict)  # REST key -> secret strings to scrub from messages
    pools: list[PoolDecl] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    unknowns: list[Unknown] = field(default_factory=list)  # other values that stopped a rule (pools, add-ons)
    actions: tuple[str, ...] = ("create",)  # a plan's change.actions; templates create or update, unknown which
    before: dict[str, Any] | None = None  # a plan's update: the cluster before, as ARM JSON (httpProxyConfig, ...)


def config_key_path(decl: ClusterDecl, key: str) -> str:
    return decl.key_paths.get(key, f"{decl.config_path}.{key}")
