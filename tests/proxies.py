"""Real proxies and origins on loopback for the proxy check tests: squid (Debian), mitmdump (PyPI), trustme origins.

Everything listens on 127.0.0.1 on a free port, is started by the test that needs it and is stopped (and its temp
dir removed) when that test is done. `make proxies` installs squid and .venv-mitm; without them the tests fail in
CI (CI=true) and skip elsewhere, saying what to run.
"""
from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import os
import selectors
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

REPO = Path(__file__).resolve().parent.parent
MITMDUMP = REPO / ".venv-mitm" / "bin" / "mitmdump"


def require_binary(name: str) -> str:
    """The path of ``squid`` or ``mitmdump``; fails the test in CI, skips it elsewhere, when missing."""
    if name == "squid":  # /usr/sbin is not on every user's PATH
        candidates = [shutil.which("squid"), "/usr/sbin/squid"]
    else:
        candidates = [str(MITMDUMP)]
    path = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if path is None:
        reason = f"{name} is not installed: run `make proxies` (squid from Debian, mitmdump into .venv-mitm)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_proxy() -> str:
    """A proxy URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/"


def check_env(ca: trustme.CA, tmp_path: Path, *targets: str) -> dict[str, str]:
    """The environment of an az call whose proxy check trusts ``ca`` as the public roots and probes ``targets``
    (the required endpoints by default)."""
    roots = tmp_path / "public-roots.pem"
    ca.cert_pem.write_to_path(str(roots))
    env = {"AZURE_AKSPROXY_PUBLIC_CA_BUNDLE": str(roots)}
    if targets:
        env["AZURE_AKSPROXY_CHECK_TARGETS"] = " ".join(targets)
    return env


def write_config(tmp_path: Path, proxy_url: str, **extra) -> Path:
    """``tmp_path/proxy.json``: a config sending both schemes to ``proxy_url``, with ``extra`` keys."""
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps({"httpProxy": proxy_url, "httpsProxy": proxy_url, "noProxy": ["localhost"], **extra}))
    return path


def b64_pem(*pems: bytes) -> str:
    """A trustedCa value: base64 of the PEM text."""
    return base64.b64encode(b"".join(pems)).decode("ascii")


# --- origins -------------------------------------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"origin ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@dataclass
class Origin:
    url: str
    port: int
    ca: trustme.CA | None  # the CA of its certificate (https origins)


@contextmanager
def origin(ca: trustme.CA | None = None, names: tuple[str, ...] = ("127.0.0.1", "localhost")):
    """An origin on 127.0.0.1 answering 200: HTTPS with a certificate from ``ca`` (trustme) for ``names``, or
    plain HTTP."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    if ca is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*names).configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Origin(f"{'https' if ca else 'http'}://127.0.0.1:{port}/", port, ca)
    finally:
        server.shutdown()
        server.server_close()


# --- processes -----------------------------------------------------------------------------------------------------

@dataclass
class Proxy:
    url: str
    port: int
    workdir: Path


@contextmanager
def _process(argv, port: int, workdir: Path, log: Path, ready_timeout: float = 30.0):
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    try:
        _wait_listening(proc, port, log, ready_timeout)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_listening(proc: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{proc.args[0]} is not listening on {port} after {timeout:g} s:\n"
                       f"{log.read_text(errors='replace')}")


@contextmanager
def _workdir(prefix: str):
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def squid(deny_connect_ports=(), hosts: dict[str, str] | None = None):
    """A plain forward proxy (squid, no interception); CONNECT to ``deny_connect_ports`` is refused (403).
    ``hosts`` ({name: address}) are names only squid resolves: a target behind the proxy that a client cannot
    reach directly."""
    binary = require_binary("squid")
    port = free_port()
    with _workdir("aksproxy-squid-") as work:
        if os.geteuid() == 0:
            work.chmod(0o777)  # squid started as root runs as `proxy` and writes its logs here
        deny = "".join(f"acl refused_ports port {p}\nhttp_access deny CONNECT refused_ports\n"
                       for p in deny_connect_ports)
        (work / "hosts").write_text("".join(f"{address} {name}\n" for name, address in (hosts or {}).items()))
        (work / "squid.conf").write_text(f"""\
http_port 127.0.0.1:{port}
visible_hostname aksproxy-test
acl loopback src 127.0.0.0/8
{deny}http_access allow loopback
http_access deny all
cache deny all
cache_mem 8 MB
pid_filename {work}/squid.pid
cache_log {work}/cache.log
access_log stdio:{work}/access.log
cache_store_log none
coredump_dir {work}
netdb_filename none
pinger_enable off
logfile_rotate 0
shutdown_lifetime 0 seconds
# Loopback targets are IP addresses; a name would be looked up here, which never leaves the machine.
dns_nameservers 127.0.0.1
hosts_file {work}/hosts
""")
        with _process([binary, "-N", "-f", str(work / "squid.conf")], port, work, work / "squid.out"):
            yield Proxy(f"http://127.0.0.1:{port}/", port, work)


@contextmanager
def mitmdump(origin_ca: trustme.CA, certs_pem: bytes | None = None, upstream: str | None = None):
    """An intercepting proxy (mitmdump) with its own CA in ``workdir/mitmproxy-ca-cert.pem``.

    It trusts origins issued by ``origin_ca``; with ``certs_pem`` (key and certificate chain) it presents that
    certificate for every host instead of minting one. With ``upstream`` (a proxy URL, e.g. squid's) it reaches
    origins through that proxy, which resolves names mitmdump cannot, and mints a leaf naming the requested host
    alone (upstream_cert off): a leaf of its own for every host, as an intercepting proxy does.
    """
    binary = require_binary("mitmdump")
    port = free_port()
    with _workdir("aksproxy-mitm-") as work:
        origin_ca.cert_pem.write_to_path(str(work / "origin-ca.pem"))
        argv = [binary, "--listen-host", "127.0.0.1", "--listen-port", str(port), "--set", f"confdir={work}",
                "--set", f"ssl_verify_upstream_trusted_ca={work / 'origin-ca.pem'}", "--quiet"]
        if certs_pem is not None:
            (work / "leaf.pem").write_bytes(certs_pem)
            argv += ["--certs", f"*={work / 'leaf.pem'}"]
        if upstream is not None:
            argv += ["--mode", f"upstream:{upstream}", "--set", "upstream_cert=false"]
        with _process(argv, port, work, work / "mitmdump.out"):
            yield Proxy(f"http://127.0.0.1:{port}/", port, work)


def mitm_ca_pem(proxy: Proxy) -> bytes:
    return (proxy.workdir / "mitmproxy-ca-cert.pem").read_bytes()


# --- many hosts behind an intercepting proxy -----------------------------------------------------------------------

# Distinct host names, all this machine, that only squid resolves: mitmdump in front of it mints a leaf of its own
# for each, as an intercepting proxy does for the endpoints a node reaches (fixtures hosts_origin, hosts_proxy).
MANY_HOSTS_DOMAIN = "hosts.aksproxy.test"
MANY_HOSTS = tuple(f"h{i}.{MANY_HOSTS_DOMAIN}" for i in range(100))


@contextmanager
def black_hole():
    """A port that accepts connections (into the kernel's backlog) and never answers: a hung proxy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


@contextmanager
def tls_front(upstream_port: int, ca: trustme.CA):
    """TLS on a new loopback port, relayed to ``upstream_port`` in clear: turns squid into an https:// proxy."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def relay(client):
        # One thread per connection moves bytes both ways: OpenSSL does not allow one SSL object to be read in one
        # thread while another thread writes to it (an earlier two-thread relay lost tunnels now and then).
        try:
            tls = context.wrap_socket(client, server_side=True)
        except OSError:
            client.close()
            return
        with tls:
            try:
                upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
            except OSError:
                return
            pump(tls, upstream)

    def pump(tls, upstream):
        with upstream, selectors.DefaultSelector() as selector:
            selector.register(tls, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while not stop.is_set():
                # Bytes OpenSSL already decrypted do not make the socket readable again.
                ready = [tls] if tls.pending() else [key.fileobj for key, _ in selector.select(timeout=10)]
                if not ready:
                    return  # idle for 10 s
                for src in ready:
                    dst = upstream if src is tls else tls
                    try:
                        data = src.recv(65536)
                        if not data:
                            return
                        dst.sendall(data)
                    except OSError:
                        return

    def serve():
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(10)
            threading.Thread(target=relay, args=(client,), daemon=True).start()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        server.join(timeout=5)
        listener.close()


def cn_only_chain() -> tuple[bytes, bytes]:
    """(key + CN-only leaf + CA as PEM for mitmdump --certs, the CA's PEM): a leaf for 127.0.0.1 without SANs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, ca):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=2)))
        if ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Legacy Proxy CA")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    leaf = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name,
                 leaf_key.public_key(), ca_key, ca=False)
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption())
    ca_pem = ca.public_bytes(pem)
    return key_pem + leaf.public_bytes(pem) + ca_pem, ca_pem


# Azure CLI's own HTTP-proxy test data: a CA (CN=cli-proxy-vm) whose keyUsage sets encipherOnly and decipherOnly
# without keyAgreement. OpenSSL and Go accept it; cryptography's `cert.extensions` raises on it.
SAMPLE_CONFIG = REPO / "tests" / "corpus" / "good" / "sample-create.json"
# That keyUsage, as DER: digitalSignature, nonRepudiation, keyEncipherment, keyCertSign, cRLSign, encipherOnly,
# decipherOnly (bits 0-2 and 5-8; 7 unused bits in the last byte).
SAMPLE_KEY_USAGE_DER = bytes.fromhex("030307e780")


def azure_cli_sample_ca_pem() -> bytes:
    return base64.b64decode(json.loads(SAMPLE_CONFIG.read_text(encoding="utf-8"))["trustedCa"])


def odd_key_usage_chain() -> tuple[bytes, bytes]:
    """(key + leaf for 127.0.0.1 + CA for mitmdump --certs, the CA's PEM): the CA carries the sample CA's keyUsage
    (SAMPLE_KEY_USAGE_DER) and, unlike the sample CA, can sign."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, NameOID

    ca_key = _new_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Odd Key Usage Proxy CA")])
    ca = _sign(_cert_builder(ca_name, ca_name, ca_key)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, SAMPLE_KEY_USAGE_DER), critical=True)
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("proxy-ca.example")]), critical=False),
               ca_key)
    leaf_pem = _leaf_for_loopback(ca_name, ca_key)
    ca_pem = _pem(ca)
    return leaf_pem + ca_pem, ca_pem


def chain_up_to_the_sample_ca() -> bytes:
    """Key + leaf for 127.0.0.1 + Azure CLI's sample CA, for mitmdump --certs: the leaf names the sample CA as its
    issuer, so mitmdump (OpenSSL) presents the sample CA with it; its signature is not the sample CA's (no one has
    that key here), so the chain does not verify. OpenSSL 3 links a certificate to a likely issuer only when the
    signature algorithm fits the issuer's key, so the leaf is signed with an RSA key like the sample CA's."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    sample_pem = azure_cli_sample_ca_pem()
    sample = x509.load_pem_x509_certificate(sample_pem)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _leaf_for_loopback(sample.subject, forger) + sample_pem


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _cert_builder(subject, issuer, key):
    from cryptography import x509

    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2)))


def _sign(builder, signing_key):
    from cryptography.hazmat.primitives import hashes

    return builder.sign(signing_key, hashes.SHA256())


def _pem(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _leaf_for_loopback(issuer, issuer_key) -> bytes:
    """The private key and a leaf for 127.0.0.1 (SAN IP:127.0.0.1) issued by ``issuer``, as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    key = _new_key()
    leaf = _sign(_cert_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), issuer, key)
                 .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                critical=False), issuer_key)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return key_pem + _pem(leaf)
