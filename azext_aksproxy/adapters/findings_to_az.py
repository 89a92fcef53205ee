"""Adapters from the pure core's findings to az: errors become azure-cli error classes, warnings az warnings."""
# Lazy imports: az imports this module to load its command's arguments (--help too); the pure packages, the SDK's
# models and azure-core load only when a handler runs (tests/e2e/test_lazy_imports.py).
import os
from collections.abc import Iterable

from knack.log import get_logger

logger = get_logger(__name__)


def format_findings(findings: Iterable, header: str) -> str:
    lines = [header]
    for f in findings:
        lines.append(f"  - [{f.code}] {f}")
    return "\n".join(lines)


def warn(findings: Iterable) -> None:
    for f in findings:
        if not f.is_error:
            logger.warning("%s: %s Fix: %s", f.path, f.message, f.fix)


def raise_for_errors(findings: list, subject: str, outcome: str = "nothing was sent to Azure") -> None:
    """Warn about notices, then raise one az error listing every error finding (if any)."""
    from azure.cli.core.azclierror import InvalidArgumentValueError

    warn(findings)
    errors = [f for f in findings if f.is_error]
    if errors:
        header = f"{subject}: {len(errors)} problem(s) must be fixed; {outcome}."
        raise InvalidArgumentValueError(format_findings(errors, header))


def exit_after_output(cli_ctx, message: str, code: int = 1) -> None:
    """Let az print the command's output as usual, then exit non-zero with ``message`` as the error.

    az has no way for a handler to return both a result and a failing exit code; CI pipelines need both (the
    findings on stdout, the verdict in the exit code), so this exits once the output is written.
    """
    from knack.events import EVENT_CLI_SUCCESSFUL_EXECUTE

    def _exit(_cli_ctx, **_kwargs):
        logger.error(message)
        raise SystemExit(code)

    cli_ctx.register_event(EVENT_CLI_SUCCESSFUL_EXECUTE, _exit)


def reference_config(path: str, outcome: str) -> dict | None:
    """--config of a fleet command: the file's canonical config, refused as `validate` and `aks update` refuse it
    (a reference the update would refuse is no reference); ``outcome`` says what was not done."""
    from azext_aksproxy.config import check_file

    result = check_file(path)
    raise_for_errors(result.findings, f"--config {path}", outcome)
    return result.config


def write_report(path: str, page: str) -> None:
    """--report: the self-contained HTML page written, its path on stderr."""
    from azure.cli.core.azclierror import FileOperationError

    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise FileOperationError(f"--report {path}: could not write the report: {exc}") from exc
    logger.warning("Report written to %s", os.path.abspath(path))
