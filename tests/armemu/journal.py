"""The request journal: every ARM and token request with what was answered, for tests to read."""
from __future__ import annotations

import threading
from typing import Any

from .web import Request, arm_time

WRITE_METHODS = ("PUT", "POST", "PATCH", "DELETE")
REQUEST_HEADERS = ("content-type", "commandname", "parametersetname", "user-agent", "x-ms-client-request-id",
                   "if-match", "if-none-match", "accept", "x-identity-header", "akssnapshotid")
RESPONSE_HEADERS = ("azure-asyncoperation", "location", "retry-after", "content-type")


class Journal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list = []
        self._seq = 0

    def record(self, req: Request, *, status: int | None, t_start: float, t_end: float, wall: Any,
               response_headers: dict | None = None, response_body: Any = None, fault: dict | None = None,
               unhandled: bool = False, exception: str | None = None) -> dict:
        headers = {k: req.headers[k] for k in REQUEST_HEADERS if k in req.headers}
        auth = req.headers.get("authorization", "")
        resp_headers = {k.lower(): v for k, v in (response_headers or {}).items()
                        if k.lower() in RESPONSE_HEADERS}
        entry = {
            "method": req.method, "path": req.path, "query": dict(req.query), "headers": headers,
            "bearer": auth.lower().startswith("bearer "), "body": req.body_for_journal(), "status": status,
            "response_headers": resp_headers, "response": response_body, "kind": req.kind,
            "write": req.kind == "arm" and req.method in WRITE_METHODS,
            "t": t_start, "t_end": t_end, "wall": arm_time(wall), "fault": fault, "unhandled": unhandled,
        }
        if exception:
            entry["exception"] = exception
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)
        return entry

    def entries(self, since: int = 0) -> list:
        with self._lock:
            return [e for e in self._entries if e["seq"] > since]

    @property
    def last(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> int:
        with self._lock:
            n = len(self._entries)
            self._entries = []
            return n
