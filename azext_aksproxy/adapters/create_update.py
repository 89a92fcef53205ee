"""Command handlers: thin adapters between az and aksproxy's pure core.

``aks_create``/``aks_update`` take exactly core's parameters plus ours: their signatures are built from the
installed core handlers, so every core flag of that az version keeps working.
"""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import inspect
from functools import partial

from azure.cli.command_modules.acs import custom as core_custom
from knack.log import get_logger

logger = get_logger(__name__)


def _signature_with(core_handler, **extra_defaults) -> inspect.Signature:
    sig = inspect.signature(core_handler)
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d) for n, d in extra_defaults.items()]
    # Keyword-only parameters must come after every positional-or-keyword one.
    return sig.replace(parameters=[*sig.parameters.values(), *extra])


def _proxy_check(cmd, check_proxy, check_proxy_from=None, core_params=None):
    """The --check-proxy step handed to the decorators: run with the command's az config and progress output.
    On update (``core_params`` given) it runs from a node of the cluster unless --check-proxy-from local
    (_validators.validate_check_proxy_from has refused it without --check-proxy)."""
    if not check_proxy:
        return None

    from azext_aksproxy.adapters.check import FROM_LOCAL, run_proxy_check

    cluster = None
    if core_params is not None and check_proxy_from != FROM_LOCAL:
        cluster = (core_params["resource_group_name"], core_params["name"])
    return partial(run_proxy_check, cli_ctx=cmd.cli_ctx, cmd=cmd, cluster=cluster)


def _with_decorator(verb, proxy_check, **options):
    """``install(proof)`` for core_hook.guarded_core_call: aksproxy's decorator class in core for one call
    (``options``: the update decorator's own, see decorators.update_decorator)."""
    def install(proof):
        from azext_aksproxy.adapters import managed_cluster_decorator as decorators
        from azext_aksproxy.adapters.core_hook import DECORATOR_CLASS

        factory = decorators.create_decorator if verb == "create" else decorators.update_decorator
        return decorators.core_class_replaced(DECORATOR_CLASS[verb], factory(proxy_check, proof, **options))
    return install


def aks_create(cmd, client, check_proxy=False, **core_params):
    from azext_aksproxy.adapters.cluster_write import explained_cluster_write
    from azext_aksproxy.adapters.core_hook import guarded_core_call, hook_needed

    needed = hook_needed("create", core_params, check_proxy)
    with explained_cluster_write(cmd, "create", core_params) as write:
        mc = guarded_core_call("create", core_custom.aks_create, cmd, client, core_params,
                               _with_decorator("create", _proxy_check(cmd, check_proxy)), needed)
        return write.wait(mc) if write else mc


def aks_update(cmd, client, upgrade_node_image=False, check_proxy=False, check_proxy_from=None,
               latest_node_image=False, **core_params):
    from azext_aksproxy.adapters.cluster_write import explained_cluster_write
    from azext_aksproxy.adapters.core_hook import guarded_core_call, hook_needed

    upgrade_node_image = upgrade_node_image or latest_node_image
    needed = hook_needed("update", core_params, check_proxy, upgrade_node_image)
    no_wait = core_params.get("no_wait", False)
    reimage_fields: list = []  # filled before the PUT: the proxy fields whose change makes AKS reimage
    if upgrade_node_image:
        # Pools can only be upgraded once the cluster update is done: wait for it, apply --no-wait to the pools.
        core_params["no_wait"] = False
    with explained_cluster_write(cmd, "update", core_params) as write:
        proxy_check = _proxy_check(cmd, check_proxy, check_proxy_from, core_params)
        mc = guarded_core_call("update", core_custom.aks_update, cmd, client, core_params,
                               _with_decorator("update", proxy_check, latest_node_image=latest_node_image,
                                               reimage_fields=reimage_fields), needed)
        if write:
            mc = write.wait(mc)
    if upgrade_node_image and mc is not None:
        from azure.cli.core.commands import LongRunningOperation
        from azure.core.polling import LROPoller

        from azext_aksproxy.adapters.nodes_upgrade import upgrade_node_images
        from azext_aksproxy.nodes.plan import NodeRollout

        if isinstance(mc, LROPoller):
            # Core returns the PUT's poller for az to wait on after the handler; the pools would get 409s until
            # the update ends, so wait here (raising if it failed).
            mc = LongRunningOperation(cmd.cli_ctx)(mc)
        upgrade_node_images(cmd, core_params["resource_group_name"], core_params["name"],
                            NodeRollout.after_update(latest_node_image=latest_node_image,
                                                     proxy_changed=bool(reimage_fields), no_wait=no_wait))
    return mc


aks_create.__signature__ = _signature_with(core_custom.aks_create, check_proxy=False)
aks_update.__signature__ = _signature_with(core_custom.aks_update, upgrade_node_image=False, check_proxy=False,
                                          check_proxy_from=None, latest_node_image=False)
