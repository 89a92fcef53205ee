"""The layers, as the file list shows them: the pure packages never import azure-cli, knack or an adapter, and
import each other only downwards.

azext_aksproxy/ holds az wiring (loader, command table, arguments and their checks, help, tables, client
factories), adapters/ one module per command, and the pure packages below, which take data and return findings and
decisions. Between pure packages the order is fixed: config at the bottom; cluster and check above config; nodes and fleet above those; iac
above config and cluster. A module imports from its own package or from a package below it, never one above or
beside it, so no loop between packages can form.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import azext_aksproxy

PACKAGE = Path(azext_aksproxy.__file__).parent
# Each pure package and the pure packages it may import (its own aside).
BELOW = {
    "config": set(),
    "cluster": {"config"},
    "check": {"config"},
    "nodes": {"config", "cluster", "check"},
    "fleet": {"config", "cluster", "check"},
    "iac": {"config", "cluster"},
}
PURE_PACKAGES = tuple(BELOW)
WIRING = {"__init__.py", "_loader.py", "commands.py", "_params.py", "_validators.py", "_help.py", "_format.py",
          "_client_factory.py"}
VERSION_MODULE = "_version.py"  # the version, which setup.py reads as text: neither wiring nor a rule
PURE_MODULES = sorted(str(p.relative_to(PACKAGE)) for name in PURE_PACKAGES for p in (PACKAGE / name).rglob("*.py"))
NOT_OURS = ("azure", "knack", "msrest", "msrestazure")


def _imports(source: str, module: str) -> set[str]:
    """Absolute module names a file imports, relative imports resolved (module: its dotted name)."""
    names = set()
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            names.add(target)
            if target == "azext_aksproxy":  # from azext_aksproxy import cluster: the package imported is the name
                names |= {f"{target}.{alias.name}" for alias in node.names}
    return names


def layer_violations(source: str, module: str) -> set[str]:
    """What a pure module (dotted name, e.g. azext_aksproxy.cluster.model) imports that it must not."""
    own = module.split(".")[1]
    bad = set()
    for name in _imports(source, module):
        parts = name.split(".")
        upwards = parts[0] == "azext_aksproxy" and len(parts) > 1 and parts[1] not in {own, *BELOW[own]}
        if parts[0] in NOT_OURS or upwards:
            bad.add(name)
    return bad


def _dotted(module: str) -> str:
    return "azext_aksproxy." + module[:-3].replace("/", ".")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_imports_only_its_own_package_and_those_below(module):
    bad = layer_violations((PACKAGE / module).read_text(encoding="utf-8"), _dotted(module))
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize(("module", "source"), [
    ("azext_aksproxy.config.urls", "from ..cluster.model import ClusterModel"),
    ("azext_aksproxy.config.urls", "from azext_aksproxy import cluster"),
    ("azext_aksproxy.config.urls", "from .. import check"),
    ("azext_aksproxy.config.urls", "def f():\n    from azext_aksproxy.fleet import plan_file"),
    ("azext_aksproxy.cluster.model", "from ..check.probe import Proxy"),
    ("azext_aksproxy.check.probe", "from ..cluster import pools"),
    ("azext_aksproxy.nodes.plan", "from ..fleet.states import DONE"),
    ("azext_aksproxy.iac.checks", "from ..nodes.plan import NodeRollout"),
    ("azext_aksproxy.fleet.edits", "from azext_aksproxy.adapters.azure_reads import ArmReader"),
    ("azext_aksproxy.fleet.edits", "import knack.log"),
])
def test_an_import_upwards_or_sideways_is_caught(module, source):
    assert layer_violations(source, module), source


def test_the_declared_order_has_no_loop():
    def reaches(start, goal, seen=()):
        return any(p == goal or p not in seen and reaches(p, goal, (*seen, p)) for p in BELOW[start])
    assert not [p for p in BELOW if reaches(p, p)]


def test_no_two_pure_packages_share_a_module_name():
    owners: dict[str, set[str]] = {}
    for module in PURE_MODULES:
        package, _, name = module.partition("/")
        if name != "__init__.py":
            owners.setdefault(name, set()).add(package)
    assert not {n: p for n, p in owners.items() if len(p) > 1}


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


LAZY_IMPORTS = "# Lazy imports: "


def _imports_inside_functions(path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, (ast.Import, ast.ImportFrom)) for fn in ast.walk(tree)
               if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(fn))


@pytest.mark.parametrize("module", sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")))
def test_a_module_that_imports_inside_functions_says_why_once(module):
    """Imports sit at the top of a module unless start-up needs them lazy; then one comment says why."""
    path = PACKAGE / module
    said = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(LAZY_IMPORTS)]
    assert len(said) == (1 if _imports_inside_functions(path) else 0), (module, said)
