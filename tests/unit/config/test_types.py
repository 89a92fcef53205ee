"""Value types come from schema.json (draft 2020-12) through jsonschema; each type error gets a concrete fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from azext_aksproxy.config import CANONICAL_KEYS, SCHEMA_PATH
from azext_aksproxy.config.typecheck import schema_validator

from ..expect import assert_bad, check, codes

URL = "http://proxy.contoso.com:3128/"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# --- the schema itself ------------------------------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema():
    import jsonschema

    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_has_a_stable_id_and_refuses_unknown_keys():
    assert SCHEMA["$id"] == "https://aksproxy.dev/schemas/http-proxy-config.schema.json"
    assert SCHEMA["type"] == "object" and SCHEMA["additionalProperties"] is False
    assert tuple(SCHEMA["properties"]) == CANONICAL_KEYS


@pytest.mark.parametrize("key", CANONICAL_KEYS)
def test_every_property_has_a_title_and_description_for_editors(key):
    prop = SCHEMA["properties"][key]
    assert prop["title"].strip() and len(prop["description"]) > 40
    if prop["type"] == "array":
        assert prop["items"]["title"].strip() and prop["items"]["description"].strip()


def test_noproxy_items_are_plain_strings_which_the_fast_path_relies_on():
    # typecheck.py hands only non-string noProxy items to jsonschema; that is only right while this holds.
    constraints = {k: v for k, v in SCHEMA["properties"]["noProxy"]["items"].items()
                   if k not in ("title", "description")}
    assert constraints == {"type": "string"}


def test_the_schema_ships_with_the_package():
    setup = (Path(__file__).parents[3] / "setup.py").read_text(encoding="utf-8")
    assert SCHEMA_PATH.name == "schema.json" and "config/schema.json" in setup


def test_the_compiled_validator_is_built_once_per_process():
    first = schema_validator()
    check({"httpProxy": URL, "enabled": "true"})
    assert schema_validator() is first


# --- type errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "fix_says"), [
    ("httpProxy", 3128, '"httpProxy": "http://'),
    ("httpProxy", ["http://a:3128/", "http://b:3128/"], "one URL"),
    ("httpProxy", {"url": URL}, "one URL"),
    ("httpsProxy", None, "Remove `httpsProxy`"),
    ("httpsProxy", True, "one URL"),
    ("trustedCa", ["LS0t", "LS0t"], "cat ca1.pem ca2.pem | base64 -w0"),
    ("trustedCa", None, "Remove `trustedCa`"),
    ("noProxy", None, "Remove `noProxy`"),
    ("noProxy", {"hosts": ["a"]}, "JSON array of strings"),
    ("enabled", "true", "Write `true` without quotes"),
    ("enabled", "False", "Write `false` without quotes"),
    ("enabled", 1, "Write `true` or `false`"),
    ("enabled", "yes", "Write `true` or `false`"),
    ("enabled", None, "remove `enabled`"),
])
def test_a_value_of_the_wrong_type_is_an_error_with_a_fix(key, value, fix_says):
    doc = {"httpProxy": URL, key: value}
    finding = assert_bad(check(doc), "type", f"$.{key}", key)
    assert fix_says in finding.fix
    assert codes(check(doc)) == ["type"]  # one problem, one finding


def test_a_comma_separated_noproxy_string_gets_the_list_form():
    finding = assert_bad(check({"httpProxy": URL, "noProxy": "localhost, 127.0.0.1,.svc"}), "type", "$.noProxy",
                         "noProxy")
    assert '["localhost", "127.0.0.1", ".svc"]' in finding.fix


def test_a_long_noproxy_string_shows_the_start_of_the_list():
    finding = assert_bad(check({"httpProxy": URL, "noProxy": "a,b,c,d,e,f"}), "type", "$.noProxy", "noProxy")
    assert '["a", "b", "c", "d", ...]' in finding.fix


@pytest.mark.parametrize(("entry", "fix_says"), [(10, '"10"'), (True, '"true"'), (None, "quoted string"),
                                                 ({"host": "a"}, "quoted string"), (["a"], "quoted string")])
def test_a_noproxy_entry_that_is_not_a_string_is_reported_at_its_index(entry, fix_says):
    result = check({"httpProxy": URL, "noProxy": ["localhost", entry, "127.0.0.1"]})
    finding = assert_bad(result, "type", "$.noProxy[1]", "noProxy")
    assert fix_says in finding.fix
    assert codes(result) == ["type"]


def test_non_string_entries_keep_their_index_among_thousands():
    entries: list = [f"host{i}.contoso.com" for i in range(3000)]
    entries[1234] = 7
    entries[2999] = None
    result = check({"httpProxy": URL, "noProxy": entries})
    assert [(f.code, f.path) for f in result.findings] == [("type", "$.noProxy[1234]"), ("type", "$.noProxy[2999]")]


def test_a_wrong_type_skips_that_fields_value_rules_only():
    result = check({"httpProxy": ["https://a"], "noProxy": ["*.corp.com"]})
    assert codes(result) == ["type", "noproxy-wildcard"]  # no url-scheme for the array, no "no proxy URL" either


def test_unknown_keys_are_reported_once_not_again_by_the_schema():
    assert codes(check({"httpProxy": URL, "extra": 1})) == ["unknown-key"]
