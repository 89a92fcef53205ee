"""Infrastructure as code: the proxy config where teams write it, checked by the same rules as a config file.

ARM templates (and the JSON `az bicep build` emits) and Terraform plans (`terraform show -json`) in; one row per
finding out, each naming the resource and the path in the template or plan.

    result = check_template(text, "main.json", ["params.json"])
    result = check_plan(text, "plan.json")

Pure: no azure-cli import.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .arm_walk import template_clusters
from .checks import cluster_rows, fails, not_checked, row
from .declared import ClusterDecl, IacError, Unknown
from .template import given_parameters, read_template
from .terraform import plan_clusters, read_plan

__all__ = ["IacError", "IacResult", "check_plan", "check_template", "fails"]


@dataclass
class IacResult:
    """The rows (one per finding), and the clusters found (name, template path or plan address)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[tuple[str, str]] = field(default_factory=list)


def _result(clusters: list[ClusterDecl], notes: list[Unknown], now: datetime | None) -> IacResult:
    result = IacResult(clusters=[(c.name, c.where) for c in clusters])
    for cluster in clusters:
        result.rows += cluster_rows(cluster, now)
    result.rows += [row("", note.path, not_checked(note)) for note in notes]
    return result


def check_template(text: str, source: str, parameters: Sequence[str] = (), now: datetime | None = None) -> IacResult:
    """Every managed cluster of the ARM template ``text``; ``parameters`` as ``--parameters`` takes them.

    Raises:
      IacError: the text is not JSON or not a template, or a parameter is not the template's.
    """
    template = read_template(text, source)
    clusters, notes = template_clusters(template, given_parameters(parameters, template))
    return _result(clusters, notes, now)


def check_plan(text: str, source: str, now: datetime | None = None) -> IacResult:
    """Every managed cluster the Terraform plan JSON ``text`` creates, updates or keeps.

    Raises:
      IacError: the text is not JSON, not a plan, or a plan of an unsupported format_version.
    """
    clusters, notes = plan_clusters(read_plan(text, source))
    return _result(clusters, notes, now)
