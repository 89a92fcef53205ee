"""The fleet report: a report document (document.py) from an audit or a rollout, rendered as one self-contained
HTML file (html.py). Pure (no azure-cli import): dicts in, a string out."""
from __future__ import annotations

from .document import AUDIT, ROLLOUT, ROLLOUT_STATES, SCHEMA, from_audit
from .html import render, summary

__all__ = ["AUDIT", "ROLLOUT", "ROLLOUT_STATES", "SCHEMA", "from_audit", "render", "summary"]
