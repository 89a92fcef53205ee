"""One set of rules: for every bad file of the corpus, `az aks http-proxy validate` and `az aks update
--http-proxy-config` (and `az aks create` for one file per leading code) report the same findings, through the real
az against the emulator, and the update/create path writes nothing.

validate prints findings as JSON; the update path prints each error as a ``  - [code] path: message ... Fix: ...``
line of its error and each warning as ``WARNING: path: message Fix: ...`` (see adapters/findings_to_az.py), so the comparison is
exact: the same lines, as many of them, and nothing else.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.corpus.cases import BAD, case_path

# create shares the file check with update but enters it from another decorator step: one file per leading code
# covers that entry without tripling the run time.
CREATE_TOO = {next(c["file"] for c in BAD if c["expect_codes"][0] == code) for code in {c["expect_codes"][0] for c in BAD}}
ERROR_LINE = re.compile(r"^  - \[([a-z0-9-]+)\] ", re.MULTILINE)
RG, NAME = "rg1", "c1"


def error_line(f) -> str:
    shown = f" (got {f['value']})" if f["value"] is not None else ""
    return f"  - [{f['code']}] {f['path']}: {f['message']}{shown} Fix: {f['fix']}"


def warning_line(f) -> str:
    return f"WARNING: {f['path']}: {f['message']} Fix: {f['fix']}"


def assert_same_findings(findings, result, case):
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] == "warning"]
    assert result.rc == 1, result
    assert f": {len(errors)} problem(s) must be fixed; nothing was sent to Azure." in result.stderr, result
    assert Counter(ERROR_LINE.findall(result.stderr)) == Counter(f["code"] for f in errors), result
    for f in errors:
        assert error_line(f) in result.stderr, (error_line(f), result)
    for f in warnings:
        assert warning_line(f) in result.stderr, (warning_line(f), result)
    if case["secret"]:
        assert case["secret"] not in result.stdout + result.stderr


@pytest.mark.parametrize("case", BAD, ids=[c["file"] for c in BAD])
def test_validate_and_the_update_path_give_the_same_findings(case, az_ext, emu, tmp_path):
    path = str(case_path(case, tmp_path))
    validate = az_ext.az("aks", "http-proxy", "validate", "--config", path)
    assert validate.rc == 1, validate
    findings = validate.json
    assert sorted(f["code"] for f in findings) == sorted(case["expect_codes"]), validate
    if case["secret"]:
        assert case["secret"] not in validate.stdout + validate.stderr

    emu.seed_cluster(RG, NAME)
    update = az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config", path)
    assert_same_findings(findings, update, case)
    if case["file"] in CREATE_TOO:
        create = az_ext.az("aks", "create", "-g", RG, "-n", "c2", "--ssh-key-value", az_ext.ssh_key,
                           "--http-proxy-config", path)
        assert_same_findings(findings, create, case)
    assert emu.writes() == []
