"""An ARM resource id, parsed once."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceId:
    subscription: str
    resource_group: str
    name: str

    @classmethod
    def parse(cls, text: str) -> ResourceId:
        parts = str(text or "").strip("/").split("/")
        segments = {parts[k].lower(): parts[k + 1] for k in range(0, len(parts) - 1, 2)}
        return cls(segments.get("subscriptions", ""), segments.get("resourcegroups", ""), parts[-1] if parts else "")
