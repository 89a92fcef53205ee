"""Every case of the bad-input corpus (tests/corpus/index.json) through the real
`az aks update -g rg1 -n c1 --http-proxy-config CASE --debug` against a seeded cluster: exit code 1, the field
named, zero writes in the emulator's journal, and the case's secret nowhere in stdout or stderr (where --debug
logs). The good cases go through the same command as the control: the same harness sees their one write.

Exit code: every refusal of a file, including unreadable encodings, empty and oversized files, is az's
InvalidArgumentValueError (exit 1): the file is read by the handler, after argument parsing, so az's usage code 2
(argparse) never applies to a file's content.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from azext_aksproxy.config import CODES, ERROR, check_file
from tests.corpus.cases import BAD, CORPUS, GOOD, case_path
from tests.reliability_report import trial_fixture

RG, NAME = "rg1", "c1"
trial = trial_fixture("input")
SEEDED_PROXY = {"httpProxy": "http://old-proxy.corp.example:3128/", "noProxy": ["localhost"]}

# Table rows of docs/reliability.md: the rule family of a case's error codes.
FAMILIES = (
    (("file-", "encoding", "empty-file", "json-", "duplicate-key"),
     "Reading the file: encodings and BOMs, empty, syntax, NaN, duplicate keys, huge file, deep nesting"),
    (("not-object", "wrapper-object", "unknown-key", "read-only-key", "key-case", "type", "schema"),
     "Shape: top level, httpProxyConfig wrapper, unknown and read-only keys, value types"),
    (("url-", "no-proxy-url"), "Proxy URLs: schemes, credentials, hosts (IPv6), ports, paths, control characters"),
    (("noproxy-",), "noProxy entries: wildcards, URLs, ports, brackets and CIDRs (IPv4/IPv6), control characters"),
    (("ca-",), "trustedCa: raw PEM, base64 variants, DER, keys, CSRs, expiry, count and size limits"),
)


def family(code: str) -> str:
    return next(title for prefixes, title in FAMILIES if code.startswith(prefixes))


def group_of(case: dict) -> str:
    errors = {family(c) for c in case["expect_codes"] if CODES[c][0] == ERROR}
    return errors.pop() if len(errors) == 1 else "Several problems in one file (every one reported)"


def update(az_ext, path: str):
    return az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config", path, "-o", "json", "--debug")


@pytest.mark.parametrize("case", BAD, ids=[c["file"] for c in BAD])
def test_each_bad_file_is_refused_naming_the_field_writing_nothing_and_echoing_no_secret(
        az_ext, emu, tmp_path, trial, case):
    t = trial(group_of(case), "az aks update -g rg1 -n c1 --http-proxy-config CASE --debug",
              "exit 1; `[code] path:` of every error in stderr; 0 writes in the journal; the file's secret in "
              "neither stdout nor stderr (--debug log included)", case=case["file"])
    emu.seed_cluster(RG, NAME, http_proxy_config=SEEDED_PROXY)
    path = str(case_path(case, tmp_path))
    r = update(az_ext, path)
    journal = emu.journal()
    t.observed(f"exit {r.rc}; {sum(e['write'] for e in journal)} writes")
    assert r.rc == 1, r
    assert "--debug" in r.args and "DEBUG: cli.knack.cli: Command arguments" in r.stderr  # the log is there
    assert "problem(s) must be fixed; nothing was sent to Azure." in r.stderr, r
    first, where = case["expect_codes"][0], case["path"]
    if CODES[first][0] == ERROR:
        assert f"[{first}] {where}: " in r.stderr, r
    else:
        # with --debug, az puts the logger's name after the level
        assert re.search(rf"^WARNING: (?:[\w.]+: )?{re.escape(where)}: ", r.stderr, re.MULTILINE), r
    for code in case["expect_codes"]:
        if CODES[code][0] == ERROR:
            assert f"[{code}] $" in r.stderr, (code, r)
    assert [e for e in journal if e["write"]] == []
    outcome = "exit 1, field named, 0 writes"
    if case["secret"]:
        assert case["secret"].encode() in Path(path).read_bytes()  # the check below can fail
        assert case["secret"] not in r.stdout and case["secret"] not in r.stderr
        assert all(case["secret"] not in json.dumps(e) for e in journal)
        outcome += ", secret never echoed"
    t.passed(outcome)


@pytest.mark.parametrize("case", GOOD, ids=[c["file"] for c in GOOD])
def test_each_good_file_is_sent_as_its_canonical_config_in_one_write(az_ext, emu, trial, case):
    t = trial("Control: good files of the corpus (warnings allowed)",
              "az aks update -g rg1 -n c1 --http-proxy-config CASE --debug",
              "exit 0; exactly one PUT, whose httpProxyConfig is the canonical config of the file", case=case["file"])
    emu.seed_cluster(RG, NAME, http_proxy_config=SEEDED_PROXY)
    path = str(CORPUS / case["file"])
    r = update(az_ext, path)
    puts = [e for e in emu.writes() if e["method"] == "PUT"]
    t.observed(f"exit {r.rc}; {len(puts)} PUTs")
    assert r.ok, r
    assert len(emu.writes()) == len(puts) == 1
    assert puts[0]["body"]["properties"]["httpProxyConfig"] == check_file(path).config
    t.passed("exit 0, one PUT carrying the canonical config")
