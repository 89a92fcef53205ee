"""`az aks http-proxy generate`: write a config file that the same rules as validate and aks create/update accept."""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import json
import os
import sys

from knack.log import get_logger

from azext_aksproxy.adapters.findings_to_az import raise_for_errors

logger = get_logger(__name__)

# Findings name JSON paths; on this command the user wrote options, so the error says which is which.
_PATH_TO_OPTION = ("$.httpProxy is --http-proxy, $.httpsProxy is --https-proxy, $.noProxy[i] is the i-th "
                   "--no-proxy entry, $.trustedCa is the --trusted-ca-file contents")


def _read_pem_files(paths) -> list:
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    from azext_aksproxy.cluster.generated_config import not_pem_refusal

    blobs = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except OSError as exc:
            raise FileOperationError(f"--trusted-ca-file {path}: cannot be read: {exc.strerror or exc}.") from exc
        refusal = not_pem_refusal(path, blob)
        if refusal:
            raise InvalidArgumentValueError(refusal)
        blobs.append(blob)
    return blobs


def _warn(notes) -> None:
    for note in notes:
        logger.warning("%s", note)


def _write(path: str, text: str, overwrite: bool) -> None:
    from azure.cli.core.azclierror import FileOperationError

    if os.path.exists(path) and not overwrite:
        raise FileOperationError(f"--output-file {path} already exists; pass --overwrite-existing to replace it.")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)  # all or nothing: a failed write never leaves half a config behind
    except OSError as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise FileOperationError(f"--output-file {path}: cannot be written: {exc.strerror or exc}.") from exc


def _from_cluster(cmd, resource_group_name, name):
    """The cluster's config as the user's file: noProxy without the entries AKS adds (az aks http-proxy diff of the
    result against the same cluster shows no change), and the in-cluster advice naming the cluster's network."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.adapters.azure_reads import cluster_model
    from azext_aksproxy.adapters.findings_to_az import warn
    from azext_aksproxy.cluster.cluster_rules import with_cluster_advice
    from azext_aksproxy.cluster.generated_config import from_cluster
    from azext_aksproxy.config import check_document

    model = cluster_model(cmd.cli_ctx, resource_group_name, name)
    doc, notes = from_cluster(model)
    if doc is None:
        raise InvalidArgumentValueError(f"Cluster {name} has no HTTP proxy config; there is nothing to write. Use "
                                        "--http-proxy to write a new one.")
    result = check_document(doc, source=f"cluster {name}")
    raise_for_errors([f for f in result.findings if f.is_error], f"The HTTP proxy config of cluster {name}",
                     "nothing was written")
    warn(with_cluster_advice(result.findings, model, result.config))
    _warn(notes)
    return result.config


def http_proxy_generate(cmd, http_proxy=None, https_proxy=None, no_proxy=None, trusted_ca_files=None, enabled=None,
                        output_file=None, overwrite_existing=False, no_in_cluster_suffixes=False, from_cluster=False,
                        resource_group_name=None, name=None, output_format="json"):
    from azext_aksproxy.config import check_document

    # The arguments were checked by _validators.validate_generate_source.
    if from_cluster:
        config = _from_cluster(cmd, resource_group_name, name)
    else:
        from azext_aksproxy.cluster.generated_config import build_document

        doc, notes = build_document(http_proxy, https_proxy, no_proxy, _read_pem_files(trusted_ca_files or []),
                                    enabled, in_cluster_suffixes=not no_in_cluster_suffixes)
        _warn(notes)
        result = check_document(doc, source="generated config")
        raise_for_errors(result.findings, "Cannot generate the config", f"nothing was written ({_PATH_TO_OPTION})")
        config = result.config  # canonical: what validate and aks update would send (noProxy de-duplicated)
    return _output(config, output_format or "json", output_file, overwrite_existing)


_CHECK_HINT = {
    "json": "Check it against a cluster with: az aks http-proxy diff -g RG -n NAME --config {0}",
    "arm": "Merge its properties.httpProxyConfig into your template; check that with: az aks http-proxy validate "
           "--template YOUR_TEMPLATE",
    "bicep": "Paste it into your cluster resource's properties; check the result with: az aks http-proxy validate "
             "--template main.bicep",
    "terraform": "Paste it into your azurerm_kubernetes_cluster; check the plan with: terraform show -json PLAN > "
                 "plan.json && az aks http-proxy validate --terraform-plan plan.json",
}


def _output(config, output_format, output_file, overwrite_existing):
    """The config in --format: json and arm as az output (or the file), bicep and terraform as text."""
    from azext_aksproxy.iac import render

    if output_format == "arm":
        from azext_aksproxy.adapters.azure_reads import FALLBACK_CLUSTERS_API_VERSION

        value = render.arm_template(config, FALLBACK_CLUSTERS_API_VERSION)
    else:
        value = config
    if output_format in ("json", "arm"):
        text = json.dumps(value, indent=2) + "\n"
    elif output_format == "bicep":
        text = render.bicep_object(config)
    else:
        text, notes = render.terraform_block(config)
        _warn(notes)
    if output_file:
        _write(output_file, text, overwrite_existing)
        logger.warning("Wrote %s. %s", output_file, _CHECK_HINT[output_format].format(output_file))
        return None
    if output_format in ("json", "arm"):
        return value
    sys.stdout.write(text)  # not JSON: printed as it is, ready to paste
    return None
