"""HTTP plumbing: the HTTPS ARM server (with the /_emu control surface), the plain-HTTP token server, TLS from a
per-run trustme CA, journal recording and fault injection."""
from __future__ import annotations

import os
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NoReturn

import trustme

from . import control, identity
from .arm import ANONYMOUS, build_router
from .faults import FaultPlan
from .fleet import Fleet
from .journal import Journal
from .state import SUBSCRIPTION_ID, TENANT_ID, Store
from .web import Request, Response, error, new_guid, utc_now

CONTROL_PREFIX = "/_emu"
IDENTITY_PATH = "/msi/token"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "armemu/1.0"
    timeout = 120  # idle keep-alive connections are closed after this

    def log_message(self, fmt: str, *args) -> None:  # quiet unless asked
        if self.server.app.verbose:
            sys.stderr.write(f"armemu {self.server.kind} {fmt % args}\n")

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raw = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
        self.server.app.handle(self, raw)

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, app: Emulator, kind: str, ssl_ctx: ssl.SSLContext | None = None) -> None:
        self.app, self.kind, self.ssl_ctx = app, kind, ssl_ctx
        super().__init__(addr, _Handler)

    def finish_request(self, request, client_address) -> None:
        """The TLS handshake runs here, in the per-connection thread, so a slow client cannot stall accept()."""
        conn = request
        request.settimeout(_Handler.timeout)
        try:
            if self.ssl_ctx is not None:
                conn = self.ssl_ctx.wrap_socket(request, server_side=True)
            self.RequestHandlerClass(conn, client_address, self)
        except _ResetConnection as reset:
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                reset.handler.rfile.close()
                conn.close()
            except OSError:
                pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            if conn is not request:
                try:
                    conn.close()
                except OSError:
                    pass


def _send(handler: _Handler, resp: Response, req: Request, partial: bool = False) -> None:
    body = resp.encoded()
    handler.send_response(resp.status)
    headers = resp.all_headers()
    request_id = new_guid()
    headers.setdefault("x-ms-request-id", request_id)
    headers.setdefault("x-ms-correlation-request-id", request_id)
    if "x-ms-client-request-id" in req.headers:
        headers.setdefault("x-ms-client-request-id", req.headers["x-ms-client-request-id"])
    headers.setdefault("Cache-Control", "no-cache")
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if req.method != "HEAD":
        handler.wfile.write(body[: len(body) // 2] if partial else body)
    handler.wfile.flush()


class _ResetConnection(Exception):
    """Raised out of the handler to drop the connection with a TCP RST (SO_LINGER 0, no TLS close_notify)."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        super().__init__("reset")
        self.handler = handler


def _reset(handler: _Handler) -> NoReturn:
    handler.close_connection = True
    raise _ResetConnection(handler)


class Emulator:
    """The emulator in this process: `start()` serves on background threads, `stop()` shuts down."""

    def __init__(self, state_dir: str, host: str = "127.0.0.1", port: int = 0, identity_port: int = 0,
                 config: dict | None = None, verbose: bool = False) -> None:
        self.verbose = verbose
        self.store = Store(config)
        self.journal = Journal()
        self.faults = FaultPlan()
        self.fleet = Fleet()  # further subscriptions, read-only (fleet.py)
        self.router = build_router(self.store)
        self.control = control.build_router(self)
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = state_dir
        ca = trustme.CA()
        self.ca_path = os.path.join(state_dir, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        self.arm_server = _Server((host, port), self, "arm", ctx)
        self.identity_server = _Server((host, identity_port), self, "identity")
        self._threads: list = []

    @property
    def arm_url(self) -> str:
        host, port = self.arm_server.server_address[:2]
        return f"https://{host}:{port}"

    @property
    def identity_url(self) -> str:
        host, port = self.identity_server.server_address[:2]
        return f"http://{host}:{port}{IDENTITY_PATH}"

    def info(self) -> dict:
        return {"arm_url": self.arm_url, "arm_port": self.arm_server.server_address[1],
                "identity_url": self.identity_url, "identity_port": self.identity_server.server_address[1],
                "ca_path": self.ca_path, "pid": os.getpid(), "subscription_id": SUBSCRIPTION_ID,
                "tenant_id": TENANT_ID, "resource_group": "rg1", "location": "westus2",
                "control_url": self.arm_url + CONTROL_PREFIX}

    def start(self) -> Emulator:
        for srv in (self.arm_server, self.identity_server):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                                 name=f"armemu-{srv.kind}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in (self.arm_server, self.identity_server):
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
        self.journal.clear()
        self.faults.clear()
        self.fleet.clear()

    # request handling
    def handle(self, handler: _Handler, raw: bytes) -> None:
        kind = handler.server.kind
        base = self.arm_url if kind == "arm" else f"http://{handler.server.server_address[0]}:" \
                                                  f"{handler.server.server_address[1]}"
        req = Request.build(handler.command, handler.path, dict(handler.headers.items()), raw, base, kind)
        if kind == "arm" and (req.path == CONTROL_PREFIX or req.path.startswith(CONTROL_PREFIX + "/")):
            req.kind = "control"
            resp = self._run(lambda: self.control.dispatch(req)
                             or error(404, "NotFound", f"No control endpoint {req.method} {req.path}"))[0]
            _send(handler, resp, req)
            return
        t0, wall = time.monotonic(), utc_now()
        rule = self.faults.fire(req)
        fault = rule.describe() if rule else None
        if rule and rule.action == "delay":
            time.sleep(float(rule.params.get("seconds", 5)))
        if rule and rule.action == "status":
            resp = rule.response()
            self._record(req, resp, t0, wall, fault)
            _send(handler, resp, req)
            return
        if rule and rule.action == "reset" and not rule.params.get("apply", True):
            self.journal.record(req, status=None, t_start=t0, t_end=time.monotonic(), wall=wall, fault=fault)
            _reset(handler)
        if rule and rule.action == "operation_result":
            req.op_outcome = rule.outcome()
        resp, exc = self._run(lambda: self._dispatch(req))
        self._record(req, resp, t0, wall, fault, exc)
        if rule and rule.action == "reset":
            _send(handler, resp, req, partial=True)
            _reset(handler)
        else:
            _send(handler, resp, req)

    def _dispatch(self, req: Request) -> Response:
        if req.kind == "identity":
            if req.path.rstrip("/") != IDENTITY_PATH:
                return Response(404, {"error": "not_found", "error_description": f"no such path {req.path}"},
                                unhandled=True)
            return identity.token(req)
        if req.path.rstrip("/").lower() not in ANONYMOUS and \
                not req.headers.get("authorization", "").lower().startswith("bearer "):
            return error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                         headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                                                      'error="invalid_token"'})
        resp = self.fleet.dispatch(self, req)
        if resp is not None:
            return resp
        with self.store.lock:
            self.store.tick()
            resp = self.router.dispatch(req)
        if resp is None:
            resp = error(404, "EmulatorRouteNotFound",
                         f"The ARM emulator has no route for {req.method} {req.path}.")
            resp.unhandled = True
        return resp

    def _run(self, fn) -> tuple:
        try:
            return fn(), None
        except Exception as exc:  # noqa: BLE001 - report any bug as ARM's 500 and keep serving
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            return error(500, "InternalServerError", f"Emulator error: {exc!r}"), tb

    def _record(self, req: Request, resp: Response, t0: float, wall, fault, exc: str | None = None) -> None:
        body = resp.body if isinstance(resp.body, (dict, list)) else None
        self.journal.record(req, status=resp.status, t_start=t0, t_end=time.monotonic(), wall=wall,
                            response_headers=resp.all_headers(), response_body=body, fault=fault,
                            unhandled=resp.unhandled, exception=exc)
