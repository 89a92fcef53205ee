"""A config whose values have the types schema.json declares is checked without jsonschema (its import costs more
than the whole check); the shortcut must never hide an error the schema would report."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from azext_aksproxy.config.typecheck import (
    SCHEMA_PATH,
    declared_types,
    plainly_well_typed,
    schema_validator,
)

KEYS = ("httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8)
near_valid = st.fixed_dictionaries({}, optional={
    "httpProxy": st.text(max_size=20) | json_values,
    "httpsProxy": st.text(max_size=20) | json_values,
    "noProxy": st.lists(st.text(max_size=8), max_size=5) | st.lists(json_values, max_size=3) | json_values,
    "trustedCa": st.text(max_size=20) | json_values,
    "enabled": st.booleans() | json_values,
})


def property_errors(values: dict) -> list:
    return [e for e in schema_validator().iter_errors(values) if e.absolute_path]


@given(near_valid)
def test_the_shortcut_is_taken_only_when_the_schema_finds_nothing(values):
    if plainly_well_typed(values):
        assert property_errors(values) == []


@given(st.fixed_dictionaries({}, optional={
    "httpProxy": st.text(), "httpsProxy": st.text(), "noProxy": st.lists(st.text()), "trustedCa": st.text(),
    "enabled": st.booleans()}))
def test_every_well_typed_config_takes_the_shortcut(values):
    assert plainly_well_typed(values)


def test_every_property_of_the_schema_is_covered():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert sorted(declared_types()) == sorted(schema["properties"]) == sorted(KEYS)


def test_a_valid_config_is_checked_without_importing_jsonschema(tmp_path):
    config = tmp_path / "proxy.json"
    config.write_text(json.dumps({"httpProxy": "http://proxy.contoso.com:3128/", "noProxy": ["localhost"],
                                  "enabled": True}))
    script = ("import sys; from azext_aksproxy.config import check_file; "
              "r = check_file(sys.argv[1]); print(r.ok, 'jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3]).stdout.split()
    assert out == ["True", "False"]
