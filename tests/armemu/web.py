"""Small HTTP primitives shared by the emulator modules: request/response objects, routing, ARM errors."""
from __future__ import annotations

import datetime
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict  # lower-case names
    raw_body: bytes = b""
    base_url: str = ""  # scheme://host:port of the server that received the request
    kind: str = "arm"  # arm | identity | control
    params: dict = field(default_factory=dict)  # route captures
    op_outcome: dict | None = None  # set by an "operation_result" fault

    @classmethod
    def build(cls, method: str, target: str, headers: dict, raw_body: bytes, base_url: str, kind: str) -> Request:
        path, _, qs = target.partition("?")
        query = {k.lower(): v for k, v in parse_qsl(qs, keep_blank_values=True)}
        return cls(method.upper(), path, query, {k.lower(): v for k, v in headers.items()}, raw_body, base_url, kind)

    def json(self) -> Any:
        """The parsed JSON body, None if empty; raises ValueError when not JSON."""
        if not self.raw_body.strip():
            return None
        return json.loads(self.raw_body.decode("utf-8"))

    def body_for_journal(self) -> Any:
        if not self.raw_body:
            return None
        try:
            return self.json()
        except (ValueError, UnicodeDecodeError):
            return self.raw_body.decode("utf-8", errors="replace")


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON, bytes/str -> raw, None -> empty
    headers: dict = field(default_factory=dict)
    unhandled: bool = False

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, indent=2).encode("utf-8")

    def all_headers(self) -> dict:
        out = dict(self.headers)
        if self.body is not None and not any(k.lower() == "content-type" for k in out):
            out["Content-Type"] = "application/json" if isinstance(self.body, (dict, list)) else "text/plain"
        return out


def error(status: int, code: str, message: str, *, headers: dict | None = None, **extra: Any) -> Response:
    """ARM's error envelope: {"error": {"code", "message", ...}}."""
    err = {"code": code, "message": message}
    err.update(extra)
    return Response(status, {"error": err}, dict(headers or {}))


def not_found(resource_type: str, name: str, rg: str) -> Response:
    """The 404 ARM returns for a missing resource in an existing group (recorded verbatim)."""
    msg = (f"The Resource '{resource_type}/{name}' under resource group '{rg}' was not found. "
           "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
    return error(404, "ResourceNotFound", msg,
                 headers={"Content-Type": "application/json; charset=utf-8", "x-ms-failure-cause": "gateway"})


def rg_not_found(rg: str) -> Response:
    return error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.",
                 headers={"Content-Type": "application/json; charset=utf-8", "x-ms-failure-cause": "gateway"})


Handler = Callable[[Request], Response]


class Router:
    """Case-insensitive path routing: add(methods, pattern-with-{name}-captures, handler)."""

    def __init__(self) -> None:
        self._routes: list = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        """`{name}` captures one path segment, `{name*}` any number of them (a scope such as a subnet id)."""
        rx = re.sub(r"\{(\w+)\*\}", r"(?P<\1>/.+?)", pattern)
        rx = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", rx)
        self._routes.append((set(methods.split()), re.compile("^" + rx + "/?$", re.IGNORECASE), handler))

    def dispatch(self, req: Request) -> Response | None:
        path_matched = False
        for methods, rx, handler in self._routes:
            m = rx.match(req.path)
            if not m:
                continue
            path_matched = True
            if req.method in methods:
                req.params = m.groupdict()
                return handler(req)
        if path_matched:
            return error(405, "MethodNotAllowed", f"The requested method {req.method} is not allowed.")
        return None


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def arm_time(t: datetime.datetime) -> str:
    """ARM operation timestamps: up to 7 fractional digits, trailing zeros dropped, 'Z'."""
    s = t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return s + "Z"


def new_guid() -> str:
    return str(uuid.uuid4())


def stable_guid(seed: str) -> str:
    """A GUID-shaped value derived from `seed` (case-insensitively), the same on every run."""
    return str(uuid.UUID(hashlib.sha256(seed.lower().encode()).hexdigest()[:32]))
