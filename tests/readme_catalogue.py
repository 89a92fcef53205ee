"""The table of finding codes in docs/rules.md (linked from the README), rendered from the catalogue
(azext_aksproxy/config/findings.py).

    python -m tests.readme_catalogue            # rewrite the table in docs/rules.md
    python -m tests.readme_catalogue --check    # exit 1 when docs/rules.md's table differs (also a unit test)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from azext_aksproxy.config.findings import CATALOGUE

PAGE = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"


def render() -> str:
    lines = ["| code | severity | scope | meaning | source |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{code}` | {rule.severity} | {rule.scope} | {rule.summary} | {rule.source} |"
              for code, rule in CATALOGUE.items()]
    return "\n".join(lines)


def replaced(text: str) -> str:
    if START not in text or END not in text:
        raise ValueError(f"{PAGE.name} has no {START} ... {END} section")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{render()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with docs/rules.md; write nothing")
    args = parser.parse_args(argv)
    text = PAGE.read_text(encoding="utf-8")
    new = replaced(text)
    if args.check:
        print("docs/rules.md catalogue up to date" if new == text else "docs/rules.md catalogue differs from the code")
        return 0 if new == text else 1
    PAGE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
