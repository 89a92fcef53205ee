"""`az aks http-proxy validate --template | --terraform-plan`: the rules on ARM/Bicep templates and Terraform plans.

Reads the file (a .bicep file compiled by the Bicep CLI, only when it is installed: aksproxy never downloads it),
hands the text to the pure package (azext_aksproxy/iac) and reports its rows, failing under --fail-on.
"""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import os

from knack.log import get_logger

from azext_aksproxy.adapters.findings_to_az import exit_after_output

logger = get_logger(__name__)


def _read(path: str, option: str) -> str:
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FileOperationError(f"{option} {path}: cannot be read: {exc.strerror or exc}.") from exc
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidArgumentValueError(f"{option} {path}: neither UTF-8 nor UTF-16 text.")


def _compiled_bicep(cli_ctx, path: str) -> str:
    """The ARM JSON of a .bicep file, from the Bicep CLI az already has; never installed from here."""
    from azure.cli.core.azclierror import FileOperationError, ValidationError

    how = (f"{path} is a Bicep file and no Bicep CLI is installed; aksproxy does not download one. Install it "
           f"(az bicep install), or compile the file yourself: az bicep build --file {path} --stdout > "
           f"{os.path.splitext(path)[0]}.json, then pass that file to --template.")
    try:
        from azure.cli.command_modules.resource._bicep import run_bicep_command
    except ImportError:
        raise ValidationError(how) from None
    try:
        return run_bicep_command(cli_ctx, ["build", path, "--stdout"], auto_install=False)
    except (FileOperationError, ValidationError):
        raise ValidationError(how) from None


def _report(cmd, result, source: str, fail_on: str):
    from azext_aksproxy.iac import fails

    found = ", ".join(f"{name} ({where})" for name, where in result.clusters)
    errors = sum(r["severity"] == "error" for r in result.rows)
    if result.clusters:
        logger.warning("%s: %d managed cluster(s) checked: %s. Findings: %d error(s), %d warning(s).", source,
                       len(result.clusters), found, errors, len(result.rows) - errors)
    else:
        logger.warning("%s: no Microsoft.ContainerService/managedClusters resource found; nothing to check.",
                       source)
    failing = fails(result.rows, fail_on)
    if failing:
        exit_after_output(cmd.cli_ctx, f"{source}: {len(failing)} finding(s) fail validation (--fail-on {fail_on}).")
    return result.rows


def validate_template(cmd, template: str, parameters, fail_on: str):
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.iac import IacError, check_template

    if template.lower().endswith(".bicep"):
        text = _compiled_bicep(cmd.cli_ctx, template)
    else:
        text = _read(template, "--template")
    items = [item for group in parameters or [] for item in (group if isinstance(group, list) else [group])]
    try:
        result = check_template(text, template, items)
    except IacError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    return _report(cmd, result, template, fail_on)


def validate_plan(cmd, plan: str, fail_on: str):
    from azure.cli.core.azclierror import InvalidArgumentValueError

    from azext_aksproxy.iac import IacError, check_plan

    try:
        result = check_plan(_read(plan, "--terraform-plan"), plan)
    except IacError as exc:
        raise InvalidArgumentValueError(str(exc)) from None
    return _report(cmd, result, plan, fail_on)
