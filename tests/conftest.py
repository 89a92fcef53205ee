"""Fixtures shared by the proxy check tests and the `az aks http-proxy check` e2e tests: a test root CA that plays the
public roots, an HTTPS origin it issued, an intercepting mitmdump that trusts it, squid, and many hosts behind
mitmdump and squid (see tests/proxies.py)."""
from __future__ import annotations

import pytest
import trustme

from tests.proxies import MANY_HOSTS, MANY_HOSTS_DOMAIN, mitmdump, origin, squid

# The real az against the local ARM emulator (az_ext, emu, ...), for tests/e2e and the emulator's own tests
# (tests/armemu/tests): a plugin, so each xdist worker starts one emulator and builds one wheel.
pytest_plugins = ["tests.emulated_az"]


@pytest.fixture(scope="module")
def origin_ca():
    return trustme.CA(organization_name="Public Test Root")


@pytest.fixture(scope="module")
def public_roots(origin_ca):
    """The test root CA as the roots nodes trust without trustedCa (what certifi's bundle is outside tests)."""
    from azext_aksproxy.check.chain import load_pem_certificates

    return load_pem_certificates(origin_ca.cert_pem.bytes())


@pytest.fixture(scope="module")
def https_origin(origin_ca):
    with origin(origin_ca) as o:
        yield o


@pytest.fixture(scope="module")
def mitm(origin_ca):
    with mitmdump(origin_ca) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def squid_proxy():
    with squid() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def hosts_origin(origin_ca):
    """One HTTPS origin whose certificate covers every name of MANY_HOSTS."""
    with origin(origin_ca, names=(f"*.{MANY_HOSTS_DOMAIN}",)) as o:
        yield o


@pytest.fixture(scope="module")
def hosts_proxy(origin_ca):
    """mitmdump in front of squid, which alone resolves MANY_HOSTS: a leaf of mitmdump's own for every host."""
    with squid(hosts=dict.fromkeys(MANY_HOSTS, "127.0.0.1")) as upstream, \
            mitmdump(origin_ca, upstream=upstream.url) as proxy:
        yield proxy
