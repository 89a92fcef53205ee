"""aksproxy: validated HTTP proxy configuration for az aks create/update, and the az aks http-proxy commands.

Kept import-light: az loads this module for every ``az aks ...`` command, so heavy libraries are imported only by
the handlers that need them. It imports nothing itself: the command loader (``_loader.py``) is read on az's first
look at ``COMMAND_LOADER_CLS`` (PEP 562), so the pure packages (proxy_config, proxy_check, rollout) import in a
Python without azure-cli.
"""


def __getattr__(name: str):
    if name in ("COMMAND_LOADER_CLS", "AksProxyCommandsLoader"):
        from azext_aksproxy._loader import AksProxyCommandsLoader

        return AksProxyCommandsLoader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
