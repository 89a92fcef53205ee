"""noProxy's regex fast paths for IPv4 CIDRs and IPv6 addresses must never accept what ipaddress refuses, and must
not change any finding: they only skip work for entries the careful path would accept anyway."""
from __future__ import annotations

import ipaddress

from hypothesis import example, given
from hypothesis import strategies as st

from azext_aksproxy.config import noproxy
from azext_aksproxy.config.noproxy import (
    check_no_proxy,
    is_plain_ipv4_network,
    is_plain_ipv6,
)

# Strings near the two grammars: digits, hex letters, separators, the odd character ipaddress cares about.
near_misses = st.text(alphabet="0123456789abcdefABCDEFg:./%", max_size=45)
ipv4_networks = st.builds(lambda address, prefix: ipaddress.ip_network((address, prefix), strict=False),
                          st.integers(0, 2**32 - 1), st.integers(0, 32))
ipv6_addresses = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


@given(near_misses)
@example("10.0.0.1/8")  # host bits set
@example("010.0.0.0/8")  # leading zero
@example("10.0.0.0/08")
@example("10.0.0.0/33")
@example("1:2:3:4:5:6:7:8::")  # eight groups and `::`
@example("1:2:3:4::5:6:7:8")  # eight groups around `::`
@example("1::2::3")
@example(":::")
@example("12345::")
def test_the_fast_paths_accept_only_what_ipaddress_accepts(entry):
    if is_plain_ipv4_network(entry):
        assert isinstance(ipaddress.ip_network(entry, strict=True), ipaddress.IPv4Network)
    if is_plain_ipv6(entry):
        ipaddress.IPv6Address(entry)


@given(ipv4_networks)
def test_every_ipv4_network_written_plainly_takes_the_fast_path(network):
    assert is_plain_ipv4_network(str(network))


@given(ipv6_addresses)
def test_every_ipv6_address_in_hex_groups_takes_the_fast_path(address):
    assert is_plain_ipv6(address.compressed)
    assert is_plain_ipv6(address.exploded)
    assert is_plain_ipv6(address.compressed.upper())


@given(st.lists(near_misses | ipv4_networks.map(str) | ipv6_addresses.map(str), max_size=12))
def test_findings_are_the_same_with_and_without_the_fast_paths(entries):
    fast = check_no_proxy(entries, "$.noProxy")
    original = noproxy.is_plain_ipv4_network, noproxy.is_plain_ipv6
    noproxy.is_plain_ipv4_network = noproxy.is_plain_ipv6 = lambda entry: False
    try:
        careful = check_no_proxy(entries, "$.noProxy")
    finally:
        noproxy.is_plain_ipv4_network, noproxy.is_plain_ipv6 = original
    assert fast == careful
