"""Headless Chromium (Debian's package, `make browser`) driven over the DevTools protocol with websocket-client
(which az ships): open a page, run JavaScript in it, type into it, take a screenshot.

    with Browser.start() as browser:
        page = browser.open(path.as_uri())
        page.evaluate("document.title")
        page.screenshot(Path("shot.png"))

Chromium runs with the flags the closed network needs (no first run, no background fetches, no component updates),
in a throw-away profile, and is killed on exit.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import websocket

CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0", "--remote-allow-origins=*")
START_TIMEOUT = 30.0


def chromium_path() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


class Page:
    def __init__(self, browser: Browser, session_id: str) -> None:
        self.browser, self.session_id = browser, session_id

    def send(self, method: str, **params: Any) -> dict:
        return self.browser.send(method, session_id=self.session_id, **params)

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def type_into(self, selector: str, text: str) -> None:
        """Focus the element and type, as a user would (input events fire)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def screenshot(self, path: Path, width: int = 1400, height: int = 1800) -> Path:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Browser:
    def __init__(self, process: subprocess.Popen, profile: str, ws: websocket.WebSocket) -> None:
        self.process, self.profile, self.ws = process, profile, ws
        self._ids = itertools.count(1)
        self.events: list[dict] = []

    @classmethod
    def start(cls, executable: str | None = None) -> Browser:
        executable = executable or chromium_path()
        if not executable:
            raise BrowserError("chromium is not installed (make browser)")
        profile = tempfile.mkdtemp(prefix="aksproxy-chromium-")
        process = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                shutil.rmtree(profile, ignore_errors=True)
                raise BrowserError(f"chromium did not start (exit {process.poll()})")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True)
        return cls(process, profile, ws)

    def send(self, method: str, session_id: str | None = None, **params: Any) -> dict:
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params}
        if session_id:
            message["sessionId"] = session_id
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session_id: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session_id:
                    self.events.remove(event)
                    return event
            self.events.append(json.loads(self.ws.recv()))
        raise BrowserError(f"no {method} within {timeout} s")

    def open(self, url: str) -> Page:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", session)
        return page

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.kill()
            self.process.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":  # python -m tests.browser FILE.html OUT.png: a screenshot of a page
    import sys

    with Browser.start() as b:
        print(b.open(Path(sys.argv[1]).resolve().as_uri()).screenshot(Path(sys.argv[2])))
    os._exit(0)
