"""kubectl as the AKS run command pod sees it, for exactly the calls aksproxy makes (a program on the "pod"'s PATH).

State lives in the directory $ARMEMU_KUBE_DIR that runcommand.py prepares per run: ``cluster.json`` (the seeded
pods, the run command pod, the nodes, the admission that refuses pods, how a created pod behaves, the node's
environment), ``events.jsonl`` (every create, refusal and delete, read back into the emulator's record) and one
directory per created pod. Shapes are Kubernetes' own (core/v1 Pod, List; API docs "Pod v1 core"); the messages
are kubectl's "Error from server (...)" form. What each call does:

- ``get pods -A -o json``: the seeded pods as a v1 List;
- ``get pod NAME -n NS -o jsonpath={.spec.containers[0].image}|{.status.phase}``: the run command pod (Running) or
  a created pod (Pending, Running, Succeeded, Failed); unknown: NotFound, exit 1;
- ``create|apply -f FILE``: admission first (config ``kube_admission``: PodSecurity baseline, Gatekeeper, RBAC,
  each refusing with its own wording), then the pod starts: its command runs on this machine in its own session
  (it outlives kubectl, as a pod does). ``chroot /host CMD`` runs CMD with the node's programs when the node's /
  is mounted at /host (this machine's / is the "node"'s); anything else runs with the image's programs (those of
  the run command pod: config ``aks_command_pod_missing_tools`` hidden). The container gets the cluster's proxy
  variables unless annotated ``kubernetes.azure.com/no-http-proxy-vars: "true"`` (AKS docs "HTTP proxy");
- ``logs NAME -n NS``: the container's stdout then stderr;
- ``delete pod NAME -n NS [...]``: kills the pod's processes; recorded.
Anything else: exit 1 with "unknown" (a call aksproxy does not make is a test failure, not a silent success).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

STATE = os.environ.get("ARMEMU_KUBE_DIR", "")


def _load() -> dict:
    with open(os.path.join(STATE, "cluster.json")) as handle:
        return json.load(handle)


def _event(**event) -> None:
    with open(os.path.join(STATE, "events.jsonl"), "a") as handle:
        handle.write(json.dumps({"at": time.time(), **event}) + "\n")


def _pod_dir(namespace: str, name: str) -> str:
    return os.path.join(STATE, "pods", f"{namespace}_{name}")


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(message + "\n")
    return code


def _opt(args: list, *names: str, default: str | None = None) -> str | None:
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return default


def _phase(directory: str) -> str:
    if os.path.exists(os.path.join(directory, "rc")):
        with open(os.path.join(directory, "rc")) as handle:
            return "Succeeded" if handle.read().strip() == "0" else "Failed"
    return "Running" if os.path.exists(os.path.join(directory, "pid")) else "Pending"


def _get(args: list, state: dict) -> int:
    output = _opt(args, "-o", "--output") or ""
    if args[:1] == ["pods"] and ("-A" in args or "--all-namespaces" in args) and output == "json":
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": state["pods"],
                          "metadata": {"resourceVersion": ""}}))
        return 0
    if args[:1] != ["pod"] or len(args) < 2 or not output.startswith("jsonpath="):
        return _fail(f"error: unknown get (emulator): {args}")
    name, namespace, path = args[1], _opt(args, "-n", "--namespace", default="default"), output[9:].strip("'")
    run_pod = state["runPod"]
    if (namespace, name) == (run_pod["namespace"], run_pod["name"]):
        image, phase = run_pod["image"], "Running"
    else:
        directory = _pod_dir(namespace, name)
        if not os.path.isdir(directory) or os.path.exists(os.path.join(directory, "deleted")):
            return _fail(f'Error from server (NotFound): pods "{name}" not found')
        with open(os.path.join(directory, "pod.json")) as handle:
            image = json.load(handle)["spec"]["containers"][0]["image"]
        phase = _phase(directory)
    values = {"{.spec.containers[0].image}": image, "{.status.phase}": phase}
    if path not in values:
        return _fail(f"error: unknown jsonpath (emulator): {path}")
    sys.stdout.write(values[path])
    return 0


def _baseline_violations(spec: dict) -> list:
    """What the Pod Security Standards' baseline level forbids (Kubernetes docs "Pod Security Standards"), as the
    API server lists it; only the controls a node probe pod touches are modelled."""
    out = []
    hosts = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    if hosts:
        out.append(f"host namespaces ({', '.join(hosts)})")
    volumes = [v["name"] for v in spec.get("volumes", []) if "hostPath" in v]
    if volumes:
        out.append(f"hostPath volumes ({', '.join(repr(v).replace(chr(39), chr(34)) for v in volumes)})")
    for c in spec.get("containers", []):
        if (c.get("securityContext") or {}).get("privileged"):
            out.append(f'privileged (container "{c["name"]}" must not set securityContext.privileged=true)')
    return out


def _admission(pod: dict, state: dict, file: str) -> str | None:
    kind, name, ns = state["admission"], pod["metadata"]["name"], pod["metadata"].get("namespace", "default")
    prefix = f'Error from server (Forbidden): error when creating "{file}": '
    if kind == "RBAC":
        return (prefix + f'pods is forbidden: User "{state["user"]}" cannot create resource "pods" in API group "" '
                f'in the namespace "{ns}"')
    if kind == "PodSecurity":
        violations = _baseline_violations(pod["spec"])
        if violations:
            return prefix + f'pods "{name}" is forbidden: violates PodSecurity "baseline:latest": ' + ", ".join(
                violations)
    if kind == "Gatekeeper" and pod["spec"].get("hostNetwork"):
        # Guess: the wording of Azure Policy's built-in "host network and ports" constraint.
        return (prefix + 'admission webhook "validation.gatekeeper.sh" denied the request: '
                "[azurepolicy-k8sazurev3hostnetworkingports-0a1b2c] The specified hostNetwork and hostPort are not "
                f"allowed, pod: {name}. Allowed values: {{\"max\": 0, \"min\": 0}}")
    return None


def _start(pod: dict, state: dict, directory: str) -> None:
    spec, container = pod["spec"], pod["spec"]["containers"][0]
    command = list(container.get("command") or []) + list(container.get("args") or [])
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    root_volumes = {v["name"] for v in spec.get("volumes", []) if (v.get("hostPath") or {}).get("path") == "/"}
    path = state["imagePath"]
    if command[:2] == ["chroot", "/host"]:
        if mounts.get("/host") not in root_volumes:
            command = ["sh", "-c", ("echo \"chroot: cannot change root directory to '/host': No such file or "
                                   "directory\" >&2; exit 125")]
        else:
            command, path = command[2:], state["nodePath"]
    if state["podBehaviour"] == "fail":
        command = ["sh", "-c", "echo 'exec /usr/sbin/chroot: exec format error' >&2; exit 1"]
    annotations = pod["metadata"].get("annotations") or {}
    env = {"PATH": path, "HOME": directory, "LANG": "C.UTF-8", "HOSTNAME": spec.get("nodeName") or "node"}
    if annotations.get("kubernetes.azure.com/no-http-proxy-vars") != "true":
        env.update(state["nodeEnv"])
    runner = 'cd "$D" && "$@" >"$D/out" 2>"$D/err"; echo $? >"$D/rc.tmp"; mv "$D/rc.tmp" "$D/rc"'
    proc = subprocess.Popen(["/bin/sh", "-c", runner, "sh", *command], env={**env, "D": directory},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    with open(os.path.join(directory, "pid"), "w") as handle:
        handle.write(str(proc.pid))


def _create(args: list, state: dict) -> int:
    file = _opt(args, "-f", "--filename")
    if not file:
        return _fail("error: must specify one of -f and -k")
    with open(file) as handle:
        pod = json.load(handle)
    if pod.get("kind") != "Pod":
        return _fail(f"error: only Pods are modelled (emulator), not {pod.get('kind')}")
    meta = pod["metadata"]
    name, namespace = meta["name"], meta.get("namespace", "default")
    refusal = _admission(pod, state, file)
    if refusal:
        _event(verb="create", namespace=namespace, name=name, allowed=False, message=refusal, pod=pod)
        return _fail(refusal)
    directory = _pod_dir(namespace, name)
    if os.path.isdir(directory):
        return _fail(f'Error from server (AlreadyExists): error when creating "{file}": pods "{name}" already exists')
    os.makedirs(directory)
    with open(os.path.join(directory, "pod.json"), "w") as handle:
        json.dump(pod, handle)
    node = pod["spec"].get("nodeName")
    _event(verb="create", namespace=namespace, name=name, allowed=True, node=node, pod=pod)
    if state["podBehaviour"] != "hang" and (node is None or node in state["nodes"]):
        _start(pod, state, directory)
    print(f"pod/{name} created")
    return 0


def kill(directory: str) -> None:
    try:
        with open(os.path.join(directory, "pid")) as handle:
            os.killpg(int(handle.read()), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def _delete(args: list) -> int:
    if args[:1] != ["pod"] or len(args) < 2:
        return _fail(f"error: unknown delete (emulator): {args}")
    name, namespace = args[1], _opt(args, "-n", "--namespace", default="default")
    directory = _pod_dir(namespace, name)
    if not os.path.isdir(directory) or os.path.exists(os.path.join(directory, "deleted")):
        if "--ignore-not-found" in args or "--ignore-not-found=true" in args:
            return 0
        return _fail(f'Error from server (NotFound): pods "{name}" not found')
    kill(directory)
    open(os.path.join(directory, "deleted"), "w").close()
    _event(verb="delete", namespace=namespace, name=name, phase=_phase(directory))
    print(f'pod "{name}" deleted')
    return 0


def _logs(args: list) -> int:
    name = args[0].split("/", 1)[-1] if args else ""
    directory = _pod_dir(_opt(args, "-n", "--namespace", default="default"), name)
    if not os.path.isdir(directory):
        return _fail(f'Error from server (NotFound): pods "{name}" not found')
    for stream in ("out", "err"):
        try:
            with open(os.path.join(directory, stream)) as handle:
                sys.stdout.write(handle.read())
        except OSError:
            pass
    return 0


def main(argv: list) -> int:
    state = _load()
    verb, args = (argv[0], argv[1:]) if argv else ("", [])
    if verb == "get":
        return _get(args, state)
    if verb in ("create", "apply"):
        return _create(args, state)
    if verb == "delete":
        return _delete(args)
    if verb == "logs":
        return _logs(args)
    return _fail(f"error: unknown command {verb!r} for kubectl (emulator: not a call aksproxy makes)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
