"""The main job, end to end, as a user would see it: `make demo` (or `python -m tests.demo`).

Starts the local ARM emulator, installs the freshly built aksproxy wheel into an isolated real az, and runs:
write a config, validate it, see a broken one refused, create a cluster behind the proxy, preview an update,
update (AKS reimages every pool; --upgrade-node-image follows it, each node rolled once), show what is in effect,
per pool whether its nodes run it, audit a fleet (its HTML report kept in build/demo/), and roll a change out
across clusters in stages, each proven from one of its nodes through a real squid on loopback. Every command and its
output is printed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import trustme

from tests.armemu import start_emulator
from tests.azcli import AzSession
from tests.fleet import mixed_fleet

REPO_ROOT = Path(__file__).resolve().parents[1]
RG, CLUSTER = "rg1", "demo"
REPORT = REPO_ROOT / "build" / "demo" / "fleet-report.html"  # the fleet audit's HTML report, kept after the demo
ROLLOUT_REPORT = REPORT.with_name("rollout-report.html")  # the staged rollout's state, the same way


def banner(text: str) -> None:
    print(f"\n\033[1m## {text}\033[0m" if sys.stdout.isatty() else f"\n## {text}", flush=True)


class Demo:
    def __init__(self, session: AzSession, workdir: Path) -> None:
        self.session, self.workdir, self.failures = session, workdir, []

    def run(self, *args: str, expect_rc: int = 0, env: dict | None = None) -> str:
        shown = " ".join(a if " " not in a else f"'{a}'" for a in args)
        print(f"$ az {shown}".replace(str(self.workdir) + "/", ""), flush=True)
        result = self.session.az(*args, env=env)
        for stream in (result.stdout, result.stderr):
            if stream.strip():
                print(stream.rstrip(), flush=True)
        if result.rc != expect_rc:
            self.failures.append(f"az {shown}: exit {result.rc}, expected {expect_rc}")
            print(f"!! exit code {result.rc}, expected {expect_rc}", flush=True)
        return result.stdout

    def file(self, name: str) -> str:
        return str(self.workdir / name)


def find_wheel() -> Path:
    wheels = sorted((REPO_ROOT / "dist").glob("aksproxy-*.whl"))
    if not wheels:
        sys.exit("No wheel in dist/: run `make demo` (it builds one) or `make wheel` first.")
    return wheels[-1]


def tour(demo: Demo, ssh_key: str) -> None:
    ca, rotated_ca = trustme.CA(organization_name="Contoso Proxy CA"), trustme.CA(organization_name="Contoso CA 2027")
    ca.cert_pem.write_to_path(demo.file("proxy-ca.pem"))
    rotated_ca.cert_pem.write_to_path(demo.file("proxy-ca-2027.pem"))

    banner("Write a config file: base64 done right, noProxy checked")
    demo.run("aks", "http-proxy", "generate", "--http-proxy", "http://proxy.contoso.example:3128/",
             "--https-proxy", "http://proxy.contoso.example:3128/",
             "--no-proxy", "localhost", "127.0.0.1", ".contoso.example", "10.0.0.0/8",
             "--trusted-ca-file", demo.file("proxy-ca.pem"), "--output-file", demo.file("proxy.json"))
    print(Path(demo.file("proxy.json")).read_text()[:400] + " ...")

    banner("Validate it, as a CI pipeline would")
    demo.run("aks", "http-proxy", "validate", "--config", demo.file("proxy.json"), "-o", "table")

    banner("A broken file is refused before anything is sent (every problem at once, password masked)")
    Path(demo.file("broken.json")).write_text(
        '{"httpProxyConfig": {"httpProxy": "https://bob:hunter2@proxy:3128"}}', encoding="utf-8")
    demo.run("aks", "create", "-g", RG, "-n", CLUSTER, "--ssh-key-value", ssh_key,
             "--http-proxy-config", demo.file("broken.json"), expect_rc=1)
    Path(demo.file("broken2.json")).write_text(
        '{"httpProxy": "https://bob:hunter2@proxy:3128", "noProxy": ["*.contoso.example", "10.0.0.1/8"],'
        ' "trustedCA": "-----BEGIN CERTIFICATE-----"}', encoding="utf-8")
    demo.run("aks", "create", "-g", RG, "-n", CLUSTER, "--ssh-key-value", ssh_key,
             "--http-proxy-config", demo.file("broken2.json"), expect_rc=1)

    banner("Create a cluster behind the proxy")
    demo.run("aks", "create", "-g", RG, "-n", CLUSTER, "--ssh-key-value", ssh_key, "--node-count", "2",
             "--http-proxy-config", demo.file("proxy.json"), "-o", "table")
    demo.run("aks", "nodepool", "add", "-g", RG, "--cluster-name", CLUSTER, "-n", "user1", "-o", "none")

    banner("Rotate the CA: preview the update (which pools AKS will reimage), then apply it and wait until every "
           "node runs it (each node rolled once, by AKS's own reimage)")
    demo.run("aks", "http-proxy", "generate", "--http-proxy", "http://proxy.contoso.example:3128/",
             "--https-proxy", "http://proxy.contoso.example:3128/",
             "--no-proxy", "localhost", "127.0.0.1", ".contoso.example", "10.0.0.0/8",
             "--trusted-ca-file", demo.file("proxy-ca-2027.pem"), "--output-file", demo.file("proxy-2027.json"))
    demo.run("aks", "http-proxy", "diff", "-g", RG, "-n", CLUSTER, "--config", demo.file("proxy-2027.json"),
             "-o", "table")
    demo.run("aks", "update", "-g", RG, "-n", CLUSTER, "--http-proxy-config", demo.file("proxy-2027.json"),
             "--upgrade-node-image", "-o", "none")

    banner("What is in effect now: per pool, whether its nodes run it, apart from whether a newer image exists")
    demo.run("aks", "http-proxy", "show", "-g", RG, "-n", CLUSTER, "-o", "json")

    banner("Audit a fleet: 100 more clusters in 5 subscriptions, one command, one request per subscription")
    fleet = mixed_fleet(100, 5)
    demo.session.emulator.client.seed_fleet(fleet.subscriptions)
    Path(demo.file("fleet-reference.json")).write_text(json.dumps(fleet.reference), encoding="utf-8")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.unlink(missing_ok=True)
    demo.run("aks", "http-proxy", "audit", "--all-subscriptions", "--config", demo.file("fleet-reference.json"),
             "--report", str(REPORT), "-o", "table", expect_rc=1)
    if not REPORT.is_file():
        demo.failures.append(f"audit --report wrote no {REPORT}")

    rollout_tour(demo)


def rollout_tour(demo: Demo) -> None:
    """The staged rollout, each cluster proven from one of its nodes before its write: through a real squid on
    loopback, to an HTTPS origin on loopback that plays the endpoints AKS nodes need (its CA the public roots)."""
    from tests.proxies import origin, squid

    public_ca = trustme.CA(organization_name="Demo Public Root")
    roots = demo.file("public-roots.pem")
    public_ca.cert_pem.write_to_path(roots)
    with squid() as proxy, origin(public_ca) as endpoints:
        check_env = {"AZURE_AKSPROXY_PUBLIC_CA_BUNDLE": roots, "AZURE_AKSPROXY_CHECK_TARGETS": endpoints.url}
        banner(f"A staged rollout: one noProxy entry for 4 clusters behind the proxy {proxy.url} (squid on "
               "loopback), each keeping its own entries; a canary, then the rest, each checked from one of its "
               "nodes, written with If-Match and followed until AKS has reimaged it; the last one already has it; "
               "a cluster without a proxy is out of scope")
        client = demo.session.emulator.client
        for i, own in enumerate(("team-a.contoso.example", "team-b.contoso.example", "team-c.contoso.example")):
            client.seed_cluster("platform", f"team-{i}", pools=[{"name": "nodepool1", "count": i + 1, "mode": "System"}],
                                http_proxy_config={"httpProxy": proxy.url, "httpsProxy": proxy.url, "noProxy": [own]})
        client.seed_cluster("platform", "team-3", http_proxy_config={
            "httpProxy": proxy.url, "httpsProxy": proxy.url, "noProxy": [".registry.contoso.example"]})
        client.seed_cluster("platform", "sandbox")  # no HTTP proxy: no edit ever turns one on
        demo.run("aks", "http-proxy", "rollout", "plan", "-g", "platform", "--add-no-proxy",
                 ".registry.contoso.example", "--stages", "1,rest", "--max-concurrency", "2", "--plan-file",
                 demo.file("rollout.json"), "-o", "table")
        demo.run("aks", "http-proxy", "rollout", "apply", "--plan-file", demo.file("rollout.json"), "--yes",
                 "-o", "table", env=check_env)
    ROLLOUT_REPORT.unlink(missing_ok=True)
    demo.run("aks", "http-proxy", "rollout", "status", "--plan-file", demo.file("rollout.json"),
             "--report", str(ROLLOUT_REPORT), "-o", "table")
    if not ROLLOUT_REPORT.is_file():
        demo.failures.append(f"rollout status --report wrote no {ROLLOUT_REPORT}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="keep the work directory (az profile, files, logs)")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="aksproxy-demo-"))
    failures = []
    try:
        with start_emulator(workdir / "emulator") as emu:
            banner(f"Local ARM emulator on {emu.arm_url}; az logs in with a managed identity token")
            session = AzSession(emu, workdir / "az")
            wheel = find_wheel()
            print(f"$ az extension add --source {wheel.relative_to(REPO_ROOT)} --yes")
            session.install_extension(wheel)
            demo = Demo(session, workdir)
            tour(demo, session.ssh_key)
            failures = demo.failures
    finally:
        if args.keep:
            print(f"\nWork directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("\nDemo FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"\nFleet report (open it in a browser): {REPORT}")
    print(f"Rollout report: {ROLLOUT_REPORT}")
    print("\nDemo finished: every step behaved as expected.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
