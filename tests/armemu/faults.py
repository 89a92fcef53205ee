"""Fault plans: rules that make matching requests fail in a chosen way.

A rule (JSON):
    {"match": {"method": "POST", "path_regex": "/upgradeNodeImageVersion$", "nth": 1},
     "action": "status", "code": 429, "body": {...}, "retry_after": 1, "headers": {...},
     "times": 1}
`action` is one of
    "status"            answer with `code` (default 500), `body` (default an ARM error envelope), optional
                        `retry_after` and `headers`; the request does not reach the resource logic.
    "reset"             close the connection abruptly (TCP RST). With `apply` true (default) the request is
                        processed first and the reset happens half-way through the response body; with
                        `apply` false nothing is processed and no response is written.
    "delay"             sleep `seconds` (default 5) before handling the request normally.
    "operation_result"  the operation the matching write starts ends with `status` ("Failed" or "Canceled")
                        and `error` ({"code", "message"}) instead of Succeeded.
The action may also be given as an object: {"action": {"type": "status", "code": 429}}.
`match.method` (default any) and `match.path_regex` (re.search on the path without query, case-insensitive,
default any) select requests; the rule fires from the `nth` matching request on (1-based, default 1) for
`times` requests (default 1; -1 = forever). The first rule that fires wins.
"""
from __future__ import annotations

import re
import threading

from .web import Request, Response, error

ACTIONS = ("status", "reset", "delay", "operation_result")


class Rule:
    def __init__(self, rule_id: int, spec: dict) -> None:
        spec = dict(spec)
        action = spec.pop("action", None)
        if isinstance(action, dict):
            action = dict(action)
            spec.update(action)
            action = spec.pop("type", None)
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; expected one of {ACTIONS}")
        match = spec.pop("match", None) or {}
        self.id = rule_id
        self.action = action
        self.method = (match.get("method") or "*").upper()
        self.path_regex = match.get("path_regex") or ""
        self._rx = re.compile(self.path_regex, re.IGNORECASE)
        self.nth = int(match.get("nth") or 1)
        self.times = int(spec.pop("times", 1))
        self.params = spec
        self.seen = 0
        self.fired = 0

    def matches(self, req: Request) -> bool:
        return (self.method in ("*", req.method)) and bool(self._rx.search(req.path))

    def exhausted(self) -> bool:
        return 0 <= self.times <= self.fired

    def describe(self) -> dict:
        return {"id": self.id, "action": self.action, "match": {"method": self.method, "path_regex": self.path_regex,
                                                                "nth": self.nth},
                "times": self.times, "params": self.params, "seen": self.seen, "fired": self.fired}

    def response(self) -> Response:
        code = int(self.params.get("code", self.params.get("status", 500)))
        body = self.params.get("body")
        headers = dict(self.params.get("headers") or {})
        if self.params.get("retry_after") is not None:
            headers["Retry-After"] = str(self.params["retry_after"])
        if body is None:
            resp = error(code, self.params.get("error_code", "InjectedFault"),
                         self.params.get("message", f"Injected fault: HTTP {code}."), headers=headers)
            return resp
        return Response(code, body, headers)

    def outcome(self) -> dict:
        status = self.params.get("status", "Failed")
        if status not in ("Failed", "Canceled"):
            raise ValueError("operation_result status must be Failed or Canceled")
        err = self.params.get("error") or {"code": "InjectedOperationFailure",
                                           "message": f"The operation was {status.lower()} (injected fault)."}
        return {"status": status, "error": err}


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list = []
        self._next_id = 1

    def add(self, spec: dict) -> dict:
        with self._lock:
            rule = Rule(self._next_id, spec)
            if rule.action == "operation_result":
                rule.outcome()  # validate now
            self._next_id += 1
            self._rules.append(rule)
            return rule.describe()

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list:
        with self._lock:
            return [r.describe() for r in self._rules]

    def fire(self, req: Request) -> Rule | None:
        """The rule that fires for this request (its counters updated), or None."""
        with self._lock:
            chosen = None
            for rule in self._rules:
                if rule.exhausted() or not rule.matches(req):
                    continue
                rule.seen += 1
                if chosen is None and rule.seen >= rule.nth:
                    rule.fired += 1
                    chosen = rule
            return chosen
