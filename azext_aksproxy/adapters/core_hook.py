"""Fail closed when aksproxy's steps are not in core's ``az aks create|update`` for the installed az.

managed_cluster_decorator swaps aksproxy's decorator subclass into core's ``managed_cluster_decorator`` for one call, and its
context class inside ``init_context``. That works while core's handler looks the decorator class up there at call
time and its decorator builds the context in ``init_context``, as az 2.85 to today's az do. A future az that imports
the class at module level, or builds the context another way, would run its own steps instead: --http-proxy-config
would reach Azure unvalidated and --check-proxy be skipped, with nothing to show for it. So the hook is proven
twice for every call that needs it, and the command stops with nothing written when it is not:

- before core is called: the handler must not hold the decorator class itself (a module-level import or a
  closure), and the classes managed_cluster_decorator subclasses must exist;
- before core writes the cluster: the managed clusters client core gets refuses every long-running operation until
  aksproxy's decorator, context and proxy steps have recorded that they ran (``HookProof``).
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import inspect

DECORATOR_CLASS = {"create": "AKSManagedClusterCreateDecorator", "update": "AKSManagedClusterUpdateDecorator"}
CONTEXT_CLASS = "AKSManagedClusterContext"
# The core parameters that bring aksproxy's steps into a call; without them (and without our own flags) core's
# handler does exactly what stock az does, so it runs whether or not the hook is in place.
_PROXY_PARAMS = {"create": ("http_proxy_config",),
                 "update": ("http_proxy_config", "enable_http_proxy", "disable_http_proxy")}
# Steps of managed_cluster_decorator that must have run before core writes the cluster.
DECORATOR, CONTEXT, VALIDATED = "decorator", "context", "validated"
CONSTRUCT, UPDATE_PROFILE, FETCH, UPDATE_PROXY = (
    "construct_mc_profile_default", "update_mc_profile_default", "fetch_mc", "update_http_proxy_config")


def hook_needed(verb: str, core_params: dict, *aksproxy_flags) -> bool:
    """Whether this call depends on aksproxy's steps: a proxy parameter, or one of aksproxy's own flags."""
    return any(aksproxy_flags) or any(core_params.get(name) for name in _PROXY_PARAMS[verb])


class HookProof:
    """What aksproxy's decorator recorded while core's handler ran; checked before core's first cluster write."""

    def __init__(self, verb: str, core_params: dict) -> None:
        self.verb = verb
        self.ran: set[str] = set()
        # update: fetch_mc refuses Windows and availability-set pools right after the GET.
        self.required = {DECORATOR, CONTEXT, CONSTRUCT} if verb == "create" else {
            DECORATOR, CONTEXT, UPDATE_PROFILE, FETCH}
        if core_params.get("http_proxy_config"):
            self.required.add(VALIDATED)
            if verb == "update":
                self.required.add(UPDATE_PROXY)  # keeps a disabled proxy disabled, announces removals

    def record(self, step: str) -> None:
        self.ran.add(step)

    def require(self) -> None:
        """Raise the refusal unless every required step ran."""
        missing = sorted(self.required - self.ran)
        if missing:
            raise refusal(self.verb, f"core's handler reached its cluster write without aksproxy's "
                                     f"{', '.join(missing)} step(s)")


class GuardedClient:
    """Core's managed clusters client, whose long-running operations (the cluster PUT) wait for the proof."""

    def __init__(self, client, proof: HookProof) -> None:
        self._client, self._proof = client, proof

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not (name.startswith("begin_") and callable(attr)):
            return attr
        proof = self._proof

        def guarded(*args, **kwargs):
            proof.require()
            return attr(*args, **kwargs)
        return guarded


def core_problem(verb: str) -> str | None:
    """Why core's ``aks_<verb>`` would not use the class aksproxy swaps in; None when it will."""
    from azure.cli.command_modules.acs import custom as core_custom

    try:
        from azure.cli.command_modules.acs import managed_cluster_decorator as core
    except ImportError as exc:
        return f"core's managed_cluster_decorator module cannot be imported ({exc})"
    name = DECORATOR_CLASS[verb]
    for class_name in (name, CONTEXT_CLASS):
        if not inspect.isclass(getattr(core, class_name, None)):
            return f"core's managed_cluster_decorator has no class {class_name}"
    handler = getattr(core_custom, f"aks_{verb}", None)
    if not callable(handler):
        return f"core has no aks_{verb} handler"
    cls = getattr(core, name)
    try:
        referenced = inspect.getclosurevars(handler)
        names = {**referenced.globals, **referenced.nonlocals}
    except (TypeError, ValueError):  # not a plain Python function: judge by the module alone
        names = {}
    held = sorted({n for n, v in {**vars(core_custom), **names}.items() if v is cls})
    if held:
        return (f"core's aks_{verb} holds {name} itself (as {', '.join(held)}) instead of importing it from "
                "managed_cluster_decorator when it runs")
    return None


def refusal(verb: str, reason: str):
    """The error that stops the command: what is wrong, the az version, that nothing was written, the way out."""
    from azure.cli.core import __version__ as az_version
    from azure.cli.core.azclierror import CLIInternalError

    return CLIInternalError(
        f"aksproxy cannot check `az aks {verb}` on azure-cli {az_version}: {reason}. Without its checks "
        "--http-proxy-config would reach Azure unvalidated and --check-proxy would be skipped, so the command stops "
        f"here; nothing was written to the cluster. Remove the extension to use core's `az aks {verb}` as it is "
        f"(`az extension remove -n aksproxy`), or upgrade aksproxy to a release that supports azure-cli "
        f"{az_version} (`az extension add --upgrade --source aksproxy-<version>-py3-none-any.whl`).")


def guarded_core_call(verb: str, core_handler, cmd, client, core_params: dict, install, needed: bool):
    """Run ``core_handler`` with aksproxy's decorator installed by ``install(proof)`` (a context manager).

    When ``needed``, core must be seen to resolve the class now and must prove the steps ran before it writes;
    otherwise (``install(None)``) nothing is proven and nothing refused: core does what stock az does.
    """
    from azure.cli.core import __version__ as az_version
    from knack.log import get_logger

    logger = get_logger(__name__)
    problem = core_problem(verb)
    if problem and needed:
        raise refusal(verb, problem)
    if problem:
        logger.debug("aksproxy: %s on azure-cli %s; no aksproxy option given, core's handler runs as is.",
                     problem, az_version)
        return core_handler(cmd, client, **core_params)
    if not needed:
        with install(None):
            return core_handler(cmd, client, **core_params)
    proof = HookProof(verb, core_params)
    with install(proof):
        return core_handler(cmd, GuardedClient(client, proof), **core_params)
