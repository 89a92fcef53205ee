"""The layers, as the file list shows them: the pure packages never import azure-cli, knack or an adapter.

azext_aksproxy/ holds az wiring (loader, command table, arguments, help, tables, client factories), adapters/ one
module per command family, and the pure packages below, which take data and return findings and decisions.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import azext_aksproxy

PACKAGE = Path(azext_aksproxy.__file__).parent
PURE_PACKAGES = ("proxy_config", "proxy_check", "rollout", "report", "fleet_rollout", "iac")
WIRING = {"__init__.py", "_loader.py", "commands.py", "_params.py", "_help.py", "_format.py", "_client_factory.py"}
VERSION_MODULE = "_version.py"  # the version, which setup.py reads as text: neither wiring nor a rule
PURE_MODULES = sorted(str(p.relative_to(PACKAGE)) for name in PURE_PACKAGES for p in (PACKAGE / name).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports stay inside its own package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            names.add("azext_aksproxy" + (f".{node.module}" if node.module else ""))
    return names


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_imports_no_azure_cli_knack_or_adapter(module):
    forbidden = set()
    for name in _imports(PACKAGE / module):
        root = name.split(".")[0]
        if root in ("azure", "knack", "msrest", "msrestazure") or root == "azext_aksproxy" and name.split(".")[1:2] not in ([p] for p in PURE_PACKAGES):
            forbidden.add(name)
    assert not forbidden, f"{module} imports {sorted(forbidden)}"


def test_every_module_is_wiring_an_adapter_or_pure():
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == WIRING | {VERSION_MODULE}, f"top-level modules other than az wiring: {sorted(top - WIRING)}"
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == {"adapters", *PURE_PACKAGES}


def test_the_pure_module_list_is_not_empty():
    assert len(PURE_MODULES) > 20 and all(any(m.startswith(p) for m in PURE_MODULES) for p in PURE_PACKAGES)


# A Python where azure, knack and msrest cannot be imported at all: the pure packages must import there, the
# package root included (az's loader is only read on az's first look at COMMAND_LOADER_CLS).
_WITHOUT_AZURE = """
import importlib, os, sys
sys.path.insert(0, os.getcwd())
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("azure", "knack", "msrest", "msrestazure"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Refuse())
for module in sys.argv[1:]:
    importlib.import_module(module)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("azure", "knack", "msrest"))
assert not leaked, leaked
print("imported", len(sys.argv) - 1)
"""


def test_the_pure_packages_import_in_a_python_without_azure_cli():
    import subprocess
    import sys

    modules = ["azext_aksproxy." + m[:-3].replace("/", ".").removesuffix(".__init__") for m in PURE_MODULES]
    proc = subprocess.run([sys.executable, "-I", "-c", _WITHOUT_AZURE, *modules], cwd=PACKAGE.parent,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["imported", str(len(modules))]
