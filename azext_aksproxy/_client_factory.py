"""The clients aksproxy's adapters use, in one place: core's factories where core has one (so az's profile,
api-version and credentials apply), and the compute client for the node resource group's scale sets.

Each takes ``(cli_ctx, *_)``, the signature az passes to a command group's client_factory.
"""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).


def cf_managed_clusters(cli_ctx, *_):
    from azure.cli.command_modules.acs._client_factory import (
        cf_managed_clusters as core_factory,
    )

    return core_factory(cli_ctx)


def cf_agent_pools(cli_ctx, *_):
    from azure.cli.command_modules.acs._client_factory import (
        cf_agent_pools as core_factory,
    )

    return core_factory(cli_ctx)


def cf_maintenance_configurations(cli_ctx, *_):
    from azure.cli.command_modules.acs._client_factory import (
        cf_maintenance_configurations as core_factory,
    )

    return core_factory(cli_ctx)


def cf_container_service(cli_ctx, *_):
    """The container service client itself, for requests its operation groups do not offer (the audit's lists)."""
    from azure.cli.command_modules.acs._client_factory import (
        get_container_service_client,
    )

    return get_container_service_client(cli_ctx)


def cf_compute(cli_ctx, *_, subscription_id=None):
    """Microsoft.Compute: the scale sets and instances of a cluster's node resource group, their run command; in
    ``subscription_id`` when given (a cluster's own subscription), else the current one."""
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.cli.core.profiles import ResourceType

    return get_mgmt_service_client(cli_ctx, ResourceType.MGMT_COMPUTE, subscription_id=subscription_id)


def cf_managed_clusters_in(cli_ctx, subscription_id):
    """Core's managed clusters client for another subscription (a fleet rollout writes and checks across
    subscriptions); None: az's current one."""
    from azure.cli.command_modules.acs._client_factory import (
        get_container_service_client,
    )

    return get_container_service_client(cli_ctx, subscription_id=subscription_id).managed_clusters
