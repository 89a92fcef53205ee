"""`make check` lints every pipeline aksproxy ships or documents (tests/workflows.py); a broken one is caught."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests import workflows

GOOD = """name: ok
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v7
      - run: make check
"""


def write_repo(root: Path, workflow: str, page: str = "") -> Path:
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
    (root / "docs").mkdir()
    (root / "docs" / "ci.md").write_text(page, encoding="utf-8")
    return root


def test_every_workflow_in_the_repository_and_its_docs_passes():
    found, problems = workflows.problems()
    assert problems == []
    paths = {(p.path, p.is_github_actions, p.is_azure_pipelines) for p in found}
    assert (".github/workflows/release.yml", True, False) in paths
    assert ("docs/fleet-rollout.md", True, False) in paths and ("docs/fleet-rollout.md", False, True) in paths


def test_a_good_workflow_passes(tmp_path):
    assert workflows.problems(write_repo(tmp_path, GOOD))[1] == []


@pytest.mark.parametrize(("broken", "said"), [
    (GOOD.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: nothing"), 'job "nothing"'),
    (GOOD.replace("actions/checkout@v7", "actions/checkout@v4"), 'runtime "node20" is deprecated'),
    (GOOD.replace("- run: make check", "- run: echo ${{ github.nope }}"), "nope"),
])
def test_a_broken_workflow_file_is_caught_with_its_line(tmp_path, broken, said):
    problems = workflows.problems(write_repo(tmp_path, broken))[1]
    assert problems and all(p.startswith(".github/workflows/ci.yml:") for p in problems)
    assert any(said in p for p in problems), problems


def test_a_broken_workflow_in_a_docs_page_is_caught_at_its_line_in_the_page(tmp_path):
    page = "# CI\n\nText.\n\n```yaml\n" + GOOD.replace("actions/checkout@v7", "actions/checkout@v4") + "```\n"
    problems = workflows.problems(write_repo(tmp_path, GOOD, page))[1]
    assert len(problems) == 1 and problems[0].startswith("docs/ci.md:12:15:"), problems  # the `uses:` line


def test_an_azure_pipeline_with_a_key_azure_pipelines_does_not_have_is_caught(tmp_path):
    pipeline = "trigger: none\nstages:\n  - stage: a\n    jobs:\n      - job: a\n        runs-on: ubuntu\n" \
               "        steps:\n          - script: make check\n"
    problems = workflows.problems(write_repo(tmp_path, GOOD, f"```yaml\n{pipeline}```\n"))[1]
    assert problems == ["docs/ci.md:2: job key 'runs-on' is not in the Azure Pipelines schema"]
    fixed = pipeline.replace("runs-on: ubuntu", "pool: {vmImage: ubuntu-latest}")
    assert workflows.problems(write_repo(tmp_path / "fixed", GOOD, f"```yaml\n{fixed}```\n"))[1] == []


def test_yaml_that_does_not_parse_is_caught(tmp_path):
    problems = workflows.problems(write_repo(tmp_path, GOOD, "```yaml\nsteps: [a\n```\n"))[1]
    assert len(problems) == 1 and problems[0].startswith("docs/ci.md:2: not YAML")
