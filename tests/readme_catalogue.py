"""README's table of finding codes, rendered from the catalogue (azext_aksproxy/proxy_config/findings.py).

    python -m tests.readme_catalogue            # rewrite the table in README.md
    python -m tests.readme_catalogue --check    # exit 1 when README.md's table differs (also a unit test)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from azext_aksproxy.proxy_config.findings import CATALOGUE

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"


def render() -> str:
    lines = ["| code | severity | scope | meaning | source |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{code}` | {rule.severity} | {rule.scope} | {rule.summary} | {rule.source} |"
              for code, rule in CATALOGUE.items()]
    return "\n".join(lines)


def replaced(text: str) -> str:
    if START not in text or END not in text:
        raise ValueError(f"README.md has no {START} ... {END} section")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{render()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with README.md; write nothing")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = replaced(text)
    if args.check:
        print("README.md catalogue up to date" if new == text else "README.md catalogue differs from the code")
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
