"""`az aks http-proxy generate`: write a config file that the same rules as validate and aks create/update accept."""
import json
import os

from knack.log import get_logger

from azext_aksproxy._reporting import raise_for_errors

logger = get_logger(__name__)

# Findings name JSON paths; on this command the user wrote options, so the error says which is which.
_PATH_TO_OPTION = ("$.httpProxy is --http-proxy, $.httpsProxy is --https-proxy, $.noProxy[i] is the i-th "
                   "--no-proxy entry, $.trustedCa is the --trusted-ca-file contents")


def split_no_proxy(values) -> list:
    """``--no-proxy`` entries, space- or comma-separated (NO_PROXY env values paste as they are)."""
    return [part.strip() for value in values or [] for part in str(value).split(",") if part.strip()]


def _read_pem_files(paths) -> list:
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    blobs = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except OSError as exc:
            raise FileOperationError(f"--trusted-ca-file {path}: cannot be read: {exc.strerror or exc}.") from exc
        if b"-----BEGIN" not in blob:
            # Caught here, with the file's name, because once encoded it is only "certificate N" to the rules.
            raise InvalidArgumentValueError(
                f"--trusted-ca-file {path} is not a PEM file (no -----BEGIN line; binary DER?). Convert it: "
                f"openssl x509 -inform der -in {path} -out ca.pem")
        blobs.append(blob)
    return blobs


def build_document(http_proxy=None, https_proxy=None, no_proxy=None, ca_blobs=None, enabled=None) -> dict:
    """The config object, in the documented key order, with only the keys given."""
    from azext_aksproxy.proxy_config import encode_pem_bundle

    doc = {}
    if http_proxy is not None:
        doc["httpProxy"] = http_proxy
    if https_proxy is not None:
        doc["httpsProxy"] = https_proxy
    entries = split_no_proxy(no_proxy)
    if entries:
        doc["noProxy"] = entries
    if ca_blobs:
        doc["trustedCa"] = encode_pem_bundle(ca_blobs)
    if enabled is not None:
        doc["enabled"] = enabled
    return doc


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


def http_proxy_generate(cmd, http_proxy, https_proxy=None, no_proxy=None, trusted_ca_files=None, enabled=None,
                        output_file=None, overwrite_existing=False):
    from azext_aksproxy.proxy_config import check_document

    doc = build_document(http_proxy, https_proxy, no_proxy, _read_pem_files(trusted_ca_files or []), enabled)
    result = check_document(doc, source="generated config")
    raise_for_errors(result.findings, "Cannot generate the config", f"nothing was written ({_PATH_TO_OPTION})")
    config = result.config  # canonical: what validate and aks update would send (noProxy de-duplicated)
    if not output_file:
        return config
    _write(output_file, json.dumps(config, indent=2) + "\n", overwrite_existing)
    logger.warning("Wrote %s. Check it against a cluster with: az aks http-proxy diff -g RG -n NAME --config %s",
                   output_file, output_file)
    return None
