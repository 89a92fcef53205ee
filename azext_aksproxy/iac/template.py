"""ARM templates (and the JSON `az bicep build` emits): every ``Microsoft.ContainerService/managedClusters``
resource with its httpProxyConfig, node pools and add-ons, parameters resolved as ``az deployment group create
--parameters`` resolves them.

Walks top-level resources (an array, or the symbolic-name object of ``languageVersion`` 2.0), resources nested in
a cluster, and ``Microsoft.Resources/deployments`` with an inline template (expression scope ``outer``, the
default, or ``inner`` with the deployment's parameters). A linked template (``templateLink``) is named as not read.

Pure: no azure-cli import.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .declared import IacError
from .expressions import NotEvaluated, Scope, resolve_strict

CLUSTER_TYPE = "microsoft.containerservice/managedclusters"
POOL_TYPE = CLUSTER_TYPE + "/agentpools"
DEPLOYMENT_TYPE = "microsoft.resources/deployments"
SECURE_TYPES = ("securestring", "secureobject")


def load_json_text(text: str, source: str) -> Any:
    """JSON as az reads templates and parameter files: comments and trailing commas are tolerated (the AKS docs'
    ARM sample has one)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(_without_comments(text))
    except ValueError as exc:
        raise IacError(f"{source} is not valid JSON: {exc}") from None


_JSONC = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/|,(\s*[}\]])', re.DOTALL)


def _without_comments(text: str) -> str:
    return _JSONC.sub(lambda m: m.group(1) or m.group(2) or "", text)


def read_template(text: str, source: str) -> dict[str, Any]:
    doc = load_json_text(text, source)
    if isinstance(doc, dict) and "resource_changes" in doc or isinstance(doc, dict) and "format_version" in doc:
        raise IacError(f"{source} is a Terraform plan, not an ARM template: use --terraform-plan.")
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), (list, dict)):
        hint = (" It looks like a parameters file: pass it with --parameters." if isinstance(doc, dict)
                and "parameters" in doc and "resources" not in doc else "")
        raise IacError(f"{source} is not an ARM template (a JSON object with a resources array).{hint}")
    return doc


# ---- parameters -------------------------------------------------------------------------------------------------


def given_parameters(items: Sequence[str], template: Mapping[str, Any]) -> dict[str, Any]:
    """``--parameters`` items as az deployment reads them, in order (later wins): a parameters file's path, JSON
    text (az has expanded ``@FILE`` already) or NAME=VALUE (typed by the template's declaration). Returns
    ``{name: {"value": ...}}`` entries (or ``{"reference": ...}`` for a Key Vault reference)."""
    declared = {k.lower(): (k, v) for k, v in (template.get("parameters") or {}).items() if isinstance(v, dict)}
    out: dict[str, Any] = {}
    for item in items:
        loaded = _parameters_object(item)
        if loaded is None:
            name, value = _name_value(item, declared)
            out[name] = {"value": value}
            continue
        for name, entry in loaded.items():
            if name == "$schema" or name == "contentVersion":
                continue
            out[name] = entry if isinstance(entry, dict) and ("value" in entry or "reference" in entry) \
                else {"value": entry}
    unknown = [n for n in out if n.lower() not in declared]
    if unknown:
        raise IacError(f"--parameters: the template declares no parameter {', '.join(sorted(unknown))} (it has "
                       f"{', '.join(sorted(v[0] for v in declared.values())) or 'none'}).")
    return out


def _parameters_object(item: str) -> dict[str, Any] | None:
    if os.path.isfile(item):
        if item.endswith(".bicepparam"):
            raise IacError(f"--parameters {item}: a .bicepparam file needs the Bicep CLI; build it with az bicep "
                           "build-params and pass the JSON it writes.")
        try:
            with open(item, encoding="utf-8-sig") as f:
                doc = load_json_text(f.read(), f"--parameters {item}")
        except OSError as exc:
            raise IacError(f"--parameters {item}: cannot be read: {exc.strerror or exc}.") from None
    else:
        stripped = item.strip()
        if not stripped.startswith("{"):
            return None
        doc = load_json_text(stripped, "--parameters JSON")
    if not isinstance(doc, dict):
        raise IacError("--parameters: a parameters file holds a JSON object.")
    params = doc.get("parameters", doc)
    return params if isinstance(params, dict) else None


def _name_value(item: str, declared: Mapping[str, tuple[str, Any]]) -> tuple[str, Any]:
    if "=" not in item:
        raise IacError(f"--parameters {item!r}: not a file, JSON or NAME=VALUE.")
    name, text = item.split("=", 1)
    if name.lower() not in declared:
        raise IacError(f"--parameters: the template declares no parameter {name}.")
    kind = str(declared[name.lower()][1].get("type", "string")).lower()
    try:
        if kind in ("object", "array", "secureobject"):
            return name, json.loads(text)
        if kind == "bool":
            return name, text.lower() == "true"
        if kind == "int":
            return name, int(text)
    except ValueError:
        raise IacError(f"--parameters {name}=...: not a valid {kind} value.") from None
    return name, text


def template_scope(template: Mapping[str, Any], given: Mapping[str, Any]) -> Scope:
    """The scope of a template: each declared parameter's given value, else its defaultValue; variables."""
    declared = {k: v for k, v in (template.get("parameters") or {}).items() if isinstance(v, dict)}
    lowered = {k.lower(): v for k, v in given.items()}
    secure = frozenset(k for k, v in declared.items() if str(v.get("type", "")).lower() in SECURE_TYPES)
    values: dict[str, Any] = {}
    missing: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    for name, decl in declared.items():
        entry = lowered.get(name.lower())
        if isinstance(entry, dict) and "value" in entry:
            values[name] = entry["value"]
        elif isinstance(entry, dict):
            missing[name] = entry.get("unknown") or \
                f"parameters('{name}') is a Key Vault reference, resolved by the deployment"
        elif "defaultValue" in decl:
            defaults[name] = decl["defaultValue"]
        else:
            missing[name] = f"parameters('{name}') has no value: give it with --parameters"
    scope = Scope(values, template.get("variables") or {}, secure, missing)
    for name, default in defaults.items():  # defaults may read other parameters
        try:
            scope.parameters[name.lower()] = resolve_strict(default, scope)
        except NotEvaluated as exc:
            scope.missing[name.lower()] = f"the defaultValue of parameters('{name}'): {exc}"
    return scope
