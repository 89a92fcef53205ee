"""az adapters for the proxy check: ``az aks http-proxy check`` and ``--check-proxy`` on create/update.

Settings (az config section ``aksproxy``, or the matching AZURE_AKSPROXY_* environment variables):
- ``check_targets``: space-separated URLs checked when no --target is given, and by --check-proxy.
- ``check_timeout``: seconds per target for --check-proxy (default 10).
- ``public_ca_bundle``: PEM file of the roots nodes trust without trustedCa (default: Mozilla's, from certifi).
- ``node_pod_timeout``: seconds the probe pod of --from-cluster may take where the scale-set run command is refused
  (default 120 plus 4 x the timeout; adapters/check_from_cluster.py).
"""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
from knack.log import get_logger

from azext_aksproxy.adapters.findings_to_az import (
    exit_after_output,
    format_findings,
    raise_for_errors,
)

logger = get_logger(__name__)

_SECTION = "aksproxy"
DEFAULT_TIMEOUT = 10.0


# Where --check-proxy probes from on `aks update` (--check-proxy-from): a node of the cluster, or this machine.
FROM_CLUSTER, FROM_LOCAL = "cluster", "local"


def http_proxy_check(cmd, config, targets=None, timeout=DEFAULT_TIMEOUT, resource_group_name=None, name=None,
                     from_cluster=False, nodepool_name=None):
    from azext_aksproxy.config import check_file

    # The arguments were checked (and --timeout made a float) by _validators.validate_check_arguments.
    cluster = (resource_group_name, name, nodepool_name) if from_cluster else None
    result = check_file(config)
    raise_for_errors(result.findings, config)
    settings = _Settings(cmd.cli_ctx.config)
    if cluster is not None:
        # A node needs every required endpoint whatever else is asked for: --target adds to them.
        from azext_aksproxy.check import DEFAULT_TARGETS

        target_texts = [*(settings.targets or DEFAULT_TARGETS), *(targets or [])]
    else:
        target_texts = targets or settings.targets
    results = _run(result.config, target_texts, timeout, settings, cmd.cli_ctx, cmd=cmd, cluster=cluster)
    failed = [r for r in results if r.failed]
    if failed:
        exit_after_output(cmd.cli_ctx, f"{len(failed)} of {len(results)} target(s) failed through the proxy: "
                                       f"{', '.join(r.target.url for r in failed)}.")
    return [r.to_dict() for r in results]


def run_proxy_check(config, cli_ctx, cmd=None, cluster=None, subscription_id=None):
    """Check ``config`` (canonical, REST keys) before create/update writes anything; raise when a target fails.
    Targets and timeout come from az config (aksproxy.check_targets / check_timeout). With ``cluster``
    ((resource group, name[, node pool]) of an existing cluster, in ``subscription_id`` when given) the probes run
    on one of its nodes."""
    from azure.cli.core.azclierror import ValidationError

    from azext_aksproxy._validators import check_timeout_seconds

    settings = _Settings(cli_ctx.config)
    results = _run(config, settings.targets, check_timeout_seconds(settings.timeout), settings, cli_ctx, cmd=cmd, cluster=cluster,
                   subscription_id=subscription_id)
    failed = [r for r in results if r.failed]
    for r in results:
        logger.info("--check-proxy: %s", r.summary)
    if failed:
        findings = [f for r in failed for f in r.findings if f.is_error]
        if cluster is None:
            outcome, details = "nothing was sent to Azure", "az aks http-proxy check --config FILE"
        else:
            outcome = "nothing was written to the cluster"
            details = f"az aks http-proxy check --config FILE -g {cluster[0]} -n {cluster[1]} --from-cluster"
            if subscription_id:
                details += f" --subscription {subscription_id}"
        raise ValidationError(format_findings(
            findings, f"--check-proxy: {len(failed)} of {len(results)} target(s) failed through the proxy; "
                      f"{outcome}. Details: {details}"))
    where = results[0].where if results else "local"
    logger.warning("--check-proxy: %d target(s) checked from %s, none failed.", len(results),
                   "this machine" if where == "local" else where)
    return results


def _run(config, target_texts, timeout, settings, cli_ctx, cmd=None, cluster=None, subscription_id=None):
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.check import (
        DEFAULT_TARGETS,
        TargetError,
        check_targets,
        parse_targets,
    )
    from azext_aksproxy.check.chain import public_roots

    try:
        targets = parse_targets(target_texts or DEFAULT_TARGETS)
    except TargetError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    try:
        roots = public_roots(settings.public_ca_bundle)
    except OSError as exc:
        raise InvalidArgumentValueError(
            f"aksproxy.public_ca_bundle {settings.public_ca_bundle!r} cannot be read: {exc.strerror or exc}. "
            "Point it at a PEM bundle, or unset it to use the public roots.") from None
    if cluster is not None:
        from azext_aksproxy.adapters.check_from_cluster import check_from_cluster

        resource_group_name, name, *pool = cluster
        return check_from_cluster(cmd, resource_group_name, name, config, targets, timeout, roots,
                                  nodepool_name=pool[0] if pool else None, subscription_id=subscription_id)
    progress = cli_ctx.get_progress_controller()
    progress.begin(message=f"Checking {len(targets)} target(s) through the proxy")
    try:
        return check_targets(config, targets, timeout=timeout, public_roots=roots)
    finally:
        progress.end()


class _Settings:
    def __init__(self, az_config):
        self._config = az_config

    def _get(self, option):
        value = self._config.get(_SECTION, option, None)
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def targets(self):
        value = self._get("check_targets")
        return value.replace(",", " ").split() if value else None

    @property
    def timeout(self):
        return self._get("check_timeout") or DEFAULT_TIMEOUT

    @property
    def public_ca_bundle(self):
        return self._get("public_ca_bundle")

