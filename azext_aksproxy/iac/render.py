"""A canonical proxy config written where teams keep it: an ARM template's httpProxyConfig, a Bicep object, a
Terraform ``http_proxy_config`` block (`az aks http-proxy generate --format`).

Pure: no azure-cli import.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

FORMATS = ("json", "arm", "bicep", "terraform")
ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
_TERRAFORM_KEYS = (("httpProxy", "http_proxy"), ("httpsProxy", "https_proxy"), ("noProxy", "no_proxy"),
                   ("trustedCa", "trusted_ca"))


def arm_template(config: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """A template whose one managedClusters resource carries ``config``: its httpProxyConfig is what to merge into
    the cluster resource of your own template (alone it is no deployable cluster); validate --template reads it."""
    return {
        "$schema": ARM_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"description": "httpProxyConfig from az aks http-proxy generate: merge properties."
                                    "httpProxyConfig into your managedClusters resource."},
        "parameters": {"clusterName": {"type": "string"}},
        "resources": [{
            "type": "Microsoft.ContainerService/managedClusters",
            "apiVersion": api_version,
            "name": "[parameters('clusterName')]",
            "properties": {"httpProxyConfig": dict(config)},
        }],
    }


def _bicep_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${") + "'"


def _bicep_value(value: Any, indent: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        inner = "".join(f"{indent}  {_bicep_value(v, indent + '  ')}\n" for v in value)
        return f"[\n{inner}{indent}]"
    return _bicep_string(str(value))


def bicep_object(config: Mapping[str, Any]) -> str:
    """The ``httpProxyConfig`` property of a Bicep managedClusters resource's ``properties``."""
    lines = ["// properties.httpProxyConfig of your Microsoft.ContainerService/managedClusters resource",
             "httpProxyConfig: {"]
    lines += [f"  {key}: {_bicep_value(value, '  ')}" for key, value in config.items()]
    return "\n".join(lines + ["}"]) + "\n"


def _hcl_string(text: str) -> str:
    escaped = json.dumps(text)  # JSON's escapes are HCL's; template sequences must be doubled to stay literal
    return escaped.replace("${", "$${").replace("%{", "%%{")


def terraform_block(config: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The azurerm ``http_proxy_config`` block, and notes on what the block cannot hold (``enabled``: azurerm has
    no such attribute)."""
    lines = ["# in your azurerm_kubernetes_cluster resource", "http_proxy_config {"]
    width = max(len(tf) for rest, tf in _TERRAFORM_KEYS if rest in config) if any(
        rest in config for rest, _ in _TERRAFORM_KEYS) else 0
    for rest, tf in _TERRAFORM_KEYS:
        if rest not in config:
            continue
        value = config[rest]
        text = "[" + ", ".join(_hcl_string(str(v)) for v in value) + "]" if isinstance(value, list) \
            else _hcl_string(str(value))
        lines.append(f"  {tf.ljust(width)} = {text}")
    notes = []
    if "enabled" in config:
        notes.append(f"enabled: {str(config['enabled']).lower()} is not written: azurerm's http_proxy_config has "
                     "no enabled attribute (the proxy is on while the block is present).")
    return "\n".join(lines + ["}"]) + "\n", notes
