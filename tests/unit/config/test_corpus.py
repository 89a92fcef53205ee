"""The corpus (tests/corpus): every file yields exactly the codes its index entry lists.

The end-to-end tests run the same index through the real az, so the index must be exact: these tests compare
whole multisets of codes, check that no file is unlisted, and that the committed files are what make_corpus.py
writes.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from azext_aksproxy.config import ProxyConfigError, check_file, load_config
from tests.corpus import make_corpus
from tests.corpus.cases import CORPUS, INDEX, case_path

ENTRY_KEYS = {"file", "expect_codes", "path", "secret", "generated", "description"}


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_each_corpus_file_yields_exactly_its_listed_codes(entry, tmp_path):
    result = check_file(case_path(entry, tmp_path))  # the real clock: corpus dates are far from any test run
    assert Counter(f.code for f in result.findings) == Counter(entry["expect_codes"]), [str(f) for f in result.findings]
    if entry["expect_codes"]:
        first = next(f for f in result.findings if f.code == entry["expect_codes"][0])
        assert first.path == entry["path"]
    if entry["file"].startswith("bad/"):
        assert result.errors and result.config is None
    else:
        assert result.ok and result.config is not None


@pytest.mark.parametrize("entry", [e for e in INDEX if e["secret"]], ids=[e["file"] for e in INDEX if e["secret"]])
def test_no_corpus_secret_is_ever_echoed(entry, tmp_path):
    path = case_path(entry, tmp_path)
    assert entry["secret"].encode() in path.read_bytes()
    with pytest.raises(ProxyConfigError) as raised:
        load_config(path)
    shown = str(raised.value) + json.dumps([f.to_dict() for f in raised.value.result.findings])
    assert entry["secret"] not in shown


def test_the_corpus_is_large_and_covers_every_error_code():
    from azext_aksproxy.config import CATALOGUE

    bad = [e for e in INDEX if e["file"].startswith("bad/")]
    assert len(bad) >= 60
    covered = {code for e in INDEX for code in e["expect_codes"]}
    # Only conditions a committed file cannot hold: the path itself, the clock, and the schema's catch-all; the
    # cluster rules need a cluster (test_cluster_rules.py).
    not_in_files = {"file-not-found", "file-not-regular", "file-unreadable", "ca-expiring-soon", "schema"}
    file_codes = {code for code, rule in CATALOGUE.items() if rule.scope == "file"}
    assert file_codes - covered == not_in_files


def test_index_entries_have_the_documented_shape():
    for entry in INDEX:
        assert set(entry) == ENTRY_KEYS, entry["file"]
        assert entry["file"].startswith(("good/", "bad/")) and entry["file"].endswith(".json")
        assert isinstance(entry["generated"], bool) and entry["path"].startswith("$")
        assert entry["secret"] is None or isinstance(entry["secret"], str)
    assert len({e["file"] for e in INDEX}) == len(INDEX)


def test_the_committed_corpus_is_what_make_corpus_writes():
    assert make_corpus.differences(make_corpus.build()) == []


def test_generated_cases_are_not_committed():
    for entry in INDEX:
        assert (CORPUS / entry["file"]).exists() != entry["generated"], entry["file"]
