"""A cluster node, as far as a run command can tell: a bash subprocess on this machine.

Both run-command routes (Microsoft.Compute scale-set VM run command, AKS managedClusters runCommand) end here. The
script runs in a fresh temp directory (its working directory, removed afterwards), in its own session (killed as a
group on timeout), with a clean environment holding only what a node's shell has: PATH, HOME, and the proxy
variables of the cluster's CURRENT httpProxyConfig, which AKS writes into the node's /etc/environment. A probe that
leaked them would go through the old proxy; the tests make that observable by pointing them at a dead port.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass

NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class NodeRun:
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False


def proxy_environment(http_proxy_config: dict | None) -> dict:
    """The variables AKS sets on a node for its current proxy config (upper and lower case, as on the node)."""
    cfg = http_proxy_config or {}
    if cfg.get("enabled") is False:
        return {}
    env = {}
    for name, value in (("HTTP_PROXY", cfg.get("httpProxy")), ("HTTPS_PROXY", cfg.get("httpsProxy") or
                                                                 cfg.get("httpProxy")),
                        ("NO_PROXY", ",".join(cfg.get("noProxy") or []) or None)):
        if value:
            env[name] = env[name.lower()] = value
    return env


def path_without(work: str, hidden: tuple[str, ...]) -> str:
    """A PATH of one directory linking every program on NODE_PATH except ``hidden``: an image without them."""
    bin_dir = os.path.join(work, ".image-bin")
    os.mkdir(bin_dir)
    for directory in NODE_PATH.split(":"):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            link = os.path.join(bin_dir, name)
            if name not in hidden and not os.path.lexists(link):
                os.symlink(os.path.join(directory, name), link)
    return bin_dir


def run_script(argv: list[str], files: dict[str, bytes] | None = None, node_env: dict | None = None,
               timeout: float = 5400.0, hidden_tools: tuple[str, ...] = (), search_path: str | None = None) -> NodeRun:
    """Run ``argv`` (e.g. ["bash", "script.sh"]) in a new temp dir holding ``files``; the dir is removed after.
    ``hidden_tools`` are left off the PATH, as on an image that lacks them; ``search_path``, when given, is the PATH."""
    work = tempfile.mkdtemp(prefix="armemu-node-")
    try:
        for name, data in (files or {}).items():
            path = os.path.join(work, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
        search_path = search_path or (path_without(work, hidden_tools) if hidden_tools else NODE_PATH)
        env = {"PATH": search_path, "HOME": work, "LANG": "C.UTF-8", **(node_env or {})}
        proc = subprocess.Popen(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            return NodeRun(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return NodeRun(-9, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), timed_out=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
