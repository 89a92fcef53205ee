"""Reading the file: path, size, encoding, JSON syntax, duplicate keys, NaN, nesting depth.

Every problem here is reported at `$` (the file) except duplicate keys and NaN, which have a place in the document.
"""
from __future__ import annotations

import codecs
import json
import os

import pytest

from azext_aksproxy import config as proxy_config
from azext_aksproxy.config import load as load_module
from azext_aksproxy.config.load import MAX_DEPTH, MAX_FILE_BYTES

from ..conftest import NOW
from ..expect import assert_bad, codes, without_in_cluster


# Reading is what these tests are about: the in-cluster notice (test_in_cluster_names.py) is left out.
def check_bytes(*args, **kwargs):
    return without_in_cluster(proxy_config.check_bytes(*args, **kwargs))


def check_document(*args, **kwargs):
    return without_in_cluster(proxy_config.check_document(*args, **kwargs))


def check_file(*args, **kwargs):
    return without_in_cluster(proxy_config.check_file(*args, **kwargs))

GOOD = {"httpProxy": "http://proxy.contoso.com:3128/", "noProxy": ["localhost"]}
GOOD_TEXT = json.dumps(GOOD)


def write(tmp_path, data: bytes, name: str = "proxy.json"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- the path -------------------------------------------------------------------------------------------------


def test_a_good_file_yields_its_canonical_config(tmp_path):
    result = check_file(write(tmp_path, GOOD_TEXT.encode()), now=NOW)
    assert result.findings == [] and result.config == GOOD
    assert result.source.endswith("proxy.json")


def test_a_missing_file_is_reported_not_raised(tmp_path):
    assert_bad(check_file(tmp_path / "nope.json"), "file-not-found", "$", "file")


def test_a_path_through_a_file_is_missing_too(tmp_path):
    parent = write(tmp_path, b"{}")
    assert_bad(check_file(parent / "child.json"), "file-not-found", "$", "file")


def test_a_directory_is_not_a_config_file(tmp_path):
    finding = assert_bad(check_file(tmp_path), "file-not-regular", "$", "file")
    assert "directory" in finding.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_blocking_on_it(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert_bad(check_file(fifo), "file-not-regular", "$", "file")


def test_an_unreadable_file_is_reported(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD_TEXT.encode())

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(load_module, "open", refuse, raising=False)  # chmod 000 does not stop root
    finding = assert_bad(check_file(path), "file-unreadable", "$", "file")
    assert "Permission denied" in finding.message


def test_a_path_with_a_nul_byte_is_reported_not_raised():
    assert check_file("bad\0path.json").errors[0].code in ("file-unreadable", "file-not-found")


# --- size -------------------------------------------------------------------------------------------------------


def test_a_file_over_1_mib_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write(tmp_path, b" " * (MAX_FILE_BYTES + 1))
    monkeypatch.setattr(load_module, "open", lambda *a, **k: pytest.fail("read a file known to be too large"),
                        raising=False)
    finding = assert_bad(check_file(path), "file-too-large", "$", "file")
    assert "1 MiB" in finding.message


def test_a_file_of_exactly_1_mib_is_read(tmp_path):
    padded = GOOD_TEXT.encode().ljust(MAX_FILE_BYTES, b" ")
    result = check_file(write(tmp_path, padded), now=NOW)
    assert result.ok and result.config == GOOD


def test_bytes_over_1_mib_are_refused_too():
    assert codes(check_bytes(b" " * (MAX_FILE_BYTES + 1))) == ["file-too-large"]


# --- encoding ---------------------------------------------------------------------------------------------------


def _with_bom(encoding: str) -> bytes:
    """GOOD_TEXT in ``encoding``; "-be-bom" names a big-endian encoding with its byte-order mark written first."""
    if encoding.endswith("-be-bom"):
        base = encoding.removesuffix("-bom")
        bom = codecs.BOM_UTF16_BE if base == "utf-16-be" else codecs.BOM_UTF32_BE
        return bom + GOOD_TEXT.encode(base)
    return GOOD_TEXT.encode(encoding)


@pytest.mark.parametrize(("encoding", "named"), [
    ("utf-16", "UTF-16 LE"),  # Python writes a BOM (little-endian here), as Windows PowerShell 5.1's `>` does
    ("utf-16-be-bom", "UTF-16 BE"),
])
def test_utf16_with_a_bom_is_read_as_az_reads_it_with_a_notice(encoding, named):
    result = check_bytes(_with_bom(encoding), now=NOW)
    assert result.ok and result.config == check_bytes(GOOD_TEXT.encode(), now=NOW).config
    [notice] = result.findings
    assert (notice.code, notice.severity, notice.path) == ("encoding-utf16", "warning", "$")
    assert named in notice.message and "UTF-8" in notice.fix


@pytest.mark.parametrize(("encoding", "named"), [("utf-32", "UTF-32 LE"), ("utf-32-be-bom", "UTF-32 BE")])
def test_utf32_with_a_bom_is_named_and_refused(encoding, named):
    finding = assert_bad(check_bytes(_with_bom(encoding)), "encoding", "$", "UTF-8")
    assert named in finding.message
    assert "UTF-8" in finding.fix


def test_a_utf16_bom_over_broken_utf16_is_refused():
    data = codecs.BOM_UTF16_LE + GOOD_TEXT.encode("utf-16-le") + b"\x00\xd8"  # a lone high surrogate at the end
    assert codes(check_bytes(data)) == ["encoding"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_without_a_bom_is_caught_by_its_nul_bytes(encoding):
    finding = assert_bad(check_bytes(GOOD_TEXT.encode(encoding)), "encoding", "$", "UTF-8")
    assert "NUL" in finding.message


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_and_windows_1252_are_refused_with_the_offset(encoding):
    text = '{"httpProxy": "http://proxy.contoso.com:3128/",\n "noProxy": ["b\u00fcro.contoso.com", "\u00e9t\u00e9"]}'
    finding = assert_bad(check_bytes(text.encode(encoding)), "encoding", "$", "UTF-8")
    assert "line 2" in finding.message
    assert "iconv" in finding.fix


def test_utf8_with_a_bom_is_accepted():
    result = check_bytes(codecs.BOM_UTF8 + GOOD_TEXT.encode(), now=NOW)
    assert result.findings == [] and result.config == GOOD


def test_non_ascii_utf8_is_decoded_and_judged_by_the_rules():
    result = check_bytes('{"httpProxy": "http://b\u00fcro.contoso.com:3128/"}'.encode(), now=NOW)
    assert codes(result) == ["url-host"]


# --- JSON syntax -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "fix_says"), [
    ('{"httpProxy": "http://p:3128/",}', 1, "trailing comma"),
    ('{\n  "noProxy": ["a", "b",]\n}', 2, "trailing comma"),
    ("{'httpProxy': 'http://p:3128/'}", 1, "double quotes"),
    ('{\n  // the proxy\n  "httpProxy": "http://p:3128/"\n}', 2, "comments"),
    ('{"httpProxy": "http://p:3128/"  # the proxy\n}', 1, "comments"),
    ('{"httpProxy": "http://p:3128/" "noProxy": []}', 1, "python -m json.tool"),
    ('{"httpProxy": "http://p:3128/"', 1, "python -m json.tool"),
    ('{"httpProxy": http://p:3128/}', 1, "python -m json.tool"),
])
def test_invalid_json_is_reported_with_line_and_column(text, line, fix_says):
    finding = assert_bad(check_bytes(text.encode()), "json-syntax", "$", "JSON")
    assert f"line {line}, column " in finding.message
    assert fix_says in finding.fix


def test_a_bom_does_not_shift_reported_columns():
    plain = check_bytes(b'{"a": 1,}').findings[0].message
    assert check_bytes(codecs.BOM_UTF8 + b'{"a": 1,}').findings[0].message == plain


@pytest.mark.parametrize("text", ["", "   \n\t \r\n"])
def test_an_empty_file_says_so(text):
    assert_bad(check_bytes(text.encode()), "empty-file", "$", "file")


def test_an_integer_beyond_pythons_conversion_limit_is_a_finding():
    result = check_bytes(b'{"enabled": ' + b"9" * 5000 + b"}")
    assert codes(result) == ["json-syntax"]


def test_raw_tabs_and_line_breaks_inside_strings_reach_the_value_rules():
    result = check_bytes(b'{"httpProxy": "http://proxy:3128/\t", "noProxy": ["a\nb"]}', now=NOW)
    assert codes(result) == ["url-whitespace", "noproxy-whitespace"]


# --- NaN and Infinity -------------------------------------------------------------------------------------------


def test_every_nan_and_infinity_is_reported_with_its_path():
    result = check_bytes(b'{"httpProxy": "http://p:3128/", "enabled": NaN, "noProxy": [Infinity, -Infinity]}')
    assert [(f.code, f.path, f.value) for f in result.findings] == [
        ("json-constant", "$.enabled", "NaN"),
        ("json-constant", "$.noProxy[0]", "Infinity"),
        ("json-constant", "$.noProxy[1]", "-Infinity"),
    ]
    assert_bad(result, "json-constant", "$.enabled", "JSON")


def test_a_bare_nan_document_is_reported_at_the_root():
    assert [(f.code, f.path) for f in check_bytes(b"NaN").findings] == [("json-constant", "$")]


# --- duplicate keys --------------------------------------------------------------------------------------------


def test_a_duplicate_key_is_an_error_naming_the_key():
    result = check_bytes(b'{"httpProxy": "http://a:3128/", "noProxy": [], "httpProxy": "http://b:3128/"}', now=NOW)
    finding = assert_bad(result, "duplicate-key", "$.httpProxy", "httpProxy")
    assert "last" in finding.message


def test_a_key_given_three_times_is_reported_once():
    result = check_bytes(b'{"httpProxy": "http://a:3128/", "httpProxy": "http://b:3128/", "httpProxy": "http://c:3128/"}')
    assert codes(result) == ["duplicate-key"]


def test_duplicate_keys_are_found_at_any_depth():
    text = b'{"httpProxyConfig": {"httpProxy": "http://a:3128/", "x": [{"k": 1, "k": 2}], "httpProxy": "http://b:3128/"}}'
    result = check_bytes(text, now=NOW)
    assert ("duplicate-key", "$.httpProxyConfig.httpProxy") in [(f.code, f.path) for f in result.findings]
    assert ("duplicate-key", "$.httpProxyConfig.x[0].k") in [(f.code, f.path) for f in result.findings]


def test_duplicate_keys_do_not_stop_the_other_rules():
    result = check_bytes(b'{"httpProxy": "http://a:3128/", "httpProxy": "https://b:3128/"}', now=NOW)
    assert codes(result) == ["duplicate-key", "url-scheme"]


def test_an_odd_duplicate_key_gets_a_quoted_path():
    result = check_bytes(b'{"httpProxy": "http://a:3128/", "my key": 1, "my key": 2}')
    assert ("duplicate-key", '$["my key"]') in [(f.code, f.path) for f in result.findings]


# --- depth ---------------------------------------------------------------------------------------------------


def test_nesting_100k_deep_is_a_finding_not_a_crash():
    assert codes(check_bytes(b"[" * 100_000 + b"]" * 100_000)) == ["json-too-deep"]


def test_unbalanced_deep_nesting_is_a_finding_not_a_crash():
    assert codes(check_bytes(b'{"a":' * 50_000)) == ["json-too-deep"]


def test_nesting_just_past_the_limit_is_refused():
    deep = b'{"noProxy": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}"
    assert codes(check_bytes(deep)) == ["json-too-deep"]


def test_nesting_at_the_limit_is_left_to_the_type_rules():
    deep = b'{"httpProxy": "http://p:3128/", "noProxy": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    assert codes(check_bytes(deep, now=NOW)) == ["type"]


def test_an_already_parsed_document_is_depth_checked_too():
    value: list = []
    for _ in range(5000):
        value = [value]
    assert codes(check_document({"noProxy": value})) == ["json-too-deep"]
