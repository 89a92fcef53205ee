"""`az aks http-proxy pods`: the pods still on other proxy settings than the cluster's, read through AKS run command
(`kubectl get pods -A -o json` in the run command's pod, cut down and masked there by jq with
:data:`azext_aksproxy.check.stale_pods.JQ_FILTER`) and compared by :mod:`azext_aksproxy.check.stale_pods`."""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import json

from knack.log import get_logger

logger = get_logger(__name__)

LIST_PODS = "kubectl get pods -A -o json"
_FILTER_FILE = "aksproxy-pods.jq"
_NO_JQ = "aksproxy: the run command pod has no jq"
# Nothing leaves the cluster but what the comparison reads, credentials masked (az --debug prints the response).
_COMMAND = f"command -v jq >/dev/null || {{ echo '{_NO_JQ}'; exit 0; }}; {LIST_PODS} | jq -c -f {_FILTER_FILE}"
_WAIT_SECONDS = 300.0  # AKS run command alone takes 20 s or more to start a command


def http_proxy_pods(cmd, client, resource_group_name, name):
    from azure.cli.core.azclierror import AzureResponseError

    from azext_aksproxy.adapters.aks_command import AksCommandRefused, invoke
    from azext_aksproxy.adapters.azure_reads import model_with_vnets, raw_cluster
    from azext_aksproxy.check.stale_pods import JQ_FILTER, stale_pods
    from azext_aksproxy.config.arm import properties

    model = model_with_vnets(cmd.cli_ctx, raw_cluster(client, resource_group_name, name))
    props = properties(model.cluster)
    logger.warning("Listing the cluster's pods through AKS run command (%s)...", LIST_PODS)
    try:
        logs = invoke(cmd, bool((props.get("aadProfile") or {}).get("managed")), resource_group_name, name,
                      _COMMAND, {_FILTER_FILE: JQ_FILTER}, _WAIT_SECONDS, LIST_PODS)
    except AksCommandRefused as exc:
        raise AzureResponseError(f"AKS run command was refused: {exc}. The pods were not listed; nothing was "
                                 "written.") from None
    if _NO_JQ in logs:
        raise AzureResponseError(f"{_NO_JQ} (it masks the pods' proxy credentials before they leave the cluster); "
                                 "the pods were not listed and nothing was written. Run `kubectl get pods -A -o "
                                 "json` where the API server can be reached.")
    try:
        # The logs hold stdout then stderr (kubectl's warnings): the list is the first JSON object.
        items = json.JSONDecoder().raw_decode(logs, logs.index("{"))[0]["items"]
    except (ValueError, KeyError, TypeError):
        raise AzureResponseError(
            f"`{LIST_PODS}` did not return a readable pod list ({len(logs):,} bytes came back; AKS run command "
            "returns at most 512 KB, which a cluster with many pods exceeds). Nothing was written. Run the command "
            "with kubectl where the API server can be reached.") from None
    return stale_pods(items, model.stored, model.user_no_proxy()).to_dict()
