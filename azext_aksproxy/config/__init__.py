"""aksproxy's config core: bytes in, canonical HTTP proxy config and findings out.

Pure library: no azure-cli import, and jsonschema / cryptography are imported only when a check needs them.

    result = check_file("proxy.json")
    for finding in result.findings: print(finding)
    if result.ok: send(result.config)
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from .certs import CertificateFacts, aware_now, describe_bundle, encode_pem_bundle
from .file_rules import check_config
from .findings import (
    CATALOGUE,
    CODES,
    ERROR,
    WARNING,
    CheckResult,
    Finding,
    ProxyConfigError,
    mask_secrets,
)
from .keys import CANONICAL_KEYS
from .load import parse_bytes, read_file, scan_document
from .typecheck import SCHEMA_PATH

__all__ = [
    "CANONICAL_KEYS",
    "CATALOGUE",
    "CODES",
    "ERROR",
    "SCHEMA_PATH",
    "WARNING",
    "CertificateFacts",
    "CheckResult",
    "Finding",
    "ProxyConfigError",
    "check_bytes",
    "check_document",
    "check_file",
    "describe_bundle",
    "encode_pem_bundle",
    "load_config",
    "mask_secrets",
]


def check_file(path: str | os.PathLike[str], *, now: datetime | None = None) -> CheckResult:
    """Check the config file at ``path``, as `az aks http-proxy validate` does.

    Args:
      path: the file given to ``--http-proxy-config``.
      now: the time certificates are judged at (aware); defaults to the current UTC time.

    Returns:
      CheckResult: every finding, in file order, and ``config`` (the canonical REST object) when no finding is an
      error. Never raises for bad input: a missing, unreadable or malformed file is a finding too.
    """
    source = os.fspath(path)
    data, findings = read_file(path)
    if data is None:
        return CheckResult(findings=findings, source=source)
    return check_bytes(data, source=source, now=now)


def check_bytes(data: bytes, *, source: str = "<config>", now: datetime | None = None) -> CheckResult:
    """Check a config given as the file's bytes: size, encoding and JSON syntax included.

    Args:
      data: the file's content. source: how findings and errors name it. now: as for :func:`check_file`.

    Returns:
      CheckResult, as :func:`check_file`.
    """
    loaded = parse_bytes(bytes(data))
    if not loaded.parsed:
        return CheckResult(findings=loaded.findings, source=source)
    findings, config = check_config(loaded.document, aware_now(now))
    return _result(loaded.findings + findings, config, source)


def check_document(doc: Any, *, source: str = "<config>", now: datetime | None = None) -> CheckResult:
    """Check an already-parsed JSON value (e.g. from ``json.load``, or a cluster's stored httpProxyConfig).

    Args:
      doc: any JSON value. source, now: as for :func:`check_bytes`.

    Returns:
      CheckResult, as :func:`check_file` (without the file and encoding rules).
    """
    scanned, fatal = scan_document(doc)
    if fatal:
        return CheckResult(findings=scanned, source=source)
    findings, config = check_config(doc, aware_now(now))
    return _result(scanned + findings, config, source)


def load_config(path: str | os.PathLike[str], *, now: datetime | None = None) -> dict[str, Any]:
    """The canonical config in the file at ``path``, for callers that want a value or an exception.

    Returns:
      dict: the canonical REST object (``httpProxy``, ``httpsProxy``, ``noProxy``, ``trustedCa``, ``enabled``).

    Raises:
      ProxyConfigError: when any finding is an error; its message lists them all, and ``.result`` holds them.
    """
    result = check_file(path, now=now)
    if not result.ok or result.config is None:
        raise ProxyConfigError(result)
    return result.config


def _result(findings: list[Finding], config: dict[str, Any] | None, source: str) -> CheckResult:
    has_error = any(f.is_error for f in findings)
    return CheckResult(findings=findings, config=None if has_error else config, source=source)
