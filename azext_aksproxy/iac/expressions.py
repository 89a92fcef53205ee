"""ARM template expressions, evaluated only where the answer is exact.

A string value ``"[...]"`` is an expression (``"[[..."`` is the literal ``"[..."``). What is evaluated: string and
number literals, ``parameters()``, ``variables()``, property and index access, and functions whose result depends
on their arguments alone (``concat``, ``format``, ``string``, ``bool``, ``toLower``, ``if``, ...). Anything that
needs the deployment (``resourceGroup()``, ``reference()``, ``uniqueString()``, ``resourceId()``, a KeyVault
reference) raises :class:`NotEvaluated` naming what stopped it: never a guess.

Grammar (ARM template syntax docs, "Expressions"): ``call := name '(' [expr {',' expr}] ')' accessor*``,
``accessor := '.' name | '[' expr ']'``, literals ``'text'`` (``''`` escapes a quote) and integers.

Pure: no azure-cli import.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any


class NotEvaluated(Exception):
    """The value depends on something only the deployment knows, or on a function aksproxy does not evaluate."""


_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<punct>[(),.\[\]]))")


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def literal_text(value: str) -> str:
    """A string value as the deployment sees it when it is not an expression: ``[[`` escapes a leading ``[``."""
    return value[1:] if value.startswith("[[") else value


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise NotEvaluated(f"cannot read the expression near {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    """Recursive descent over the tokens; yields a tree of tuples ("str"|"num", value) / ("call", name, args,
    accessors)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise NotEvaluated(f"cannot read the expression (expected {value or 'more'}, got {token[1] or 'end'})")
        self.pos += 1
        return token

    def expression(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return ("str", text[1:-1].replace("''", "'"))
        if kind == "num":
            return ("num", int(text))
        if kind != "name":
            raise NotEvaluated(f"cannot read the expression at {text!r}")
        self.take("(")
        args = []
        if self.peek()[1] != ")":
            args.append(self.expression())
            while self.peek()[1] == ",":
                self.take(",")
                args.append(self.expression())
        self.take(")")
        accessors: list[Any] = []
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                accessors.append(("str", self.take()[1]))
            else:
                accessors.append(self.expression())
                self.take("]")
        return ("call", text, args, accessors)


def parse(text: str) -> Any:
    """The tree of the expression ``text`` (the string without its outer brackets)."""
    parser = _Parser(_tokens(text))
    tree = parser.expression()
    if parser.peek()[0] != "end":
        raise NotEvaluated(f"cannot read the expression: unexpected {parser.peek()[1]!r}")
    return tree


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"  # ARM's string(true) is "True"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int):
        return value != 0
    raise NotEvaluated(f"bool() of {type(value).__name__}")


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)(:[^}]*)?\}")


def _format(fmt: Any, *args: Any) -> str:
    """.NET composite formatting as ARM's format() does it: {0}, and {{ }} for literal braces."""
    def one(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        index = int(match.group(1))
        if match.group(2) or index >= len(args):
            raise NotEvaluated("format() with a format specifier or a missing argument")
        return _str(args[index])
    return _PLACEHOLDER.sub(one, str(fmt))


def _concat(*args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [item for a in args for item in a]
    return "".join(_str(a) for a in args)


def _union(*args: Any) -> Any:
    if all(isinstance(a, list) for a in args):
        seen: dict[str, Any] = {}
        for item in (i for a in args for i in a):
            seen.setdefault(json.dumps(item, sort_keys=True), item)
        return list(seen.values())
    if all(isinstance(a, dict) for a in args):
        out: dict[str, Any] = {}
        for a in args:
            out.update(a)
        return out
    raise NotEvaluated("union() of mixed types")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _object(*args: Any) -> dict[str, Any]:
    return {str(args[i]): args[i + 1] for i in range(0, len(args) - 1, 2)}


# Functions whose result depends on their arguments alone (ARM template functions reference).
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "concat": _concat,
    "format": _format,
    "string": _str,
    "bool": _bool,
    "int": int,
    "tolower": lambda s: _str(s).lower(),
    "toupper": lambda s: _str(s).upper(),
    "trim": lambda s: _str(s).strip(),
    "replace": lambda s, old, new: _str(s).replace(_str(old), _str(new)),
    "split": lambda s, sep: _str(s).split(_str(sep)) if isinstance(sep, str) else re.split(
        "|".join(re.escape(_str(x)) for x in sep), _str(s)),
    "join": lambda items, sep: _str(sep).join(_str(i) for i in items),
    "createarray": lambda *a: list(a),
    "createobject": _object,
    "array": lambda v: v if isinstance(v, list) else [v],
    "union": _union,
    "json": lambda s: json.loads(_str(s)),
    "equals": lambda a, b: a == b,
    "not": lambda a: not _bool(a),
    "and": lambda *a: all(_bool(x) for x in a),
    "or": lambda *a: any(_bool(x) for x in a),
    "empty": _empty,
    "length": len,
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
    "base64": lambda s: base64.b64encode(_str(s).encode("utf-8")).decode("ascii"),
}


class Scope:
    """What ``parameters()`` and ``variables()`` return in one template: the values given (already resolved,
    defaults applied) and the variables, evaluated on first use. ``secure_used`` is set when an evaluation read a
    securestring or secureObject parameter, so its value is never shown."""

    def __init__(self, parameters: Mapping[str, Any], variables: Mapping[str, Any],
                 secure: frozenset[str] = frozenset(), missing: Mapping[str, str] | None = None) -> None:
        self.parameters = {k.lower(): v for k, v in parameters.items()}
        self.raw_variables = {k.lower(): v for k, v in variables.items()}
        self.secure = frozenset(s.lower() for s in secure)
        self.missing = {k.lower(): v for k, v in (missing or {}).items()}
        self.secure_used = False
        self._variables: dict[str, Any] = {}
        self._evaluating: set[str] = set()

    def parameter(self, name: Any) -> Any:
        key = _str(name).lower()
        if key in self.secure:
            self.secure_used = True
        if key in self.missing:
            raise NotEvaluated(self.missing[key])
        if key not in self.parameters:
            raise NotEvaluated(f"parameters('{name}'): the template declares no such parameter")
        return self.parameters[key]

    def variable(self, name: Any) -> Any:
        key = _str(name).lower()
        if key in self._variables:
            return self._variables[key]
        if key not in self.raw_variables or key in self._evaluating:
            raise NotEvaluated(f"variables('{name}'): no such variable, or one defined through itself")
        if key == "copy":
            raise NotEvaluated("variables with copy loops are not evaluated")
        self._evaluating.add(key)
        try:
            value = resolve_strict(self.raw_variables[key], self)
        finally:
            self._evaluating.discard(key)
        self._variables[key] = value
        return value


def evaluate(text: str, scope: Scope) -> Any:
    """The value of the expression string ``text`` (with its brackets)."""
    return _eval(parse(text[1:-1]), scope)


def _eval(node: Any, scope: Scope) -> Any:
    if node[0] in ("str", "num"):
        return node[1]
    _, name, args, accessors = node
    values = [_eval(a, scope) for a in args]
    lowered = name.lower()
    if lowered == "parameters" and len(values) == 1:
        value = scope.parameter(values[0])
    elif lowered == "variables" and len(values) == 1:
        value = scope.variable(values[0])
    elif lowered == "if" and len(values) == 3:
        value = values[1] if _bool(values[0]) else values[2]
    elif lowered in FUNCTIONS:
        try:
            value = FUNCTIONS[lowered](*values)
        except NotEvaluated:
            raise
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise NotEvaluated(f"{name}() could not be evaluated: {exc}") from None
    else:
        raise NotEvaluated(f"{name}() depends on the deployment or is not evaluated by aksproxy")
    for accessor in accessors:
        value = _access(value, _eval(accessor, scope))
    return value


def _access(value: Any, key: Any) -> Any:
    try:
        if isinstance(value, dict):
            matches = [k for k in value if k.lower() == _str(key).lower()]
            return value[matches[0]]
        if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
            return value[key]
    except (IndexError, KeyError):
        pass
    raise NotEvaluated(f"no property or index {key!r} in the value")


def resolve_strict(value: Any, scope: Scope) -> Any:
    """``value`` with every expression in it evaluated; raises :class:`NotEvaluated` at the first one that is not."""
    if is_expression(value):
        return evaluate(value, scope)
    if isinstance(value, str):
        return literal_text(value)
    if isinstance(value, list):
        return [resolve_strict(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: resolve_strict(v, scope) for k, v in value.items()}
    return value
