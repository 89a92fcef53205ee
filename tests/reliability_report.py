"""Reliability figures, produced by the test run: each fault or bad input a reliability test tries is recorded with
what happened, and `python -m tests.reliability_report` turns the records into docs/reliability.md.

In a test module:

    trial = trial_fixture("fault")          # a pytest fixture

    def test_x(trial, ...):
        t = trial("429 + Retry-After on the cluster PUT", "az aks update ...",
                  asserted="journal: 429 then 200; one write applied; stored cluster = file")
        ...  # run az, assert
        t.passed(f"retried after {gap:.1f} s; 1 write applied")   # saved at teardown; FAILED if never reached

Records are JSON lines appended to $AKSPROXY_RELIABILITY_RECORDS (default build/reliability/records.jsonl); one
line per write, so pytest-xdist workers can append to the same file. The latest record of a test wins, so a
partial re-run updates its rows and keeps the others. `make test` removes the file before the run.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDS_ENV = "AKSPROXY_RELIABILITY_RECORDS"
DEFAULT_RECORDS = REPO_ROOT / "build" / "reliability" / "records.jsonl"
DOC = REPO_ROOT / "docs" / "reliability.md"

AREAS = OrderedDict([
    ("fault", "Faults injected by the ARM emulator"),
    ("input", "Bad input files (tests/corpus), each through `az aks update --http-proxy-config FILE --debug`"),
    ("nothing-lost", "Nothing lost: stored cluster compared field by field before and after"),
])
MAX_OUTCOMES_SHOWN = 8  # distinct outcomes listed in one row before the rest are counted


def records_path() -> Path:
    return Path(os.environ.get(RECORDS_ENV) or DEFAULT_RECORDS)


@dataclass
class Trial:
    """One thing tried (a fault, an input) and its outcome; ``status`` stays FAILED unless the test calls passed()."""

    test: str  # pytest node id: the key (a re-run replaces the earlier record)
    area: str  # a key of AREAS
    group: str  # the table row: fault kind or input class
    command: str  # what was run, for the reader
    asserted: str  # how the outcome is checked
    case: str = ""  # the single case (corpus file, pool, ...) when a row groups several tests
    order: int = 0  # the test's place in its file: rows keep the order the tests are written in
    outcome: str = ""
    status: str = "FAILED"
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def observed(self, outcome: str) -> None:
        """What happened so far; kept even if a later assertion fails."""
        self.outcome = outcome

    def passed(self, outcome: str | None = None) -> None:
        if outcome is not None:
            self.outcome = outcome
        self.status = "passed"

    def save(self, path: Path | None = None) -> None:
        target = path or records_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        self.seconds = round(time.monotonic() - self.started, 1)
        record = asdict(self)
        record.pop("started")
        record["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        # One os.write of an O_APPEND descriptor per record: lines from parallel workers never interleave.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def trial_fixture(area: str):
    """A pytest fixture, ``trial(group, command, asserted, case="")``, making Trials of ``area`` for the requesting
    test; they are saved at its teardown, as FAILED unless the test reached ``passed()``."""
    import pytest

    @pytest.fixture
    def trial(request):
        made: list[Trial] = []

        # Where the test is written, then where pytest put it among the collected items (parameters keep their
        # order): stable whether the whole suite or a single test ran.
        items = request.session.items
        line = getattr(getattr(request, "function", None), "__code__", None)
        order = (line.co_firstlineno if line else 0) * 100_000 + (items.index(request.node) if request.node in items
                                                                  else 0)

        def make(group: str, command: str, asserted: str, case: str = "") -> Trial:
            made.append(Trial(request.node.nodeid, area, group, command, asserted, case, order))
            return made[-1]

        yield make
        for t in made:
            t.save()

    return trial


def load(path: Path | None = None) -> list[dict]:
    """The latest record of every test, in first-seen order."""
    source = path or records_path()
    latest: dict[str, dict] = {}
    if source.exists():
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                latest.pop(record["test"], None)  # re-insert: order by the latest run
                latest[record["test"]] = record
    return list(latest.values())


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _outcomes(rows: list[dict]) -> str:
    counts: OrderedDict[str, int] = OrderedDict()
    for r in rows:
        text = r["outcome"] if r["status"] == "passed" else f"FAILED: {r['outcome'] or 'see the test log'}"
        counts[text] = counts.get(text, 0) + 1
    shown = [f"{text} (x{n})" if n > 1 else text for text, n in list(counts.items())[:MAX_OUTCOMES_SHOWN]]
    rest = sum(list(counts.values())[MAX_OUTCOMES_SHOWN:])
    return "; ".join(shown) + (f"; and {rest} more" if rest else "")


def render(records: list[dict], *, az_version: str = "") -> str:
    records = sorted(records, key=lambda r: (r["test"].split("::")[0], r.get("order", 0)))
    passed = sum(r["status"] == "passed" for r in records)
    lines = [
        "# Reliability figures",
        "",
        ("Generated by `python -m tests.reliability_report` from the records of the last test run "
         "(`make test`); do not edit by hand."),
        "",
        (f"Run: {time.strftime('%Y-%m-%d', time.gmtime())}, {az_version or 'az'}, Python "
         f"{platform.python_version()}, against the local ARM emulator (tests/armemu). "
         f"**{passed} of {len(records)} trials passed.**"),
    ]
    for area, title in AREAS.items():
        rows = [r for r in records if r["area"] == area]
        if not rows:
            continue
        groups: OrderedDict[str, list[dict]] = OrderedDict()
        for r in rows:
            groups.setdefault(r["group"], []).append(r)
        ok = sum(r["status"] == "passed" for r in rows)
        lines += ["", f"## {title}", "", f"{len(rows)} trials, {ok} passed.", "",
                  "| Fault or input | Cases tried | Passed | Outcome | How it is asserted |",
                  "| --- | ---: | ---: | --- | --- |"]
        for group, items in groups.items():
            ok = sum(i["status"] == "passed" for i in items)
            asserted = "; ".join(OrderedDict.fromkeys(i["asserted"] for i in items))
            lines.append(f"| {_cell(group)} | {len(items)} | {ok} | {_cell(_outcomes(items))} | {_cell(asserted)} |")
    failed = [r for r in records if r["status"] != "passed"]
    if failed:
        lines += ["", "## Failed trials", ""] + [f"- `{r['test']}`: {_cell(r['outcome'])}" for r in failed]
    return "\n".join(lines) + "\n"


def _az_version() -> str:
    try:
        from azure.cli.core import __version__

        return f"azure-cli {__version__}"
    except ImportError:
        return ""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else DOC
    records = load()
    if not records:
        print(f"no reliability records in {records_path()}; run the tests first", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(records, az_version=_az_version()), encoding="utf-8")
    print(f"{out}: {len(records)} trials", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
