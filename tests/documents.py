"""Files and JSON documents in the e2e tests: a file to hand az, and where two documents differ leaf by leaf."""
from __future__ import annotations

import json
from pathlib import Path


def write_file(tmp_path: Path, name: str, doc) -> str:
    """``tmp_path/name`` holding ``doc``: bytes and text as they are, anything else as JSON; its path."""
    path = tmp_path / name
    if isinstance(doc, bytes):
        path.write_bytes(doc)
    else:
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def leaf_diff(a, b, path: str = "$") -> dict[str, tuple]:
    """{path: (value in a, value in b)} of every leaf where two JSON documents differ (lists compared item by item
    when of equal length)."""
    if isinstance(a, dict) and isinstance(b, dict):
        below = [(f"{path}.{k}", a.get(k), b.get(k)) for k in sorted(set(a) | set(b))]
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        below = [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b))]
    else:
        return {} if a == b else {path: (a, b)}
    return {leaf: pair for at, x, y in below for leaf, pair in leaf_diff(x, y, at).items()}
