"""Target parsing, and the default AKS endpoints."""
import pytest

from azext_aksproxy.check import (
    DEFAULT_TARGETS,
    Target,
    TargetError,
    parse_target,
    parse_targets,
)


@pytest.mark.parametrize("text, expected", [
    ("https://mcr.microsoft.com/", Target("https", "mcr.microsoft.com", 443, "/")),
    ("https://MCR.microsoft.com", Target("https", "mcr.microsoft.com", 443, "/")),
    ("mcr.microsoft.com", Target("https", "mcr.microsoft.com", 443, "/")),
    ("mcr.microsoft.com:8443", Target("https", "mcr.microsoft.com", 8443, "/")),
    ("HTTP://mirror.contoso.com/ubuntu/dists?x=1#top", Target("http", "mirror.contoso.com", 80, "/ubuntu/dists?x=1")),
    ("https://127.0.0.1:4443/v2/", Target("https", "127.0.0.1", 4443, "/v2/")),
    ("https://[fd00::1]:4443/", Target("https", "fd00::1", 4443, "/")),
    ("https://[fd00::1]", Target("https", "fd00::1", 443, "/")),
    ("  https://a.b/  ", Target("https", "a.b", 443, "/")),
])
def test_parse_target(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize("text, says", [
    ("ftp://mirror/", "scheme must be http or https"),
    ("socks5://proxy:1080/", "scheme must be http or https"),
    ("https:///path", "has no host"),
    ("https://host:0/", "port must be a number from 1 to 65535"),
    ("https://host:65536/", "port must be a number from 1 to 65535"),
    ("https://host:https/", "port must be a number from 1 to 65535"),
    ("https://fd00::1/", "IPv6 address in brackets"),
    ("https://[fd00::1/", "[fd00::1]:443"),
    ("https://[not-v6]/", "is not an IPv6 address"),
])
def test_bad_targets_say_how_to_write_them(text, says):
    with pytest.raises(TargetError) as info:
        parse_target(text)
    assert says in str(info.value)


def test_credentials_in_a_target_are_refused_and_masked():
    with pytest.raises(TargetError) as info:
        parse_target("https://user:s3cret@registry.contoso.com/")
    assert "s3cret" not in str(info.value) and "remove the user info" in str(info.value)


def test_url_authority_and_host_header():
    t = parse_target("https://[fd00::1]:8443/x")
    assert (t.authority, t.host_header, t.url) == ("[fd00::1]:8443", "[fd00::1]:8443", "https://[fd00::1]:8443/x")
    d = parse_target("https://mcr.microsoft.com/")
    assert (d.authority, d.host_header) == ("mcr.microsoft.com:443", "mcr.microsoft.com")


def test_parse_targets_keeps_order_and_drops_duplicates():
    targets = parse_targets(["b.example", "https://a.example/", "https://b.example:443/", "http://b.example/"])
    assert [t.url for t in targets] == ["https://b.example:443/", "https://a.example:443/", "http://b.example:80/"]


def test_default_targets_are_the_aks_required_https_endpoints():
    targets = parse_targets(DEFAULT_TARGETS)
    assert len(targets) == len(DEFAULT_TARGETS)
    assert all(t.scheme == "https" and t.port == 443 for t in targets)
    hosts = {t.host for t in targets}
    assert {"mcr.microsoft.com", "management.azure.com", "login.microsoftonline.com", "packages.microsoft.com",
            "acs-mirror.azureedge.net", "packages.aks.azure.com"} <= hosts
    assert any(h.endswith(".data.mcr.microsoft.com") for h in hosts)
