"""AKS run command (``managedClusters/{name}/runCommand``, what `az aks command invoke` calls): run a command with
files in a pod of the cluster and return its logs. Used by the node probe's pod route and the pods listing."""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import base64
import io
import zipfile

_POLL_SECONDS = 5  # what az aks command invoke polls at when the service sends no Retry-After


class AksCommandRefused(Exception):
    """The service refused to start the command (the message is ARM's error, already described)."""


def invoke(cmd, aad_managed, resource_group_name, cluster_name, command, files, wait_seconds, what,
           subscription_id=None):
    """The logs of ``command`` run with ``files`` (name -> text; none: no context) on a cluster (in
    ``subscription_id``; None: az's current one), with the caller's token when the cluster has AKS-managed Entra ID
    (``aad_managed``); ``what`` names the run in errors."""
    from azure.cli.command_modules.acs._polling import RunCommandLocationPolling
    from azure.cli.core.azclierror import AzureResponseError
    from azure.cli.core.profiles import ResourceType
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    from azext_aksproxy._client_factory import cf_managed_clusters_in
    from azext_aksproxy.adapters.azure_reads import error_text

    request_model = cmd.get_models("RunCommandRequest", resource_type=ResourceType.MGMT_CONTAINERSERVICE,
                                   operation_group="managed_clusters")
    request = request_model(command=command, context=zip_files(files) if files else None)
    if aad_managed:
        # As az aks command invoke does: the command runs with the caller's identity (AKS AAD server app).
        from azure.cli.command_modules.acs.custom import _get_dataplane_aad_token

        request.cluster_token = _get_dataplane_aad_token(cmd.cli_ctx, "6dae42f8-4368-4678-94ff-3960e28e3630")
    try:
        poller = cf_managed_clusters_in(cmd.cli_ctx, subscription_id).begin_run_command(
            resource_group_name, cluster_name, request,
            polling=ARMPolling(_POLL_SECONDS, lro_options={"final-state-via": "location"},
                               lro_algorithms=[RunCommandLocationPolling()]))
    except HttpResponseError as exc:
        raise AksCommandRefused(error_text(exc)) from None
    poller.wait(wait_seconds)
    if not poller.done():
        raise AzureResponseError(
            f"AKS run command ({what}) did not finish within {wait_seconds:g} s; nothing was written. A run command "
            "cannot be canceled: wait for it to end before trying again.")
    result = poller.result()
    if (result.provisioning_state or "").lower() != "succeeded":
        raise AzureResponseError(f"AKS run command ({what}) ended {result.provisioning_state}: {result.reason or ''}")
    return result.logs or ""


def zip_files(files: dict) -> str:
    """A runCommand ``context``: base64 of a zip of the files (what az aks command invoke sends for --file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
