"""Fail closed: when a future az stops resolving aksproxy's hook, `az aks create|update` refuse and write nothing.

Each test breaks the hook inside the real az process, the way a future az could, through a sitecustomize module on
PYTHONPATH that rewrites core's acs module before az runs the command:
- moved-import: core's handler imports its decorator class at module level instead of inside the handler;
- factory: core's handler gets the class through a factory, which no look at the handler can see;
- context: core's decorator builds its context from a class it holds, not through the module's name.
The sitecustomize raises when core's source no longer has the shape it rewrites, so a stale simulation fails the
test instead of passing it.
"""
from __future__ import annotations

import pytest

from tests.documents import write_file

RG = "rg1"
PROXY = {"httpProxy": "http://proxy.corp.example:3128/", "noProxy": ["localhost", ".corp.example"]}
# Refused by aksproxy's rules (credentials, https:// httpProxy): what must not reach Azure unchecked.
BAD_PROXY = {"httpProxy": "https://user:secret@proxy.corp.example:3128/"}

SITECUSTOMIZE = '''
import inspect
import os

from azure.cli.command_modules.acs import custom, managed_cluster_decorator as mcd

_MODE, _VERB = os.environ["AKSPROXY_BREAK_HOOK"].split(":")
_NAME = {"create": "AKSManagedClusterCreateDecorator", "update": "AKSManagedClusterUpdateDecorator"}[_VERB]
_CLASS = getattr(mcd, _NAME)


def _rewrite_handler(replacement):
    line = "from azure.cli.command_modules.acs.managed_cluster_decorator import " + _NAME
    source = inspect.getsource(getattr(custom, "aks_" + _VERB))
    if line not in source:
        raise RuntimeError("simulation out of date: core's aks_" + _VERB + " has no line " + repr(line))
    exec(compile(source.replace(line, replacement), custom.__file__, "exec"), custom.__dict__)


if _MODE == "moved-import":
    setattr(custom, _NAME, _CLASS)  # `from ...managed_cluster_decorator import ...` at the top of custom.py
    _rewrite_handler("pass")
elif _MODE == "factory":
    custom._decorator_class = lambda: _CLASS
    _rewrite_handler(_NAME + " = _decorator_class()")
elif _MODE == "context":
    _context_class, _init_context = mcd.AKSManagedClusterContext, _CLASS.init_context

    def _init_context_held(self):
        swapped = mcd.AKSManagedClusterContext
        mcd.AKSManagedClusterContext = _context_class
        try:
            _init_context(self)
        finally:
            mcd.AKSManagedClusterContext = swapped

    _CLASS.init_context = _init_context_held
else:
    raise RuntimeError("unknown AKSPROXY_BREAK_HOOK " + _MODE)
'''


@pytest.fixture
def broken_hook(tmp_path):
    """broken_hook(mode, verb) -> env for az.az(): core's acs module rewritten as described above."""
    hook_dir = tmp_path / "break-hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return lambda mode, verb: {"PYTHONPATH": str(hook_dir), "AKSPROXY_BREAK_HOOK": f"{mode}:{verb}"}


def az_version(session) -> str:
    return session.az("version", "-o", "json", check=True).json["azure-cli"]


def assert_refused(result, verb, version):
    assert result.rc == 1, result
    assert f"aksproxy cannot check `az aks {verb}` on azure-cli {version}" in result.stderr, result
    assert "az extension remove -n aksproxy" in result.stderr and "upgrade aksproxy" in result.stderr, result
    assert "nothing was written to the cluster" in result.stderr, result
    assert "Traceback" not in result.stderr, result
    assert "secret" not in result.stderr + result.stdout


@pytest.mark.parametrize("mode", ["moved-import", "factory", "context"])
def test_update_refuses_with_nothing_written_when_the_hook_is_not_in_place(az_ext, emu, tmp_path, broken_hook,
                                                                           mode):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    before = emu.cluster_state(RG, "c1")["stored"]
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1",
                  "--http-proxy-config", write_file(tmp_path, "proxy.json", BAD_PROXY), env=broken_hook(mode, "update"))
    assert_refused(r, "update", az_version(az_ext))
    if mode == "moved-import":
        assert "holds AKSManagedClusterUpdateDecorator itself" in r.stderr, r
        assert [e for e in emu.journal() if e["kind"] == "arm"] == []  # refused before the first request
    elif mode == "factory":
        assert "without aksproxy's" in r.stderr and "update_http_proxy_config" in r.stderr, r
    else:
        assert "built its context as AKSManagedClusterContext" in r.stderr, r
    assert emu.writes() == []
    assert emu.cluster_state(RG, "c1")["stored"] == before


@pytest.mark.parametrize("mode", ["moved-import", "factory", "context"])
def test_create_refuses_with_nothing_written_when_the_hook_is_not_in_place(az_ext, emu, tmp_path, broken_hook,
                                                                           mode):
    r = az_ext.az("aks", "create", "-g", RG, "-n", "c1", "--ssh-key-value", az_ext.ssh_key,
                  "--http-proxy-config", write_file(tmp_path, "proxy.json", BAD_PROXY), env=broken_hook(mode, "create"))
    assert_refused(r, "create", az_version(az_ext))
    assert emu.writes() == []


def test_the_simulated_future_az_really_skips_the_hook_without_the_guard(az_stock, emu, tmp_path, broken_hook):
    """The factory mode leaves the command working in stock az: the refusal above is aksproxy's, not a crash."""
    r = az_stock.az("aks", "create", "-g", RG, "-n", "c1", "--ssh-key-value", az_stock.ssh_key,
                    "--http-proxy-config", write_file(tmp_path, "proxy.json", PROXY), "-o", "json",
                    env=broken_hook("factory", "create"))
    assert r.ok, r
    assert [w["method"] for w in emu.writes()] == ["PUT"]


@pytest.mark.parametrize("mode", ["moved-import", "factory", "context"])
def test_update_without_aksproxy_options_runs_core_as_is_when_the_hook_is_not_in_place(az_ext, emu, broken_hook,
                                                                                      mode):
    emu.seed_cluster(RG, "c1", http_proxy_config=PROXY)
    r = az_ext.az("aks", "update", "-g", RG, "-n", "c1", "--tags", "team=platform", "-o", "json",
                  env=broken_hook(mode, "update"))
    assert r.ok, r
    (put,) = emu.writes()
    assert put["body"]["tags"] == {"team": "platform"}
    assert put["body"]["properties"]["httpProxyConfig"]["httpProxy"] == PROXY["httpProxy"]
