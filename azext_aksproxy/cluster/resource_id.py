"""An Azure resource id, read one way everywhere:
``/subscriptions/SUB/resourceGroups/RG/providers/NAMESPACE/TYPE/NAME[/CHILD_TYPE/CHILD_NAME]``.

ARM compares segment names case-insensitively (``resourcegroups`` is ``resourceGroups``), so they are matched so
here; values are kept as written. A leading or trailing slash changes nothing. A malformed id never raises: a part
it does not hold reads as "" (callers say what that means to them), so one odd id cannot stop a fleet-wide command.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceId:
    segments: tuple[str, ...]  # the id split at "/", without the slashes at either end

    @classmethod
    def parse(cls, text: str | None) -> ResourceId:
        trimmed = str(text or "").strip("/")
        return cls(tuple(trimmed.split("/")) if trimmed else ())

    def _after(self, key: str) -> str:
        """The segment after the first segment named ``key`` (lower case), or ""."""
        for i, segment in enumerate(self.segments[:-1]):
            if segment.lower() == key:
                return self.segments[i + 1]
        return ""

    @property
    def subscription(self) -> str:
        return self._after("subscriptions")

    @property
    def resource_group(self) -> str:
        return self._after("resourcegroups")

    @property
    def name(self) -> str:
        """The last segment: the resource's (or, for a child resource, the child's) name."""
        return self.segments[-1] if self.segments else ""

    @property
    def key(self) -> str:
        """The id as compared (ARM ids are case-insensitive): lower case, one leading slash, none trailing."""
        return "/" + "/".join(self.segments).lower()

    @property
    def label(self) -> str:
        """``rg/name``, or "" when the id names no resource group."""
        return f"{self.resource_group}/{self.name}" if self.resource_group else ""
