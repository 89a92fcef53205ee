"""aksproxy: validated HTTP proxy configuration for az aks create/update, and the az aks http-proxy commands.

The package root imports nothing: the command loader (``_loader.py``) is read on az's first look at
``COMMAND_LOADER_CLS`` (PEP 562), so the pure packages (config, cluster, check, nodes, fleet, iac) import in a Python
without azure-cli.
"""
# Lazy imports: az loads this module for every az aks command; heavy libraries load only in the handlers that need
# them (tests/e2e/test_lazy_imports.py).


def __getattr__(name: str):
    if name in ("COMMAND_LOADER_CLS", "AksProxyCommandsLoader"):
        from azext_aksproxy._loader import AksProxyCommandsLoader

        return AksProxyCommandsLoader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
