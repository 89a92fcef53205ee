"""Failures of an `az aks create|update` that changes the HTTP proxy, said the az way: which operation on which
cluster, what Azure answered (its code and message, verbatim), whether anything may have changed, and the command
to run next.

azure-core has already retried what is safe to retry (429 after Retry-After; 408/500/502/503/504 and broken
reads of GET/PUT with backoff) before anything reaches here. Only the proxy flows come through this module: every
other `az aks` command keeps core's error handling as it is.
"""
from __future__ import annotations

# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from contextlib import contextmanager

from knack.log import get_logger

from azext_aksproxy.adapters.azure_reads import error_text

logger = get_logger(__name__)

_NOUN = {"create": "creation", "update": "update"}
# The service's refusals of a reimage under nodeDisruptionProfile (AKS troubleshooting docs), and the way out.
_DISRUPTION_REFUSALS = {
    "OperationBlockedByNodeDisruptionPolicy":
        "Set the policy to Allow for this change (az aks update --node-disruption-policy Allow, aks-preview) and "
        "restore it afterwards.",
    "OperationOutsideNodeDisruptionWindow":
        "Wait for the aksManagedNodeOSUpgradeSchedule maintenance window (az aks maintenanceconfiguration show "
        "--name aksManagedNodeOSUpgradeSchedule), or set the policy to Allow for this change.",
}
_TERMINAL = ("failed", "canceled", "cancelled")


def proxy_write_requested(verb: str, params: dict) -> bool:
    """Whether this create/update changes the HTTP proxy (the only flows whose errors aksproxy rewords)."""
    from azext_aksproxy.adapters.core_hook import hook_needed

    return hook_needed(verb, params)


class ClusterWrite:
    """One create/update of cluster ``name``: turns what can go wrong while sending it or following it into az
    errors that name the operation and the next step."""

    def __init__(self, cmd, verb: str, resource_group_name: str, name: str, no_wait: bool = False) -> None:
        self.cmd, self.verb, self.rg, self.name, self.no_wait = cmd, verb, resource_group_name, name, no_wait
        self.what = f"{_NOUN[verb]} of cluster {name} in resource group {resource_group_name}"
        self.where = f"-g {resource_group_name} -n {name}"

    def wait(self, result):
        """Follow the operation here (not after the handler, where az would) so that its end can be explained."""
        from azure.core.polling import LROPoller

        if self.no_wait or not isinstance(result, LROPoller):
            return result
        from azure.cli.core.commands import LongRunningOperation
        from azure.core.exceptions import HttpResponseError

        try:
            return LongRunningOperation(self.cmd.cli_ctx)(result)
        except HttpResponseError as ex:
            status = _poller_status(result)
            if status.lower() in _TERMINAL:
                raise self.ended(status, ex) from ex
            raise self.lost_track(ex) from ex

    def ended(self, status: str, ex: Exception):
        """The operation ran and ended Failed or Canceled: the cluster may be half-way; say how to get it back."""
        from azure.cli.core.azclierror import AzureResponseError

        state = f"provisioningState {status}"
        if self.verb == "create":
            nxt = (f"The cluster resource exists with {state}. Fix the cause, then bring it up with "
                   f"`az aks update {self.where} --http-proxy-config FILE` (it resends the whole cluster), or "
                   f"delete it with `az aks delete {self.where} --yes` and create it again.")
        else:
            nxt = (f"The cluster now reports {state}; the new proxy settings may be partly applied. Fix the cause, "
                   f"then run this command again: an update sends the whole cluster, so repeating it is safe.")
        return AzureResponseError(
            f"The {self.what} ended {status}: {error_text(ex)} {nxt} Nodes must reach the proxy, and Azure "
            f"through it: `az aks http-proxy check --config FILE` run from the cluster's network tests that. "
            f"State: `az aks show {self.where} --query provisioningState -o tsv`.")

    def lost_track(self, ex: Exception):
        """Following the operation failed (not the operation itself): it may still be running in Azure."""
        from azure.cli.core.azclierror import AzureResponseError

        flag = "--created" if self.verb == "create" else "--updated"
        return AzureResponseError(
            f"Azure accepted the {self.what}, but following it failed: {error_text(ex)} The operation goes "
            f"on in Azure: wait for it with `az aks wait {self.where} {flag}`, then check the result with "
            f"`az aks show {self.where} --query provisioningState -o tsv`.")

    def refused(self, ex):
        """The request was answered with an error before any operation started: nothing was changed."""
        from azure.cli.core.azclierror import AzureInternalError, AzureResponseError

        status = getattr(ex, "status_code", None)
        text = error_text(ex)
        if status == 409:
            return AzureResponseError(
                f"Cluster {self.name} in resource group {self.rg} is busy with another operation, so AKS refused "
                f"the {_NOUN[self.verb]}: {text} Nothing was changed. Wait for that operation to end with "
                f"`az aks wait {self.where} --updated`, then run this command again.")
        code = getattr(getattr(ex, "error", None), "code", None)
        if code in _DISRUPTION_REFUSALS and self.verb == "update":
            return AzureResponseError(
                f"AKS refused the update of cluster {self.name}: {text} The proxy change makes AKS reimage every "
                f"node pool, and the cluster's node disruption policy does not allow that now. Nothing was changed. "
                f"{_DISRUPTION_REFUSALS[code]} Then run this command again.")
        if status is not None and status >= 500:
            return AzureInternalError(
                f"Azure kept failing the {self.what} after az's retries: {text} (HTTP {status}). Nothing was changed "
                f"by this command unless `az aks show {self.where} --query provisioningState -o tsv` says "
                f"Updating or Creating. Run this command again in a few minutes; repeating it is safe.")
        return None

    def connection_broke(self, ex: Exception):
        """The connection broke and az could not retry: whether Azure received the request is unknown."""
        from azure.cli.core.azclierror import AzureConnectionError

        flag = "--created" if self.verb == "create" else "--updated"
        again = ("run this command again if the cluster does not exist" if self.verb == "create"
                 else "run this command again: an update sends the whole cluster, so repeating it is safe")
        return AzureConnectionError(
            f"The connection to Azure broke during the {self.what}: {_connection_text(ex)}. Azure may have "
            f"received the request. Check with `az aks show {self.where} --query provisioningState -o tsv`: "
            f"while it says Updating or Creating, wait with `az aks wait {self.where} {flag}`; then {again}.")


@contextmanager
def explained_cluster_write(cmd, verb: str, params: dict):
    """Around core's create/update handler: yields a ClusterWrite whose ``wait`` follows the operation, and
    rewords errors of proxy writes; other writes get None and core's errors unchanged."""
    if not proxy_write_requested(verb, params):
        yield None
        return
    from azure.core.exceptions import (
        DecodeError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    write = ClusterWrite(cmd, verb, params.get("resource_group_name"), params.get("name"),
                         no_wait=bool(params.get("no_wait")))
    try:
        yield write
    except (DecodeError, ServiceRequestError, ServiceResponseError) as ex:
        # DecodeError covers a response cut half-way (IncompleteReadError), which azure-core does not retry for
        # the LRO's first response: the request itself has been sent by then.
        logger.debug("aksproxy: %s raised %r", write.what, ex)
        raise write.connection_broke(ex) from ex
    except HttpResponseError as ex:
        better = write.refused(ex)
        if better is None:
            raise
        raise better from ex


def _connection_text(ex: Exception) -> str:
    """What happened to the connection, in words (the low-level details are in the --debug log)."""
    from azure.core.exceptions import DecodeError, ServiceRequestError

    if isinstance(ex, DecodeError):
        return "the response was cut off half-way"
    if isinstance(ex, ServiceRequestError):
        return "a request could not be sent (connection refused, reset or timed out)"
    return "no complete response arrived (connection reset or timed out)"


def _poller_status(poller) -> str:
    try:
        return str(poller.status() or "")
    except Exception:  # noqa: BLE001  pylint: disable=broad-except
        return ""
