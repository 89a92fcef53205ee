"""The report's shape, HTTP heads on the wire, and secrets kept out of both."""
import io
import socket

import pytest

from azext_aksproxy.check import check_targets, parse_targets
from azext_aksproxy.check.results import CODES, INFO, TargetResult, finding
from azext_aksproxy.check.targets import parse_target
from azext_aksproxy.check.wire import WireError, read_head


class _Bytes:
    """A stream that answers from a buffer in small pieces, as sockets do."""

    def __init__(self, data, piece=7):
        self._buf, self._piece = io.BytesIO(data), piece

    def recv(self, _size):
        return self._buf.read(self._piece)


def test_read_head_parses_status_reason_and_headers():
    head = read_head(_Bytes(b"HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n"
                            b"Content-Length: 3\r\n\r\nabc"), "tunnel")
    assert (head.status, head.reason, head.headers["x-squid-error"]) == (403, "Forbidden", "ERR_ACCESS_DENIED 0")


@pytest.mark.parametrize("data, says", [
    (b"", "closed the connection without answering"),
    (b"HTTP/1.1 200 OK\r\n", "closed the connection mid-answer"),
    (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP"),
])
def test_read_head_failures_say_what_came_back(data, says):
    with pytest.raises(WireError) as info:
        read_head(_Bytes(data), "tunnel")
    assert says in info.value.reason and info.value.stage == "tunnel"


def test_every_code_has_a_known_severity():
    assert {severity for severity, _ in CODES.values()} == {"error", INFO}


def test_row_is_headed_by_the_worst_finding_and_carries_the_details():
    target = parse_target("https://svc.example/")
    result = TargetResult(target, "httpsProxy", "http://proxy:3128/", reached=True, status=200, latency_ms=12,
                          findings=[finding("reached", target, "ok"), finding("tls-no-san", target, "no SAN", "fix")])
    row = result.to_dict()
    assert (row["severity"], row["code"], row["path"], row["fix"]) == ("error", "tls-no-san", target.url, "fix")
    assert [f["code"] for f in row["findings"]] == ["reached", "tls-no-san"]
    assert {k: row[k] for k in ("target", "via", "proxy", "reached", "status", "latencyMs", "tls")} == {
        "target": "https://svc.example:443/", "via": "httpsProxy", "proxy": "http://proxy:3128/", "reached": True,
        "status": 200, "latencyMs": 12, "tls": None}
    assert result.failed and "proxyTls" not in row


def test_proxy_credentials_never_reach_the_report():
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = {"httpProxy": f"http://svc-user:Sup3r$ecret@127.0.0.1:{port}/"}
    (result,) = check_targets(config, parse_targets(["https://svc.example/"]), timeout=2, public_roots=[])
    assert result.findings[0].code == "proxy-unreachable"
    assert "Sup3r" not in repr(result.to_dict()) and "svc-user" not in repr(result.to_dict())
    assert result.proxy == f"http://***@127.0.0.1:{port}/"
