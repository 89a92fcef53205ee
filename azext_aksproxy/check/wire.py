"""Bytes on the wire: a TCP stream with a deadline, TLS layered on any stream, and HTTP/1.1 response heads.

TLS runs over memory BIOs rather than ``wrap_socket`` so that it can be stacked: a CONNECT tunnel through an
``https://`` proxy is TLS to the target inside TLS to the proxy. Certificates are not verified during the
handshake (chain.py verifies the presented chain afterwards, against more than one set of anchors).
"""
from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, Union

_T = TypeVar("_T")

USER_AGENT = "aksproxy-check"
_MAX_HEAD = 64 * 1024  # a response head larger than this is not HTTP we can judge


class WireError(Exception):
    """A step failed: ``stage`` says which ("connect", "proxy-tls", "tunnel", "tls", "http")."""

    def __init__(self, stage: str, reason: str):
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


class TcpStream:
    """A connected socket whose every read and write is bounded by one deadline (``time.monotonic()``)."""

    def __init__(self, host: str, port: int, deadline: float):
        self.deadline = deadline
        try:
            self.sock = socket.create_connection((host, port), timeout=self._remaining())
        except socket.gaierror as exc:
            raise WireError("connect", f"cannot resolve {host}: {exc.strerror or exc}") from None
        except TimeoutError:
            raise WireError("connect", f"no answer from {host}:{port} (timed out)") from None
        except OSError as exc:
            raise WireError("connect", f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        return remaining

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(self._remaining())
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        self.sock.settimeout(self._remaining())
        return self.sock.recv(size)

    def close(self) -> None:
        self.sock.close()


def client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # verified afterwards, see the module docstring
    context.set_alpn_protocols(["http/1.1"])
    return context


# What a TLS stream reads from and writes to: a TCP connection, or another TLS stream inside it (an https:// proxy).
Stream = Union["TcpStream", "TlsStream"]


class TlsStream:
    """TLS client over ``inner`` (a TcpStream or another TlsStream)."""

    def __init__(self, inner: Stream, server_hostname: str, stage: str):
        self.inner = inner
        self.stage = stage
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = client_context().wrap_bio(self._in, self._out, server_hostname=server_hostname)
        try:
            self._pump(self._tls.do_handshake)
        except ssl.SSLError as exc:
            raise WireError(stage, f"TLS handshake failed: {exc.reason or exc}") from None

    def _pump(self, operation: Callable[[], _T]) -> _T:
        while True:
            try:
                result = operation()
            except ssl.SSLWantReadError:
                self._flush()
                data = self.inner.recv(65536)
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.inner.sendall(data)

    def sendall(self, data: bytes) -> None:
        self._pump(lambda: self._tls.write(data))

    def recv(self, size: int) -> bytes:
        try:
            return self._pump(lambda: self._tls.read(size))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def peer_chain_der(self) -> list[bytes]:
        """The certificates the peer presented, leaf first (only the leaf where Python cannot tell more)."""
        chain = getattr(self._tls, "get_unverified_chain", None)  # public from Python 3.13
        if chain is None:
            chain = getattr(getattr(self._tls, "_sslobj", None), "get_unverified_chain", None)  # private before 3.13
        if chain is not None:
            certs = chain() or []
            der = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]  # the private chain's DER format constant
            return [c if isinstance(c, bytes) else c.public_bytes(der) for c in certs]
        leaf = self._tls.getpeercert(binary_form=True)
        return [leaf] if leaf else []


@dataclass
class ResponseHead:
    status: int
    reason: str
    headers: dict[str, str]


def read_head(stream: Stream, stage: str) -> ResponseHead:
    """Read an HTTP/1.x status line and headers; the body is left unread."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            raise WireError(stage, "the response head is larger than 64 KiB")
        chunk = stream.recv(65536)
        if not chunk:
            what = "closed the connection without answering" if not data else "closed the connection mid-answer"
            raise WireError(stage, what)
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise WireError(stage, f"answered something that is not HTTP: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return ResponseHead(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)


def request(stream: Stream, method: str, target: str, host: str, stage: str) -> ResponseHead:
    """Send one request with no body and read the response head."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}", "Accept: */*"]
    if method != "CONNECT":
        lines.append("Connection: close")
    stream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
    return read_head(stream, stage)


def elapsed_ms(start: float) -> int:
    return round((time.monotonic() - start) * 1000)
