"""noProxy matching (config/bypass.py): Go's golang.org/x/net/http/httpproxy rules, which the node's components
apply; the check decides with it which targets go around the proxy."""
import pytest

from azext_aksproxy.config.bypass import NoProxy


@pytest.mark.parametrize("entries, host, port, covering", [
    # a plain name covers itself and its subdomains, not look-alikes
    (["corp.com"], "corp.com", 443, "corp.com"),
    (["corp.com"], "git.corp.com", 443, "corp.com"),
    (["corp.com"], "a.b.corp.com", 443, "corp.com"),
    (["corp.com"], "evilcorp.com", 443, None),
    (["corp.com"], "corp.com.evil.net", 443, None),
    # a leading dot, or Go's `*.` spelling of it: subdomains only
    ([".corp.com"], "git.corp.com", 443, ".corp.com"),
    ([".corp.com"], "corp.com", 443, None),
    (["*.corp.com"], "git.corp.com", 443, "*.corp.com"),
    (["*.corp.com"], "corp.com", 443, None),
    # case and surrounding space do not matter
    (["  Corp.COM "], "GIT.corp.com", 443, "  Corp.COM "),
    # IP addresses and CIDRs cover addresses, never names
    (["10.1.2.3"], "10.1.2.3", 443, "10.1.2.3"),
    (["10.1.2.3"], "10.1.2.4", 443, None),
    (["10.0.0.0/8"], "10.200.0.1", 80, "10.0.0.0/8"),
    (["10.0.0.0/8"], "11.0.0.1", 80, None),
    (["10.0.0.0/8"], "10.example.com", 80, None),
    (["fd00::/8"], "fd12::1", 443, "fd00::/8"),
    (["fd00::/8"], "[fd12::1]", 443, "fd00::/8"),
    (["fd00::/8"], "10.0.0.1", 443, None),
    (["::1"], "::1", 443, "::1"),
    # names never cover IP addresses, even when they look alike
    (["1.2.3"], "10.1.2.3", 443, None),
    # host:port covers only that port
    (["corp.com:8443"], "git.corp.com", 8443, "corp.com:8443"),
    (["corp.com:8443"], "git.corp.com", 443, None),
    (["10.1.2.3:80"], "10.1.2.3", 443, None),
    (["[fd00::1]:443"], "fd00::1", 443, "[fd00::1]:443"),
    # `*` covers everything; empty and malformed entries are skipped, as Go does
    (["*"], "anything.example", 1, "*"),
    (["", "10.0.0.0/33", ":80", "corp.com"], "corp.com", 443, "corp.com"),
    (["", "10.0.0.0/33", ":80"], "10.0.0.1", 80, None),
    # the first covering entry is reported
    (["git.corp.com", "corp.com"], "git.corp.com", 443, "git.corp.com"),
    # loopback is not exempt here (Go never proxies it; the check is about the proxy, see the module docstring)
    ([], "127.0.0.1", 443, None),
    ([], "localhost", 443, None),
])
def test_covering(entries, host, port, covering):
    assert NoProxy(entries).covering(host, port) == covering


def test_trailing_dot_is_compared_literally_as_go_does():
    # AKS accepts `svc.cluster.local.`; Go's matcher then no longer covers `x.svc.cluster.local`.
    assert NoProxy(["svc.cluster.local."]).covering("x.svc.cluster.local", 443) is None
    assert NoProxy(["svc.cluster.local."]).covering("x.svc.cluster.local.", 443) == "svc.cluster.local."
