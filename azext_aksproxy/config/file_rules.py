"""JSON document -> findings and canonical config: the rules, run together so one pass reports everything.

Order of work for one object: keys (keys.py) decide which written key supplies each REST key; types
(typecheck.py, from schema.json) are checked on those values; each value of the right type then goes to its own
rules: urls.py, noproxy.py, certs.py (``enabled`` needs nothing beyond its type). Findings are returned in the
order of the keys in the file.

An absent ``httpsProxy`` is fine (AKS uses ``httpProxy`` for HTTPS too); only both proxies absent or empty is an
error, and not when a wrapper or a misspelt key already explains where the URL went.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from .certs import check_trusted_ca
from .findings import Finding, error_at
from .keys import plan_keys
from .noproxy import check_no_proxy, in_cluster_finding
from .typecheck import a_json_type, type_findings
from .urls import check_proxy_url, no_proxy_url_finding

_URL_KEYS = ("httpProxy", "httpsProxy")


def check_config(document: Any, now: datetime) -> tuple[list[Finding], dict[str, Any] | None]:
    """Every finding for a parsed document, and the canonical config (meaningful only without errors: the caller,
    which also sees the loader's findings, drops it when there is one)."""
    if not isinstance(document, dict):
        return [_not_object(document)], None
    return _check_object(document, "$", now, nested=False)


def _not_object(document: Any) -> Finding:
    fix = 'Write the config as one JSON object: {"httpProxy": "http://proxy.contoso.com:3128/", ...}.'
    if isinstance(document, list) and len(document) == 1 and isinstance(document[0], dict):
        fix = "Remove the surrounding `[` `]`: the file holds one object, not an array of them."
    return error_at("$", "not-object", f"The config file must hold a JSON object, not {a_json_type(document)}.",
                    fix, document)


def _check_object(obj: dict[Any, Any], base: str, now: datetime, nested: bool) -> tuple[list[Finding], dict[str, Any]]:
    plan = plan_keys(obj, base)
    values = {key: obj[written] for key, (written, _) in plan.slots.items()}
    paths = {key: path for key, (_, path) in plan.slots.items()}
    position = {key: plan.position[written] for key, (written, _) in plan.slots.items()}
    ordered: list[tuple[int, Finding]] = list(plan.findings)

    typed, wrong_type = type_findings(values, paths)
    ordered += [(position[key], finding) for key, finding in typed]
    config = dict(values)
    for key, value in values.items():
        if key in wrong_type:
            continue
        if key == "noProxy":
            findings, config["noProxy"] = check_no_proxy(value, paths[key])  # de-duplicated list
        else:
            findings = _value_findings(key, value, paths[key], now)
        ordered += [(position[key], finding) for finding in findings]

    if _no_proxy_url(values, wrong_type) and not plan.wrappers:
        ordered.insert(0, (-1, no_proxy_url_finding(base)))
    if not nested and not plan.wrappers and "noProxy" not in wrong_type and values.get("enabled") is not False:
        in_cluster = in_cluster_finding(config.get("noProxy"), paths.get("noProxy", base))
        if in_cluster is not None:
            ordered.append((position.get("noProxy", len(obj)), in_cluster))
    for wrapper_position, wrapper_path, inner in plan.wrappers:
        if isinstance(inner, dict) and not nested:
            inner_findings, _ = _check_object(inner, wrapper_path, now, nested=True)
            ordered += [(wrapper_position, finding) for finding in inner_findings]

    ordered.sort(key=lambda item: item[0])  # stable: keeps each key's findings in rule order
    canonical = {key: config[key] for key in sorted(config, key=position.__getitem__)}
    return [finding for _, finding in ordered], canonical


def _no_proxy_url(values: dict[str, Any], wrong_type: set[str]) -> bool:
    """Neither URL is a non-empty string; a URL of the wrong type already has its finding."""
    given = any(isinstance(values.get(key), str) and values[key] != "" for key in _URL_KEYS)
    return not given and not wrong_type.intersection(_URL_KEYS)


def _value_findings(key: str, value: Any, path: str, now: datetime) -> list[Finding]:
    if key in _URL_KEYS:
        return check_proxy_url(value, path, key) if value != "" else []
    if key == "trustedCa":
        return check_trusted_ca(value, path, now)
    return []  # enabled: its type is all there is to check
