"""How the long fleet commands (audit, rollout apply) say what they are doing: progress, not warnings.

In a CI log each event is one plain stderr line (``Rollout: rg/name (Contoso Prod): writing ...``), never
``WARNING:``: a healthy run has nothing that needs attention, and what does still goes through ``logger.warning``.
On a terminal the same lines scroll above one live line that names what is running and for how long.

A command run inside (the node check of each rollout cluster) must not draw its own spinner over that line: while
the reporter is open, ``cli_ctx.get_progress_controller()`` hands out a controller whose messages go to the live
line of the cluster the calling thread works on, and log records clear the live line before they are printed. The
warnings of the loggers it ``adopts`` (the check's "Checking 3 target(s) from node ...") are that command's
progress: they become plain lines naming the cluster, as the command's verdict is the cluster's state.
``--only-show-errors`` silences the reporter as it silences warnings.
"""
from __future__ import annotations

import logging
import shutil
import sys
import threading
import time

TICK_SECONDS = 1.0  # the live line's clock


class ProgressReporter:
    """``say(label, text, phase)``: one line for the event; ``phase`` (e.g. "writing") keeps ``label`` on the live
    line with its elapsed time, None takes it off (it ended). ``note(text)``: the live line only on a terminal, a
    line at most every ``every`` seconds in a log."""

    def __init__(self, cli_ctx, prefix: str, stream=None, live: bool | None = None, every: float = 0.0,
                 adopt: tuple[str, ...] = ()) -> None:
        self.cli_ctx, self.prefix, self.adopt = cli_ctx, prefix, adopt
        self.stream = stream or sys.stderr
        self.quiet = bool(getattr(cli_ctx, "only_show_errors", False))
        self.live = (self.stream.isatty() if live is None else live) and not self.quiet
        self.every = every
        self.lock = threading.RLock()
        self.running: dict[str, tuple[str, float]] = {}
        self.current = threading.local()  # the label the calling thread last spoke for
        self.status = ""
        self.last_note = time.monotonic()
        self.drawn = False
        self.closed = threading.Event()
        self._saved_controller = None
        self._filter = _ClearLiveLine(self)

    # ---- open and close ----------------------------------------------------------------------------------------

    def __enter__(self) -> ProgressReporter:  # noqa: PYI034 - az runs on Python 3.10 (no typing.Self)
        self._saved_controller = self.cli_ctx.__dict__.get("get_progress_controller")
        self.cli_ctx.get_progress_controller = self._nested_controller
        for handler in _stderr_handlers():
            handler.addFilter(self._filter)
        if self.live:
            threading.Thread(target=self._tick, name="progress", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.end()

    def end(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        if self._saved_controller is None:
            self.cli_ctx.__dict__.pop("get_progress_controller", None)
        else:
            self.cli_ctx.get_progress_controller = self._saved_controller
        for handler in _stderr_handlers():
            handler.removeFilter(self._filter)
        with self.lock:
            self.clear()

    # ---- what the commands call --------------------------------------------------------------------------------

    def say(self, label: str, text: str, phase: str | None = None) -> None:
        with self.lock:
            self.current.label = label
            if phase is None:
                self.running.pop(label, None)
            else:
                self.running[label] = (phase, self.running.get(label, ("", time.monotonic()))[1])
            self.line(f"{label}: {text}")

    def line(self, text: str) -> None:
        """One plain line (above the live line on a terminal)."""
        if self.quiet:
            return
        with self.lock:
            self.clear()
            self.stream.write(f"{self.prefix}: {text}\n" if self.prefix else f"{text}\n")
            self.stream.flush()
            self.draw()

    def note(self, text: str) -> None:
        with self.lock:
            self.status = text
            if self.live:
                self.draw()
            elif time.monotonic() - self.last_note >= self.every:
                self.last_note = time.monotonic()
                self.line(text)

    # ---- the live line -----------------------------------------------------------------------------------------

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False

    def draw(self) -> None:
        if not self.live or self.closed.is_set():
            return
        now = time.monotonic()
        parts = [f"{label} {phase} {now - t0:.0f}s" for label, (phase, t0) in self.running.items()]
        text = "; ".join(parts) or self.status
        if not text:
            return
        width = _columns() - 1
        self.stream.write("\r\033[K" + f"{self.prefix}: {text}"[:width])
        self.stream.flush()
        self.drawn = True

    def _tick(self) -> None:
        while not self.closed.wait(TICK_SECONDS):
            with self.lock:
                self.draw()

    # ---- a command run inside ----------------------------------------------------------------------------------

    def _nested_controller(self, det=False, spinner=None):
        return _NestedController(self, getattr(self.current, "label", None))


def outcome(cli_ctx, prefix: str, text: str) -> None:
    """One plain line outside a running reporter: a command's outcome, not a warning (--only-show-errors
    silences it too)."""
    ProgressReporter(cli_ctx, prefix, live=False).line(text)


class _NestedController:
    """What a command run inside gets for az's progress controller: its messages become its cluster's phase."""

    def __init__(self, reporter: ProgressReporter, label: str | None) -> None:
        self.reporter, self.label = reporter, label

    def begin(self, **kwargs) -> None:
        self.add(**kwargs)

    def add(self, **kwargs) -> None:
        message = kwargs.get("message")
        if message and self.label:
            with self.reporter.lock:
                started = self.reporter.running.get(self.label, ("", time.monotonic()))[1]
                self.reporter.running[self.label] = (str(message)[:60], started)
                self.reporter.draw()

    def update(self) -> None:
        """Nothing to redraw: the reporter's clock does it."""

    def stop(self) -> None:
        """The reporter's live line is the reporter's to end."""

    def end(self, **kwargs) -> None:
        """As stop."""

    def is_running(self) -> bool:
        return not self.reporter.closed.is_set()

    def init_progress(self, progress_view) -> None:
        """The reporter draws."""


class _ClearLiveLine(logging.Filter):
    """Clears the live line before a log record is printed (the clock draws it again)."""

    def __init__(self, reporter: ProgressReporter) -> None:
        super().__init__()
        self.reporter = reporter

    def filter(self, record: logging.LogRecord) -> bool:
        reporter = self.reporter
        if record.levelno == logging.WARNING and record.name.startswith(reporter.adopt or ("\0",)):
            label = getattr(reporter.current, "label", None)
            message = record.getMessage()
            reporter.line(f"{label}: {message}" if label else message)
            return False
        with reporter.lock:
            reporter.clear()
        return True


def _stderr_handlers() -> list[logging.Handler]:
    """The handlers that print to stderr: knack's on the root logger and on its "cli" logger."""
    handlers = logging.getLogger().handlers + logging.getLogger("cli").handlers
    return [h for h in handlers if getattr(h, "stream", None) in (sys.stderr, sys.__stderr__)]


def _columns() -> int:
    return shutil.get_terminal_size((120, 24)).columns
