"""Installing aksproxy must not make other az commands import anything heavy.

Every az run here gets a sitecustomize module (through PYTHONPATH) that writes `sys.modules` to a file when the
process exits. The same command runs with stock az and with the extension (for our own commands' help, stock az runs
the nearest core command's help); what only the extension's run imported must hold nothing heavy: no jsonschema or
cryptography (nor their dependencies), none of aksproxy's rules, certificate or proxy-check modules. az itself
imports what it needs for any installed extension (pkginfo, to read the extension's metadata): not ours, not checked.
"""
from __future__ import annotations

import json

import pytest

# Packages (with their submodules). Our command adapters (azext_aksproxy.adapters) may load: az imports
# handlers to build help; the rules, certificates and proxy checks they call must not.
HEAVY = ("jsonschema", "jsonschema_specifications", "referencing", "rpds", "cryptography",
         "azext_aksproxy.config", "azext_aksproxy.cluster", "azext_aksproxy.check",
         "azext_aksproxy.adapters.managed_cluster_decorator")
HOOK = """
import atexit, os, sys

_out = os.environ.get("AKSPROXY_MODULES_OUT")
if _out:
    atexit.register(lambda: open(_out, "w").write("\\n".join(sorted(sys.modules))))
"""
RG, CLUSTER = "rg1", "lazy"
COMMANDS = {
    "aks create --help": ("aks", "create", "--help"),
    "aks update --help": ("aks", "update", "--help"),
    "aks --help": ("aks", "--help"),
    "aks show": ("aks", "show", "-g", RG, "-n", CLUSTER),
    "aks list": ("aks", "list", "-g", RG),
    "aks nodepool list": ("aks", "nodepool", "list", "-g", RG, "--cluster-name", CLUSTER),
    "version": ("version",),
    "aks http-proxy --help": ("aks", "http-proxy", "--help"),
    "aks http-proxy validate --help": ("aks", "http-proxy", "validate", "--help"),
    "aks http-proxy audit --help": ("aks", "http-proxy", "audit", "--help"),
}
# az imports a command's handler module to load its arguments, so the help of each of our commands loads its
# adapter: each adapter keeps the rules lazy (the "# Lazy imports:" comment at its top says so).
OWN_COMMANDS = ("show", "diff", "generate", "check", "upgrade-nodes", "pods", "rollout plan", "rollout apply",
                "rollout status")
COMMANDS.update({f"aks http-proxy {c} --help": ("aks", "http-proxy", *c.split(), "--help") for c in OWN_COMMANDS})
ADAPTER_OF = {f"aks http-proxy {c} --help": f"azext_aksproxy.adapters.{m}" for c, m in (
    ("show", "show"), ("diff", "show"), ("generate", "generate"), ("check", "check"),
    ("upgrade-nodes", "nodes_upgrade"), ("pods", "stale_pods"), ("rollout plan", "fleet_rollout_plan"),
    ("rollout apply", "fleet_rollout_apply"), ("rollout status", "fleet_rollout_status"))}
# Stock az has no `aks http-proxy`: our own commands are compared with the nearest core one.
STOCK_EQUIVALENT = {
    "aks http-proxy --help": ("aks", "--help"),
    "aks http-proxy validate --help": ("aks", "show", "--help"),
    "aks http-proxy audit --help": ("aks", "list", "--help"),
    **{f"aks http-proxy {c} --help": ("aks", "show", "--help") for c in OWN_COMMANDS},
}


@pytest.fixture
def modules_of(tmp_path):
    """modules_of(session, *args) -> the set of module names the az process had imported when it exited."""
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")

    def run(session, *args: str, rc: int = 0) -> set[str]:
        out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.txt"
        result = session.az(*args, env={"PYTHONPATH": str(hook_dir), "AKSPROXY_MODULES_OUT": str(out)})
        assert result.rc == rc, result
        return set(out.read_text(encoding="utf-8").split())
    return run


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in HEAVY))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_extension_adds_no_heavy_import(name, az_stock, az_ext, emu, modules_of):
    emu.seed_cluster(RG, CLUSTER)
    stock = modules_of(az_stock, *STOCK_EQUIVALENT.get(name, COMMANDS[name]))
    ours = modules_of(az_ext, *COMMANDS[name])
    if name != "version":  # az version lists extensions without loading them
        assert "azext_aksproxy" in ours, "the extension was not loaded: this test would prove nothing"
    if name in ADAPTER_OF:
        assert ADAPTER_OF[name] in ours, "the command's adapter was not loaded: this test would prove nothing"
    assert heavy(ours - stock) == []


def test_the_hook_sees_what_validation_imports_lazily(az_ext, modules_of, tmp_path):
    """The positive control: validating a config with a CA and a mistyped value imports cryptography (to read the
    CA) and jsonschema (to explain the type), after start-up."""
    config = tmp_path / "proxy.json"
    config.write_text(json.dumps({"httpProxy": "http://proxy.contoso.com:3128/", "trustedCa": _a_ca(),
                                  "enabled": "true"}))
    imported = heavy(modules_of(az_ext, "aks", "http-proxy", "validate", "--config", str(config), rc=1))
    assert "jsonschema" in imported and "cryptography" in imported
    assert "azext_aksproxy.config.file_rules" in imported


def _a_ca() -> str:
    import base64

    import trustme

    return base64.b64encode(trustme.CA().cert_pem.bytes()).decode("ascii")
