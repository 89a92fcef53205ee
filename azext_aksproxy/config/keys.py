"""Rules for the keys of a config object: the five REST keys, and the ways users misspell or wrap them.

Stock az sends unknown keys to the service, which ignores them: a `trustedCA` silently drops the CA, a
`{"httpProxyConfig": {...}}` wrapper leaves the service saying both proxies are empty. So every key must be a REST
key; a case variant is normalised (with a warning), anything else is an error with a suggestion.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, child_path, error_at, warning_at

CANONICAL_KEYS = ("httpProxy", "httpsProxy", "noProxy", "trustedCa", "enabled")
_BY_FOLDED = {key.casefold(): key for key in CANONICAL_KEYS}
_ALLOWED = ", ".join(f"`{key}`" for key in CANONICAL_KEYS)
_WRAPPER = "httpproxyconfig"  # the name of this object inside a managed cluster (`az aks show` output)
_READ_ONLY = "effectivenoproxy"


@dataclass
class KeyPlan:
    """Which written key supplies each REST key, and what was said about the keys."""

    # REST key -> (key as written, its JSON path); only keys whose value should be checked
    slots: dict[str, tuple[str, str]] = field(default_factory=dict)
    findings: list[tuple[int, Finding]] = field(default_factory=list)  # (position of the key in the object, finding)
    wrappers: list[tuple[int, str, Any]] = field(default_factory=list)  # (position, path, inner value)
    position: dict[str, int] = field(default_factory=dict)  # written key -> position


def squash(key: str) -> str:
    """`HTTP_PROXY`, `http-proxy`, `HttpProxy` all become `httpproxy`."""
    return key.casefold().replace("_", "").replace("-", "")


def plan_keys(obj: dict[Any, Any], base: str) -> KeyPlan:
    """Classify every key of ``obj``; exact keys win over case variants, case variants over other spellings."""
    plan = KeyPlan(position={key: i for i, key in enumerate(obj)})
    text_keys = [key for key in obj if isinstance(key, str)]
    for key in text_keys:
        if key in CANONICAL_KEYS:
            plan.slots[key] = (key, child_path(base, key))
    for key in text_keys:
        canonical = _BY_FOLDED.get(key.casefold())
        if canonical is not None and key != canonical:
            _case_variant(plan, key, canonical, base)
    for key in obj:
        if not isinstance(key, str) or _BY_FOLDED.get(key.casefold()) is None:
            _other_key(plan, obj, key, base)
    return plan


def _case_variant(plan: KeyPlan, key: str, canonical: str, base: str) -> None:
    path = child_path(base, key)
    if canonical in plan.slots:
        first = plan.slots[canonical][0]
        plan.findings.append((plan.position[key], error_at(
            path, "duplicate-key",
            f"`{key}` and `{first}` both set `{canonical}` (keys are matched ignoring case here).",
            f"Keep one of them, spelled `{canonical}`.")))
        return
    plan.slots[canonical] = (key, path)
    plan.findings.append((plan.position[key], warning_at(
        path, "key-case",
        f"`{key}` is spelled `{canonical}` in the API; it was normalised (stock az would send it as written and "
        "AKS would ignore it).",
        f"Rename `{key}` to `{canonical}`.")))


def _other_key(plan: KeyPlan, obj: dict[Any, Any], key: Any, base: str) -> None:
    path = child_path(base, str(key))  # a non-string key (only in an already-parsed document) is still a key
    position = plan.position[key]
    squashed = squash(key) if isinstance(key, str) else ""
    if squashed == _WRAPPER:
        plan.wrappers.append((position, path, obj[key]))
        plan.findings.append((position, _wrapper_finding(key, obj[key], path)))
    elif squashed == _READ_ONLY:
        plan.findings.append((position, error_at(
            path, "read-only-key",
            f"`{key}` is read-only: AKS computes it (your noProxy plus the entries AKS adds) and it cannot be set.",
            f"Delete `{key}`; put any entries you need in `noProxy`.")))
    elif squashed in _BY_FOLDED:
        canonical = _BY_FOLDED[squashed]
        taken = canonical in plan.slots
        if not taken:
            plan.slots[canonical] = (key, path)  # its value is still checked, so one run reports everything
        plan.findings.append((position, error_at(
            path, "unknown-key",
            f"Unknown key `{key}`: did you mean `{canonical}`? The API keys are camelCase ({_ALLOWED}).",
            f"Remove `{key}`; `{canonical}` is already given." if taken else f"Rename `{key}` to `{canonical}`.")))
    else:
        plan.findings.append((position, _unknown_finding(key, path)))


def _unknown_finding(key: Any, path: str) -> Finding:
    shown = key if isinstance(key, str) else repr(key)
    close = difflib.get_close_matches(squash(shown), list(_BY_FOLDED), n=1, cutoff=0.6)
    if close:
        suggestion = _BY_FOLDED[close[0]]
        return error_at(path, "unknown-key", f"Unknown key `{shown}`: did you mean `{suggestion}`?",
                        f"Rename `{shown}` to `{suggestion}`, or remove it.", shown)
    return error_at(path, "unknown-key", f"Unknown key `{shown}`; the allowed keys are {_ALLOWED}.",
                    f"Remove `{shown}` (stock az would send it and AKS would ignore it).", shown)


def _wrapper_finding(key: str, inner: Any, path: str) -> Finding:
    inner_keys = ", ".join(f"`{k}`" for k in inner if isinstance(k, str)) if isinstance(inner, dict) else ""
    moved = f" ({inner_keys})" if inner_keys else ""
    return error_at(
        path, "wrapper-object",
        f"The settings are wrapped in `{key}`; the file must hold the httpProxyConfig object itself, so AKS "
        "would see no proxy settings at all.",
        f"Move the keys inside `{key}`{moved} to the top level of the file and delete the `{key}` wrapper, e.g. "
        '{"httpProxy": "http://proxy.contoso.com:3128/", "noProxy": ["localhost"]}.')
