"""Terraform plan JSON in the documented `terraform show -json` shape (format_version 1.2), for the iac tests.

Built the way terraform writes it for an azurerm_kubernetes_cluster: block attributes as one-element lists,
`after_unknown` for what apply computes, `before` from the refreshed state (where AKS's own noProxy entries are).
"""
from __future__ import annotations

import copy
import json

CLUSTER_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/" \
             "Microsoft.ContainerService/managedClusters/aks1"
# What AKS adds to noProxy for this cluster (fqdn, pod and service CIDRs, the managed VNet, the fixed entries).
AKS_ENTRIES = ["localhost", "127.0.0.1", "konnectivity", "168.63.129.16", "169.254.169.254",
               "aks1-dns-abc.hcp.westeurope.azmk8s.io", "10.244.0.0/16", "10.0.0.0/16", "10.224.0.0/12"]
USER_NO_PROXY = [".svc", ".cluster.local", "contoso.internal"]


def cluster_values(no_proxy=None, http_proxy="http://proxy.contoso.com:3128/", trusted_ca="", oms=False,
                   private=False, nodes=3):
    return {
        "name": "aks1", "location": "westeurope", "resource_group_name": "rg", "dns_prefix": "aks1-dns",
        "id": CLUSTER_ID, "fqdn": "aks1-dns-abc.hcp.westeurope.azmk8s.io", "private_fqdn": None,
        "private_cluster_enabled": private,
        "default_node_pool": [{"name": "system", "node_count": nodes, "vm_size": "Standard_D2s_v5",
                               "vnet_subnet_id": None, "type": "VirtualMachineScaleSets",
                               "upgrade_settings": [{"max_surge": "10%"}]}],
        "network_profile": [{"network_plugin": "kubenet", "pod_cidr": "10.244.0.0/16", "pod_cidrs": ["10.244.0.0/16"],
                             "service_cidr": "10.0.0.0/16", "service_cidrs": ["10.0.0.0/16"]}],
        "http_proxy_config": [{"http_proxy": http_proxy, "https_proxy": "", "trusted_ca": trusted_ca,
                               "no_proxy": list(USER_NO_PROXY if no_proxy is None else no_proxy)}],
        "oms_agent": [{"log_analytics_workspace_id": "/subscriptions/x/workspaces/w"}] if oms else [],
    }


def plan(*changes, format_version="1.2"):
    return {"format_version": format_version, "terraform_version": "1.9.5",
            "planned_values": {"root_module": {}}, "resource_changes": list(changes),
            "configuration": {"root_module": {}}}


def change(actions, before, after, address="azurerm_kubernetes_cluster.main", kind="azurerm_kubernetes_cluster",
           after_unknown=None):
    return {"address": address, "mode": "managed", "type": kind, "name": address.split(".")[-1],
            "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {"actions": actions, "before": copy.deepcopy(before), "after": copy.deepcopy(after),
                       "after_unknown": after_unknown or {}, "before_sensitive": {}, "after_sensitive": {}}}


def create(**kw):
    after = cluster_values(**kw)
    for key in ("id", "fqdn"):
        after.pop(key)
    return plan(change(["create"], None, after, after_unknown={"id": True, "fqdn": True}))


def update(before_no_proxy, after_no_proxy, **kw):
    return plan(change(["update"], cluster_values(no_proxy=before_no_proxy),
                       cluster_values(no_proxy=after_no_proxy, **kw)))


def windows_pool(address="azurerm_kubernetes_cluster_node_pool.win"):
    return change(["create"], None, {"name": "win", "os_type": "Windows", "node_count": 2,
                                     "kubernetes_cluster_id": CLUSTER_ID},
                  address=address, kind="azurerm_kubernetes_cluster_node_pool")


def dumps(doc) -> str:
    return json.dumps(doc, indent=2)
