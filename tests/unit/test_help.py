"""What aksproxy adds to core's `aks create` / `aks update` help, and that adding it stays cheap.

az uses the first help entry of a parameter name, so ours go first; examples go after core's. The text splice must
apply to the installed core's help (or every `--help` pays a full YAML parse and dump again).
"""
from __future__ import annotations

import azure.cli.command_modules.acs._help  # noqa: F401  registers core's help entries
import pytest
import yaml

from azext_aksproxy._help import (
    CORE_HELP_ADDITIONS,
    _reparsed,
    _spliced,
    helps,
    merge_core_help,
)

WRAPPED = sorted(CORE_HELP_ADDITIONS)


@pytest.fixture(autouse=True)
def _core_help_restored():
    saved = {command: helps[command] for command in WRAPPED}
    yield
    helps.update(saved)


def first_by_name(entries: list) -> dict:
    found: dict = {}
    for entry in entries:
        found.setdefault(entry["name"], entry)
    return found


@pytest.mark.parametrize("command", WRAPPED)
def test_the_splice_applies_to_the_installed_core_help(command):
    assert _spliced(helps[command], CORE_HELP_ADDITIONS[command]) is not None


@pytest.mark.parametrize("command", WRAPPED)
def test_our_parameters_come_first_and_every_core_entry_stays(command):
    core = yaml.safe_load(helps[command])
    merged = yaml.safe_load(_spliced(helps[command], CORE_HELP_ADDITIONS[command]))
    ours = CORE_HELP_ADDITIONS[command]["parameters"]
    assert merged["parameters"][:len(ours)] == ours
    assert first_by_name(merged["parameters"])["--http-proxy-config"]["short-summary"].endswith(
        "validated by aksproxy before anything is sent.")
    assert merged["parameters"][len(ours):] == core["parameters"]
    assert merged["examples"] == core["examples"] + CORE_HELP_ADDITIONS[command]["examples"]
    assert {k: v for k, v in merged.items() if k not in ("parameters", "examples")} == \
        {k: v for k, v in core.items() if k not in ("parameters", "examples")}


@pytest.mark.parametrize("command", WRAPPED)
def test_splice_and_full_parse_give_az_the_same_help(command):
    spliced = yaml.safe_load(_spliced(helps[command], CORE_HELP_ADDITIONS[command]))
    reparsed = yaml.safe_load(_reparsed(helps[command], CORE_HELP_ADDITIONS[command]))
    assert first_by_name(spliced["parameters"]) == first_by_name(reparsed["parameters"])
    assert spliced["examples"] == reparsed["examples"]


@pytest.mark.parametrize("text", [
    "type: command\nshort-summary: x\nexamples:\n  - name: e\n    text: az x\nparameters:\n  - name: --a\n",
    "type: command\nshort-summary: x\nparameters: []\nexamples: []\n",
    "type: command\nshort-summary: x\n",
])
def test_other_layouts_fall_back_to_a_full_parse(text):
    helps["aks create"] = text
    assert _spliced(text, CORE_HELP_ADDITIONS["aks create"]) is None
    merge_core_help(["aks", "create", "--help"])
    merged = yaml.safe_load(helps["aks create"])
    assert merged["parameters"][0]["name"] == "--http-proxy-config"
    assert merged["examples"][-1] == CORE_HELP_ADDITIONS["aks create"]["examples"][-1]


def test_only_the_command_shown_is_merged_even_after_global_options():
    merge_core_help(["--only-show-errors", "aks", "update", "-g", "rg", "--help"])
    assert "aksproxy" in helps["aks update"]
    assert "aksproxy" not in helps["aks create"]


def test_merging_twice_adds_nothing():
    merge_core_help(["aks", "create", "--help"])
    once = helps["aks create"]
    merge_core_help(["aks", "create", "--help"])
    assert helps["aks create"] == once
