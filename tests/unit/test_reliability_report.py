"""The reliability records and the docs/reliability.md they make: latest record per test, failures shown."""
from __future__ import annotations

from tests.reliability_report import Trial, load, render


def record(path, test, group, outcome, passed=True, area="fault", order=0):
    t = Trial(test, area, group, "az aks update ...", "journal", order=order)
    t.observed(outcome)
    if passed:
        t.passed()
    t.save(path)


def test_a_rerun_replaces_the_earlier_record_of_the_same_test(tmp_path):
    records = tmp_path / "r.jsonl"
    record(records, "t.py::a", "429", "first", passed=False)
    record(records, "t.py::b", "500", "retried")
    record(records, "t.py::a", "429", "retried after 1.0 s")
    loaded = load(records)
    assert [(r["test"], r["status"], r["outcome"]) for r in loaded] == [
        ("t.py::b", "passed", "retried"), ("t.py::a", "passed", "retried after 1.0 s")]


def test_rows_group_trials_in_test_order_count_them_and_show_failures(tmp_path):
    records = tmp_path / "r.jsonl"
    record(records, "c.py::x[2]", "encodings", "exit 1", area="input", order=2)
    record(records, "c.py::x[1]", "encodings", "exit 1", area="input", order=1)
    record(records, "f.py::late", "reset", "exit 0", order=9)
    record(records, "f.py::early", "429", "exit 2", passed=False, order=3)
    doc = render(load(records), az_version="azure-cli 9.9")
    assert "azure-cli 9.9" in doc and "**3 of 4 trials passed.**" in doc
    faults, inputs = doc.index("## Faults"), doc.index("## Bad input")
    assert faults < doc.index("| 429 |") < doc.index("| reset |") < inputs  # test order, not finishing order
    assert "| encodings | 2 | 2 | exit 1 (x2) |" in doc
    assert "| 429 | 1 | 0 | FAILED: exit 2 |" in doc
    assert "## Failed trials" in doc and "`f.py::early`: exit 2" in doc


def test_pipes_in_outcomes_do_not_break_the_table(tmp_path):
    records = tmp_path / "r.jsonl"
    record(records, "f.py::a", "x|y", "a | b")
    assert "| x\\|y | 1 | 1 | a \\| b |" in render(load(records))
