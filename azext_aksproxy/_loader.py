"""The extension's command loader: wrapped `aks create|update` and the `aks http-proxy` group.

az reads it as ``azext_aksproxy.COMMAND_LOADER_CLS``; it lives here so that the pure packages below
``azext_aksproxy`` can be imported without azure-cli (``azext_aksproxy/__init__.py`` imports nothing).
"""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).
from azure.cli.core import AzCommandsLoader

from azext_aksproxy._help import helps  # noqa: F401  pylint: disable=unused-import


class AksProxyCommandsLoader(AzCommandsLoader):
    # az's command index files every command under its loader's module and, on later runs, loads only the index
    # entries that name an installed extension's top module: the loader must answer as azext_aksproxy itself.
    __module__ = "azext_aksproxy"

    def __init__(self, cli_ctx=None):
        from azure.cli.core.commands import CliCommandType
        from azure.cli.core.profiles import ResourceType

        custom = CliCommandType(operations_tmpl="azext_aksproxy.adapters.create_update#{}")
        super().__init__(cli_ctx=cli_ctx, custom_command_type=custom, resource_type=ResourceType.MGMT_CONTAINERSERVICE)

    def load_command_table(self, args):
        from azext_aksproxy._help import merge_core_help
        from azext_aksproxy.commands import load_command_table

        load_command_table(self, args)
        if args and ("-h" in args or "--help" in args):
            merge_core_help(args)
        return self.command_table

    def load_arguments(self, command):
        # Our create/update replace core's commands, so core's argument registrations (types, validators,
        # choices) must be applied from here, or e.g. `--tier bogus` would be accepted.
        from azure.cli.command_modules.acs._params import (
            load_arguments as load_core_arguments,
        )

        from azext_aksproxy._params import load_arguments

        load_core_arguments(self, command)
        load_arguments(self, command)

