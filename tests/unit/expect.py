"""Assertions shared by the rule tests: how a finding must look to a user."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from azext_aksproxy.config import (
    CODES,
    CheckResult,
    Finding,
    check_bytes,
    check_document,
)

from .conftest import NOW

# The in-cluster notice concerns nearly every document the rule tests build (few list `.svc` and `.cluster.local`);
# test_in_cluster_names.py and the corpus check it, the other rule tests look at their own rules without it.
IN_CLUSTER = "noproxy-in-cluster"


def without_in_cluster(result: CheckResult) -> CheckResult:
    return dataclasses.replace(result, findings=[f for f in result.findings if f.code != IN_CLUSTER])


def check(doc: Any) -> CheckResult:
    """Check a document the way a file would be checked (serialised, then read back); without the in-cluster
    notice."""
    return without_in_cluster(check_all(doc))


def check_all(doc: Any) -> CheckResult:
    """Every finding for ``doc``, the in-cluster notice included."""
    return check_bytes(json.dumps(doc).encode("utf-8"), now=NOW)


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


def the_finding(result: CheckResult, code: str, path: str | None = None) -> Finding:
    """The one finding with ``code`` (at ``path``), checked for what every finding must carry."""
    matching = [f for f in result.findings if f.code == code and (path is None or f.path == path)]
    assert len(matching) == 1, f"expected one {code} at {path}, got: {[str(f) for f in result.findings]}"
    finding = matching[0]
    assert code in CODES, f"{code} is not in the documented catalogue"
    assert finding.severity == CODES[code][0]
    assert finding.message.strip() and finding.fix.strip(), "every finding says what is wrong and how to fix it"
    return finding


def assert_bad(result: CheckResult, code: str, path: str, field: str) -> Finding:
    """``result`` has an error ``code`` at ``path`` that names ``field``; the config is withheld."""
    finding = the_finding(result, code, path)
    assert finding.is_error
    assert field in finding.message + finding.fix, f"{field!r} not named in: {finding}"
    assert result.config is None
    return finding


def assert_warned(result: CheckResult, code: str, path: str, field: str) -> Finding:
    """``result`` has a warning ``code`` at ``path`` naming ``field``, and no error."""
    finding = the_finding(result, code, path)
    assert not finding.is_error
    assert field in finding.message + finding.fix, f"{field!r} not named in: {finding}"
    assert result.ok, [str(f) for f in result.errors]
    return finding


def assert_clean(result: CheckResult) -> None:
    assert result.findings == [], [str(f) for f in result.findings]
    assert result.config is not None


def document_check(doc: Any) -> CheckResult:
    return without_in_cluster(check_document(doc, now=NOW))
