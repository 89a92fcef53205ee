"""adapters/progress.py: the long fleet commands' progress is plain lines, not warnings, and a command run inside
one draws on its reporter."""
from __future__ import annotations

import io
import logging

from azext_aksproxy.adapters.progress import ProgressReporter


class Ctx:
    only_show_errors = False

    def get_progress_controller(self, det=False, spinner=None):
        raise AssertionError("a nested command must get the reporter's controller")


def test_progress_lines_are_plain_and_a_nested_command_draws_on_the_reporter():
    out, ctx = io.StringIO(), Ctx()
    with ProgressReporter(ctx, "Rollout", stream=out, live=False) as progress:
        progress.say("rg1/c1 (prod-eu)", "checking", "checking")
        nested = ctx.get_progress_controller()
        nested.begin(message="Checking 3 target(s)")
        nested.end()
        assert progress.running["rg1/c1 (prod-eu)"][0] == "Checking 3 target(s)"
        progress.say("rg1/c1 (prod-eu)", "done (written)")
    assert out.getvalue() == "Rollout: rg1/c1 (prod-eu): checking\nRollout: rg1/c1 (prod-eu): done (written)\n"
    assert "get_progress_controller" not in ctx.__dict__  # az's own controller is back
    ctx.only_show_errors = True
    quiet = io.StringIO()
    ProgressReporter(ctx, "Rollout", stream=quiet, live=False).line("x")
    assert quiet.getvalue() == ""


def test_an_adopted_loggers_warning_becomes_the_clusters_progress_line(monkeypatch):
    out, ctx = io.StringIO(), Ctx()
    handler = logging.StreamHandler(io.StringIO())
    monkeypatch.setattr("azext_aksproxy.adapters.progress._stderr_handlers", lambda: [handler])
    log = logging.getLogger("cli.azext_aksproxy.adapters.check_from_cluster")
    log.addHandler(handler)
    try:
        with ProgressReporter(ctx, "Rollout", stream=out, live=False, adopt=("cli.azext_aksproxy.adapters.check",)) \
                as progress:
            progress.say("rg1/c1 (prod-eu)", "checking", "checking")
            log.warning("Checking %d target(s) from node %s", 1, "n0")
        log.warning("after the run: a warning again")
    finally:
        log.removeHandler(handler)
    assert "Rollout: rg1/c1 (prod-eu): Checking 1 target(s) from node n0\n" in out.getvalue()
    assert handler.stream.getvalue() == "after the run: a warning again\n"
