"""The public surface of `azext_aksproxy.config`: entry points, errors, imports and the largest config."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import azext_aksproxy.config as core
from azext_aksproxy.config import (
    CheckResult,
    ProxyConfigError,
    check_bytes,
    check_document,
    check_file,
    encode_pem_bundle,
    load_config,
)

from ..certs import EXPIRED_ON, near_limit_bundle, pem, trusted_ca
from ..conftest import NOW

CORE_DIR = Path(core.__file__).parent
URL = "http://proxy.contoso.com:3128/"


def test_the_entry_points_agree(tmp_path):
    doc = {"httpProxy": URL, "noProxy": ["a", "A"]}
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    results = [check_file(path, now=NOW), check_file(str(path), now=NOW),
               check_bytes(path.read_bytes(), now=NOW), check_document(doc, now=NOW)]
    assert all(isinstance(r, CheckResult) for r in results)
    assert all(r.findings == results[0].findings and r.config == {"httpProxy": URL, "noProxy": ["a"]}
               for r in results)
    assert load_config(path, now=NOW) == {"httpProxy": URL, "noProxy": ["a"]}


def test_the_source_names_the_input(tmp_path):
    assert check_bytes(b"{}", source="proxy.json").source == "proxy.json"
    assert check_document({}).source == "<config>"
    assert check_file(tmp_path / "x.json").source == str(tmp_path / "x.json")


def test_load_config_raises_with_every_error(tmp_path):
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps({"httpProxy": "https://p:3128/", "noProxy": ["*"], "enabled": "yes"}),
                    encoding="utf-8")
    with pytest.raises(ProxyConfigError) as raised:
        load_config(path, now=NOW)
    assert isinstance(raised.value, ValueError)
    text = str(raised.value)
    assert text.startswith(f"{path}: 3 error(s)")
    assert all(code in [f.code for f in raised.value.result.errors] for code in
               ("url-scheme", "noproxy-wildcard", "type"))
    assert "$.noProxy[0]" in text and "Fix:" in text


def test_load_config_raises_for_a_missing_file(tmp_path):
    with pytest.raises(ProxyConfigError, match="does not exist"):
        load_config(tmp_path / "missing.json")


def test_load_config_returns_despite_warnings(tmp_path):
    path = tmp_path / "proxy.json"
    path.write_text('{"httpProxy": "http://proxy"}', encoding="utf-8")
    assert load_config(path) == {"httpProxy": "http://proxy"}


def test_now_defaults_to_the_current_time_and_naive_means_utc(certs):
    doc = {"httpProxy": URL, "trustedCa": trusted_ca(certs.expired())}
    assert not check_document(doc).ok  # expired in 2020, judged today
    naive_before_expiry = (EXPIRED_ON - timedelta(days=1)).replace(tzinfo=None)
    assert check_document(doc, now=naive_before_expiry).ok
    assert check_document(doc, now=datetime(2019, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))).ok is False


def test_the_pem_helpers_are_exported(certs):
    assert core.describe_bundle(encode_pem_bundle([pem(certs.proxy_ca())]), now=NOW)[0].is_ca


# --- hard rules for the core ----------------------------------------------------------------------------------


def test_importing_the_core_does_not_import_jsonschema_or_cryptography():
    code = ("import azext_aksproxy.config, sys; "
            "assert 'jsonschema' not in sys.modules and 'cryptography' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith(('jsonschema', 'cryptography')))")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=CORE_DIR.parents[1])


def test_a_check_without_trusted_ca_does_not_import_cryptography():
    # Nor jsonschema: values of the declared types need no schema validator (see test_typecheck_fast_path).
    code = ("import sys; from azext_aksproxy.config import check_bytes; "
            "r = check_bytes(b'{\"httpProxy\": \"http://p:3128/\"}'); assert r.ok; "
            "assert 'cryptography' not in sys.modules and 'jsonschema' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=CORE_DIR.parents[1])


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


MY_MODULES = sorted(p.stem for p in CORE_DIR.glob("*.py"))  # every core module, those added later included


@pytest.mark.parametrize("module", MY_MODULES)
def test_the_core_never_imports_azure_cli(module):
    imported = _imported_modules(CORE_DIR / f"{module}.py")
    assert not {m for m in imported if m.split(".")[0] in ("azure", "knack", "azext_aksproxy")}


# --- size (speed is measured by bench/validate.py, not asserted here) ---------------------------------------


@pytest.fixture(scope="module")
def maximal_config(certs) -> bytes:
    """20 certificates (~34 KB of trustedCa) and 2,000 noProxy entries: as large as AKS allows."""
    entries = [f"host{i}.corp.contoso.com" if i % 4 else f"10.{i // 256 % 256}.{i % 256}.7" for i in range(1990)]
    entries += [".svc", ".cluster.local", "10.0.0.0/8", "172.16.0.0/12", "fd00::/8", "::1", "localhost",
                "127.0.0.1", "168.63.129.16", "169.254.169.254"]
    doc = {"httpProxy": URL, "httpsProxy": "https://proxy.contoso.com:3129/", "noProxy": entries,
           "trustedCa": near_limit_bundle(certs), "enabled": True}
    assert len(entries) == 2000
    return json.dumps(doc).encode()


def test_a_config_as_large_as_aks_allows_passes_with_only_the_cidr_notice(maximal_config):
    result = check_bytes(maximal_config, now=NOW)
    assert result.ok and [f.code for f in result.findings] == ["noproxy-cidr"]
