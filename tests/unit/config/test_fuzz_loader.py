"""Property-based fuzzing of the loader's public promises, through the entry points az uses (a file on disk):

- ``load_config`` on arbitrary bytes and arbitrary JSON returns a config or raises ProxyConfigError, nothing else;
- input is capped: files over 1 MiB and nesting past MAX_DEPTH are refused in bounded time, never read whole or
  recursed into;
- an accepted config uses the canonical REST keys only, whatever case the file wrote them in, and is accepted
  again, unchanged and without notices, when serialised (with or without a BOM, CRLF, indentation).

test_fuzz.py covers check_bytes/check_document on generated values; this file adds the file path, key-case
variants, trustedCa values, the size and depth caps, and the serialisation round trip through load_config.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from azext_aksproxy.config import (
    CANONICAL_KEYS,
    ProxyConfigError,
    check_bytes,
    check_file,
    load_config,
)
from azext_aksproxy.config.load import MAX_DEPTH, MAX_FILE_BYTES

from ..certs import CertFactory, trusted_ca
from ..conftest import NOW

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECONDS = 1.0  # per call; far above what a capped input costs, far below what an uncapped one would
_TMP = tempfile.TemporaryDirectory(prefix="aksproxy-fuzz-")  # hypothesis re-runs the body: no per-test fixture


def through_a_file(data: bytes):
    """load_config on ``data`` written to a file: (config, None) or (None, the ProxyConfigError)."""
    path = Path(_TMP.name) / "proxy.json"
    path.write_bytes(data)
    start = time.process_time()
    try:
        return load_config(path, now=NOW), None
    except ProxyConfigError as error:  # the only exception allowed; anything else fails the test
        assert error.result.errors and error.result.config is None
        return None, error
    finally:
        assert time.process_time() - start < SECONDS


# --- arbitrary input: a config, or ProxyConfigError ------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=25)
# Bytes that look like JSON often enough to get past the parser: fragments of a real config, glued at random.
fragments = st.sampled_from([b"{", b"}", b"[", b"]", b'"httpProxy"', b'"noProxy"', b'"trustedCA"', b":", b",",
                             b'"http://p:3128/"', b"true", b"null", b"NaN", b"1e999", b"\xef\xbb\xbf", b"\xff\xfe",
                             b"\x00", b"\\u0000", b'"\\ud800"', b" ", b"\r\n", b"\t", b"-", b"0"])


@FUZZ
@given(st.binary(max_size=4000) | st.lists(fragments, max_size=60).map(b"".join))
def test_load_config_on_arbitrary_bytes_returns_a_config_or_raises_its_own_error(data):
    config, _ = through_a_file(data)
    if config is not None:
        assert set(config) <= set(CANONICAL_KEYS)


@FUZZ
@given(json_values)
def test_load_config_on_arbitrary_json_returns_a_config_or_raises_its_own_error(value):
    for encoded in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")):
        through_a_file(encoded)


# --- the caps ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [MAX_FILE_BYTES + 1, 64 * MAX_FILE_BYTES])
def test_a_file_over_the_cap_is_refused_without_being_read(tmp_path, size):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:  # sparse: 64 MiB costs no disk and would take seconds to parse
        handle.truncate(size)
    start = time.process_time()
    result = check_file(path, now=NOW)
    assert time.process_time() - start < SECONDS
    assert [f.code for f in result.findings] == ["file-too-large"]


@settings(max_examples=40, deadline=None)
@given(st.integers(MAX_DEPTH + 1, 150_000), st.sampled_from([("[", "]"), ('{"a":', "}")]), st.booleans())
def test_nesting_past_the_cap_is_refused_not_recursed_into(depth, brackets, closed):
    opening, closing = brackets  # 150,000 levels stay under the 1 MiB cap, so the depth rule is what answers
    data = (opening * depth + "1" + (closing * depth if closed else "")).encode()
    start = time.process_time()
    codes = [f.code for f in check_bytes(data, now=NOW).findings]
    assert time.process_time() - start < SECONDS
    # unclosed: the parser either meets the end of the file or gives up on the depth first
    assert codes == ["json-too-deep"] if closed else codes in (["json-syntax"], ["json-too-deep"])


# --- accepted configs: canonical keys, stable under serialisation -----------------------------------------------

def case_variants(key: str):
    return st.sampled_from([key, key.lower(), key.upper(), key[0].upper() + key[1:]])


_CERTS = CertFactory.reproducible(0xF022)
CA_VALUES = [trusted_ca(_CERTS.proxy_ca()), trusted_ca(_CERTS.issuing_ca(), _CERTS.proxy_ca("proxy.fabrikam.com"))]
urls = st.sampled_from(["http://proxy.contoso.com:3128/", "http://10.0.0.4:8080/", "https://proxy.contoso.com:3129/",
                        "http://[fd00::1]:3128/", "http://proxy.contoso.com/", "http://proxy:3128"])
entries = st.sampled_from(["localhost", "127.0.0.1", ".svc", "svc.cluster.local.", "10.0.0.0/8", "fd00::/8",
                           "::1", "LOCALHOST", ".Contoso.com", "contoso.com", "169.254.169.254", "db-1.internal"])


@st.composite
def accepted_looking_configs(draw):
    """Configs that are often accepted, written with any key case and value order."""
    doc = {}
    for key, values in (("httpProxy", urls), ("httpsProxy", urls), ("noProxy", st.lists(entries, max_size=10)),
                        ("trustedCa", st.sampled_from(CA_VALUES)), ("enabled", st.booleans())):
        if draw(st.booleans()):
            doc[draw(case_variants(key))] = draw(values)
    keys = list(doc)
    order = draw(st.permutations(keys))
    return {k: doc[k] for k in order}


layouts = st.sampled_from([
    lambda doc: json.dumps(doc).encode(),
    lambda doc: json.dumps(doc, indent=2).replace("\n", "\r\n").encode(),
    lambda doc: b"\xef\xbb\xbf" + json.dumps(doc, indent="\t").encode(),
    lambda doc: json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(),
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accepted_looking_configs(), layouts, layouts)
def test_an_accepted_config_has_canonical_keys_and_is_accepted_again_unchanged(doc, layout, relayout):
    config, error = through_a_file(layout(doc))
    if config is None:
        assert error is not None
        return
    assert set(config) <= set(CANONICAL_KEYS)
    assert {k.casefold() for k in config} == {k.casefold() for k in doc}  # nothing dropped, nothing invented
    again, error = through_a_file(relayout(config))
    assert error is None and again == config
    assert not [f for f in check_bytes(relayout(config), now=NOW).findings
                if f.code in ("key-case", "noproxy-duplicate")]


def test_the_generator_reaches_both_outcomes():
    """The property above would pass vacuously if every generated config were refused (or every one accepted):
    hypothesis must find configs of each kind among those the strategy draws (find raises NoSuchExample if not)."""
    def accepted(doc) -> bool:
        return through_a_file(json.dumps(doc).encode())[0] is not None

    search = settings(max_examples=300, deadline=None, database=None)
    assert accepted(find(accepted_looking_configs(), accepted, settings=search))
    assert not accepted(find(accepted_looking_configs(), lambda doc: not accepted(doc), settings=search))
