"""The recorded ARM traffic and data files shipped in tests/armemu/recordings/."""
from __future__ import annotations

import json
from pathlib import Path

RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"
DATA_DIR = RECORDINGS_DIR / "data"
CREATE_UPDATE = "aks_create_update_http_proxy.json"
NODE_IMAGE_UPGRADE = "test_aks_upgrade_node_image_only_nodepool.json"


def load_recording(name: str) -> list:
    return json.loads((RECORDINGS_DIR / name).read_text(encoding="utf-8"))


def load_data(name: str) -> dict:
    """One of the --http-proxy-config files (httpproxyconfig.json, httpproxyconfig_update.json, ...)."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


# Paths and bodies the emulator's own HTTP-level tests share.
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
MC = SUB + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/"
CREATE = {"location": "westus2", "identity": {"type": "SystemAssigned"},
          "properties": {"dnsPrefix": "c1", "agentPoolProfiles": [{"name": "nodepool1", "count": 1,
                                                                  "mode": "System"}]}}


def local(url: str) -> str:
    """An absolute LRO URL from a response header, as a path+query for EmulatorClient.arm."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def as_sent(stored_cfg: dict, sent: dict) -> dict:
    """A stored httpProxyConfig as the client sent it: the service writes its own entries into noProxy after the
    client's (tests/armemu/README.md, "httpProxyConfig"), so those are cut off (the whole list when none was sent)."""
    out = dict(stored_cfg)
    sent_entries = len(sent.get("noProxy") or [])
    if sent_entries:
        out["noProxy"] = out.get("noProxy", [])[:sent_entries]
    else:
        out.pop("noProxy", None)
    return out
