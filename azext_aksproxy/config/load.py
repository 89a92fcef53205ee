"""From a path or bytes to a JSON document: file checks, size cap, encoding, syntax, duplicate keys, depth.

Nothing here knows what a proxy config is; it only makes sure the rules get a well-formed JSON value.
"""
from __future__ import annotations

import codecs
import json
import os
import stat
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, child_path, error_at, warning_at

MAX_FILE_BYTES = 1024 * 1024  # a proxy config is a few KB; the cap protects against pointing at the wrong file
# A proxy config nests two levels; anything deeper is a mistake. Stopping far below the interpreter's recursion
# limit keeps every later step (schema, messages) safe from RecursionError.
MAX_DEPTH = 64

_SAVE_AS_UTF8 = (
    "Save the file as UTF-8: `iconv -f UTF-16 -t UTF-8 in.json > out.json`, or in PowerShell "
    "`Get-Content in.json | Set-Content -Encoding utf8 out.json` (Windows PowerShell's `>` writes UTF-16)."
)
# Byte-order marks az cannot read (its get_file_json tries UTF-8 and UTF-16 only): UTF-32 LE's mark starts with
# UTF-16 LE's, so these are checked first.
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "UTF-32 BE"),
)
# UTF-16 with a byte-order mark, which az reads (read_file_content in azure/cli/core/util.py) and Windows
# PowerShell 5.1's `>` and Out-File write: accepted as az accepts it, with a notice for the tools that do not.
_UTF16_BOMS = (
    (codecs.BOM_UTF16_LE, "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "UTF-16 BE"),
)


@dataclass
class Loaded:
    """A parsed document, or the findings that prevented parsing (``parsed`` False)."""

    parsed: bool
    document: Any = None
    findings: list[Finding] = field(default_factory=list)


class _Object(dict):  # type: ignore[type-arg]
    """A JSON object that remembers keys given more than once (json keeps only the last silently)."""

    repeated: list[str]


class _NonFinite:
    """Stands in for NaN/Infinity so that all of them can be reported with their paths."""

    def __init__(self, name: str) -> None:
        self.name = name


def read_file(path: str | os.PathLike[str]) -> tuple[bytes | None, list[Finding]]:
    """The file's bytes, or None and a finding saying why they cannot be read. Never raises for a bad path."""
    shown = os.fspath(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None, [error_at("$", "file-not-found", f"The config file `{shown}` does not exist.",
                               "Check the path; relative paths are resolved from the current directory.")]
    except (OSError, ValueError) as exc:
        return None, [_unreadable(shown, exc)]
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, pipe or socket)"
        return None, [error_at("$", "file-not-regular", f"The config file path `{shown}` is {kind}.",
                               "Pass the path of the JSON file itself.")]
    if info.st_size > MAX_FILE_BYTES:
        return None, [_too_large(info.st_size)]
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat
    except IsADirectoryError:
        return None, [error_at("$", "file-not-regular", f"The config file path `{shown}` is a directory.",
                               "Pass the path of the JSON file itself.")]
    except (OSError, ValueError) as exc:
        return None, [_unreadable(shown, exc)]
    if len(data) > MAX_FILE_BYTES:
        return None, [_too_large(len(data))]
    return data, []


def _unreadable(shown: str, exc: BaseException) -> Finding:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return error_at("$", "file-unreadable", f"The config file `{shown}` cannot be read: {reason}.",
                    "Check the file's permissions (it must be readable by the user running az).")


def _too_large(size: int) -> Finding:
    return error_at("$", "file-too-large",
                    f"The config file is {size:,} bytes; a proxy config is at most a few dozen KB "
                    f"and files over {MAX_FILE_BYTES:,} bytes (1 MiB) are refused.",
                    "Check that the path points at the proxy config JSON file.")


def parse_bytes(data: bytes) -> Loaded:
    """Decode and parse ``data``; every problem found on the way becomes a finding."""
    if len(data) > MAX_FILE_BYTES:
        return Loaded(False, findings=[_too_large(len(data))])
    decoded = _decode(data)
    if isinstance(decoded, Finding):
        return Loaded(False, findings=[decoded])
    text, notices = decoded
    if text.strip() == "":
        return Loaded(False, findings=[error_at(
            "$", "empty-file", "The config file is empty.",
            'Write the config as a JSON object, e.g. {"httpProxy": "http://proxy.contoso.com:3128/"}.')])
    try:
        # strict=False lets raw tabs and line breaks inside strings through: the value rules then say which
        # field holds them (a pasted multi-line PEM is far better explained as "not base64" than as bad JSON).
        document = json.loads(text, strict=False, object_pairs_hook=_make_object, parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        return Loaded(False, findings=[_syntax_finding(text, exc)])
    except RecursionError:
        return Loaded(False, findings=[too_deep_finding()])
    except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit conversion limit
        return Loaded(False, findings=[error_at("$", "json-syntax", f"The config file is not valid JSON: {exc}.",
                                                "Fix the JSON so that `python -m json.tool FILE` accepts it.")])
    findings, fatal = scan_document(document)
    return Loaded(not fatal, document, notices + findings)


def _decode(data: bytes) -> tuple[str, list[Finding]] | Finding:
    """The text and any notice about its encoding, or the finding that it cannot be read as az would read it."""
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            return error_at("$", "encoding", f"The config file is encoded as {name} (it starts with its byte-order "
                            "mark); az reads UTF-8 and UTF-16 only.", _SAVE_AS_UTF8)
    for bom, name in _UTF16_BOMS:
        if data.startswith(bom):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError as exc:
                return error_at("$", "encoding", f"The config file starts with the {name} byte-order mark but is "
                                f"not valid UTF-16: {exc.reason} at offset {exc.start}.", _SAVE_AS_UTF8)
            return text, [warning_at("$", "encoding-utf16", f"The config file is {name} (it starts with its "
                                     "byte-order mark). az reads it, but most other tools (jq, kubectl, Terraform's "
                                     "file()) expect UTF-8.", _SAVE_AS_UTF8)]
    if b"\x00" in data:
        return error_at("$", "encoding", "The config file contains NUL bytes: it looks like UTF-16 or UTF-32 "
                        "without a byte-order mark, which az cannot read.", _SAVE_AS_UTF8)
    data = data.removeprefix(codecs.BOM_UTF8)  # editors on Windows add it; harmless
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return error_at("$", "encoding",
                        f"The config file is not valid UTF-8: byte 0x{data[exc.start]:02X} at offset {exc.start} "
                        f"(line {line}); it was probably saved as Latin-1 or Windows-1252.",
                        "Save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 in.json > out.json`.")


def _syntax_finding(text: str, exc: json.JSONDecodeError) -> Finding:
    line_text = text.split("\n")[exc.lineno - 1]  # json counts lines by "\n" only
    around = line_text[max(0, exc.colno - 40): exc.colno + 40]
    found = text[exc.pos: exc.pos + 1]
    before = text[:exc.pos].rstrip()
    if found == "'":
        fix = "JSON needs double quotes around keys and strings; replace the single quotes."
    elif found == "/" or found == "#":
        fix = "JSON does not allow comments; remove them."
    elif found and found in "}]" and before.endswith(","):
        fix = "Remove the trailing comma before the closing bracket."
    else:
        fix = "Fix the JSON syntax at that spot; `python -m json.tool FILE` shows the same position."
    return error_at("$", "json-syntax",
                    f"The config file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                    fix, around)


def _make_object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.repeated = []
    for key, value in pairs:
        if key in obj and key not in obj.repeated:
            obj.repeated.append(key)
        obj[key] = value  # the last one wins, as with every JSON parser that accepts duplicates
    return obj


def too_deep_finding() -> Finding:
    return error_at("$", "json-too-deep",
                    f"The config file nests arrays or objects more than {MAX_DEPTH} levels deep; a proxy config "
                    "has two.",
                    "Check that the path points at the proxy config JSON file, and that its brackets are balanced.")


def scan_document(document: Any) -> tuple[list[Finding], bool]:
    """Findings no single rule owns (repeated keys, NaN/Infinity, depth), and whether they stop the check.

    Walks without recursion, and looks only into containers: a noProxy list of thousands of strings costs one
    isinstance check per entry.
    """
    if isinstance(document, _NonFinite):
        return [_non_finite("$", document)], True
    findings: list[Finding] = []
    fatal = False
    stack: list[tuple[Any, str, int]] = [(document, "$", 1)] if isinstance(document, (dict, list)) else []
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [too_deep_finding()], True
        for key in getattr(value, "repeated", ()):
            findings.append(error_at(
                child_path(path, key), "duplicate-key",
                f"The key `{key}` appears more than once in the same object; JSON parsers keep only the last "
                "one, silently dropping the others.",
                f"Keep one `{key}` and delete the others."))
        containers = []
        is_object = isinstance(value, dict)
        for key, child in value.items() if is_object else enumerate(value):
            if isinstance(child, (dict, list)):
                containers.append((child, child_path(path, str(key) if is_object else key), depth + 1))
            elif isinstance(child, _NonFinite):
                findings.append(_non_finite(child_path(path, str(key) if is_object else key), child))
                fatal = True
        stack.extend(reversed(containers))  # reversed, so that findings come out in document order
    return findings, fatal


def _non_finite(path: str, value: _NonFinite) -> Finding:
    return error_at(path, "json-constant", f"`{value.name}` is not valid JSON (JSON has no NaN or Infinity).",
                    "Replace it with the intended value; no proxy config field is a number.", value.name)
