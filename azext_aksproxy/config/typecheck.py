"""Types of the values, decided by schema.json through jsonschema, turned into findings with a concrete fix.

jsonschema is imported on first use and its compiled validator kept for the process. Its import costs more than
the rest of a check (~60 ms: attrs, referencing, rpds), so a config whose values all have the types schema.json
declares, and nothing else to assert, never needs it: that is decided from schema.json itself.
"""
from __future__ import annotations

# Lazy imports: jsonschema loads only to explain a value of the wrong type: a well-typed config is checked without it.
import functools
import json
from pathlib import Path
from typing import Any

from .findings import Finding, child_path, error_at

SCHEMA_PATH = Path(__file__).with_name("schema.json")
_EXAMPLE_URL = '"http://proxy.contoso.com:3128/"'
_JSON_TYPES = ((bool, "boolean"), (str, "string"), (int, "number"), (float, "number"), (list, "array"),
               (dict, "object"), (type(None), "null"))


@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    """schema.json, read once per process (the fast path and the validator both need it)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.lru_cache(maxsize=1)
def schema_validator() -> Any:
    """The compiled validator for schema.json (built once per process)."""
    import jsonschema

    schema = _schema()
    return jsonschema.validators.validator_for(schema)(schema)


# Keywords that annotate and never fail validation (JSON Schema 2020-12; content* are not asserted by jsonschema).
_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly",
                          "$comment", "contentEncoding", "contentMediaType"})


@functools.lru_cache(maxsize=1)
def declared_types() -> dict[str, tuple[str, str | None]]:
    """{REST key: (JSON type, JSON type of the array items or None)} for every property of schema.json that asserts
    nothing but its type; a property with any other assertion is left out, so it always goes through jsonschema."""
    declared: dict[str, tuple[str, str | None]] = {}
    for key, prop in _schema().get("properties", {}).items():
        items = prop.get("items", {})
        if (isinstance(prop.get("type"), str) and not set(prop) - _ANNOTATIONS - {"type", "items"}
                and isinstance(items, dict) and not set(items) - _ANNOTATIONS - {"type"}
                and isinstance(items.get("type", ""), str)):
            declared[key] = (prop["type"], items.get("type"))
    return declared


def plainly_well_typed(values: dict[str, Any]) -> bool:
    """Whether schema.json could find nothing wrong with ``values`` (True only when that is certain)."""
    declared = declared_types()
    for key, value in values.items():
        kind = declared.get(key)
        if kind is None or json_type(value) != kind[0]:
            return False
        if kind[0] == "array" and kind[1] is not None and any(json_type(item) != kind[1] for item in value):
            return False
    return True


def json_type(value: Any) -> str:
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def type_findings(values: dict[str, Any], paths: dict[str, str]) -> tuple[list[tuple[str, Finding]], set[str]]:
    """(REST key, finding) for each value of the wrong type, and the REST keys whose whole value is wrong.

    ``values`` holds REST keys only (the key rules already mapped or reported the others), so the schema's
    additionalProperties never fires here; it is filtered anyway so an unknown key is never reported twice.
    """
    # jsonschema costs ~10 µs per array item; noProxy lists run to thousands of strings. Strings are what the
    # schema wants for items (a unit test pins that), so only the other items are handed to the validator.
    view = dict(values)
    item_index: list[int] = []
    entries = values.get("noProxy")
    if isinstance(entries, list):
        item_index = [i for i, entry in enumerate(entries) if not isinstance(entry, str)]
        view["noProxy"] = [entries[i] for i in item_index]
    if plainly_well_typed(view):
        return [], set()
    found: list[tuple[str, Finding]] = []
    wrong: set[str] = set()
    for error in schema_validator().iter_errors(view):
        if error.validator == "additionalProperties" or not error.absolute_path:
            continue
        key, *rest = list(error.absolute_path)
        path = paths[key]
        if rest and key == "noProxy":
            path = child_path(path, item_index[rest[0]])
        else:
            wrong.add(key)
        if error.validator == "type":
            found.append((key, _type_finding(key, bool(rest), error.instance, error.validator_value, path)))
        else:
            found.append((key, error_at(path, "schema", f"`{key}`: {error.message}",
                                        f"See the `{key}` property in schema.json.", error.instance)))
    return found, wrong


def _type_finding(key: str, is_item: bool, value: Any, expected: Any, path: str) -> Finding:
    got = json_type(value)
    if is_item:
        return error_at(path, "type", f"noProxy entries must be strings, not {_a(got)}.",
                        f"Write the entry as a quoted string, e.g. {json.dumps(_as_text(value))}.", value)
    wanted = {"string": "a string", "array": "an array of strings", "boolean": "true or false"}.get(expected, expected)
    message = f"`{key}` must be {wanted}, not {_a(got)}."
    return error_at(path, "type", message, _type_fix(key, value), value)


def _type_fix(key: str, value: Any) -> str:
    if value is None:
        if key == "enabled":
            return "Write `true` or `false`, or remove `enabled` (it defaults to true)."
        return f"Remove `{key}` instead of setting it to null."
    if key == "noProxy":
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            listed = json.dumps(parts[:4])
            if len(parts) > 4:
                listed = listed[:-1] + ", ...]"
            return f"Write noProxy as a JSON array of strings, one entry per host: {listed}."
        return 'Write noProxy as a JSON array of strings, e.g. ["localhost", ".corp.contoso.com"].'
    if key == "enabled":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return f"Write `{value.strip().lower()}` without quotes."
        return "Write `true` or `false` (no quotes)."
    if key == "trustedCa":
        return ("Give one base64 string; for several PEM files, concatenate them and encode once: "
                "`cat ca1.pem ca2.pem | base64 -w0`.")
    return f'Write one URL as a JSON string: "{key}": {_EXAMPLE_URL}.'


def _a(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def a_json_type(value: Any) -> str:
    """"a string", "an array", ... for messages."""
    return _a(json_type(value))


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return "host.example.com"
