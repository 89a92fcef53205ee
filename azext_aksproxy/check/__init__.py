"""Proxy check: reach targets through a config's proxies and judge what the nodes would see.

Pure (no azure-cli import), so it can run anywhere the config can be read. Entry point: :func:`check_targets`.
"""
from ..config.bypass import NoProxy
from ..config.findings import INFO
from .probe import check_targets
from .results import CODES, TargetResult, TlsReport
from .targets import DEFAULT_TARGETS, Target, TargetError, parse_target, parse_targets

__all__ = [
    "CODES", "DEFAULT_TARGETS", "INFO", "NoProxy", "Target", "TargetError", "TargetResult", "TlsReport",
    "check_targets", "parse_target", "parse_targets",
]
