"""Run commands, both kinds: AKS ``managedClusters/{name}/runCommand`` (what `az aks command invoke` calls) and
the shared machinery that runs a received script on a "node" (tests/armemu/node.py) in a background thread.

AKS runCommand (REST spec Microsoft.ContainerService ManagedClusters_RunCommand / GetCommandResult; az's
`aks_runcommand` in acs/custom.py polls it with `RunCommandLocationPolling`, which reads the status from the body):
- ``POST P/runCommand`` body ``{"command", "context" (base64 zip of files), "clusterToken"}`` -> 202, empty body,
  ``Location: P/commandResults/{id}?api-version=...`` and ``Retry-After``;
- ``GET P/commandResults/{id}`` -> 202 ``{"id", "properties": {"provisioningState": "Running"}}`` (+ Location)
  while the command runs; 200 ``{"id", "properties": {"provisioningState": "Succeeded", "exitCode", "startedAt",
  "finishedAt", "logs"}}`` when it is done. The real service runs the command in a pod (namespace aks-command);
  here it runs as ``bash -c COMMAND`` in a fresh directory holding the unzipped context. Which programs the pod's
  image has is not documented (Azure/AKS issue 3034: kubectl and helm, then jq, grep, awk, xargs; network tools
  requested): the "pod" has this machine's, less config ``aks_command_pod_missing_tools`` (e.g. ["curl"]).

The AKS run command's "pod" has a kubectl (tests/armemu/kubectl.py) that answers for the cluster: the pods seeded
with ``PUT /_emu/kube/{rg}/{name}/pods``, and pods it creates, which run on this machine as pods of a node would.
Every pod creation, refusal and deletion is recorded (``GET /_emu/kube/{rg}/{name}``: ``events``); a pod the
command left behind is killed when the command ends and recorded as ``left-running``.

The script runs outside the store lock (it may take seconds); its record is read and written under it.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Any

from . import node
from .resources import cluster_and_body, find_cluster
from .state import Store, cluster_key
from .web import Request, Response, Router, arm_time, error, new_guid, utc_now

# AKS run command truncates its output at 512 KB (MicrosoftDocs/azure-docs PR 115257, "az aks command invoke"
# docs); which end is kept is not documented: keeping the start is a guess.
AKS_LOGS_LIMIT = 512 * 1024
P = "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


@dataclass
class RunRecord:
    """One script run on the "node": started at once in a thread, finished when the subprocess ends."""

    id: str
    kind: str  # "vmss" | "aks"
    target: str  # instance (vmss/instanceId) or cluster
    location: str
    started: Any = field(default_factory=utc_now)
    finished: Any = None
    result: node.NodeRun | None = None
    script_text: str = ""  # what was received, for tests to inspect

    @property
    def done(self) -> bool:
        return self.result is not None

    def describe(self) -> dict:
        out = {"id": self.id, "kind": self.kind, "target": self.target, "done": self.done,
               "script": self.script_text, "startedAt": arm_time(self.started)}
        if self.result is not None:
            out.update(exitCode=self.result.exit_code, stdout=self.result.stdout, stderr=self.result.stderr,
                       timedOut=self.result.timed_out)
        return out


def start_run(store: Store, kind: str, target: str, location: str, argv: list, files: dict, node_env: dict,
              script_text: str, hidden_tools: tuple = (), kube: dict | None = None) -> RunRecord:
    """Register a run and start its subprocess in a thread (the caller holds the store lock). ``kube``: the
    cluster as kubectl in the run command pod sees it (AKS run command only)."""
    record = RunRecord(new_guid().replace("-", ""), kind, target, location, script_text=script_text)
    store.run_commands[record.id] = record
    timeout = float(store.config["run_command_timeout_seconds"])
    kube_dir, path, env = None, None, dict(node_env)
    if kube is not None:
        kube_dir, path = _kube_state(kube, record.id, node_env, hidden_tools)
        env.update(ARMEMU_KUBE_DIR=kube_dir, HOSTNAME=kube["runPod"]["name"])

    def work() -> None:
        result = node.run_script(argv, files, env, timeout=timeout, hidden_tools=hidden_tools, search_path=path)
        events = _kube_events(kube_dir) if kube_dir else []
        with store.lock:
            record.result, record.finished = result, utc_now()
            if kube_dir:
                store.kube_events.setdefault(target, []).extend(events)

    threading.Thread(target=work, daemon=True, name=f"armemu-run-{record.id[:8]}").start()
    return record


def kube_view(store: Store, cluster) -> dict:
    """What kubectl in the run command pod of ``cluster`` answers from (see tests/armemu/kubectl.py)."""
    from .compute import linux_node_names  # compute imports this module

    nodes = linux_node_names(cluster)
    return {"pods": store.kube_pods.get("/".join(cluster.key), []), "nodes": nodes,
            "admission": store.config["kube_admission"], "podBehaviour": store.config["kube_pod_behaviour"],
            "user": "aks-command-user",  # guess: the identity the run command's kubectl acts as
            "runPod": {"namespace": "aks-command", "name": f"command-{new_guid()[:8]}",
                       "image": store.config["aks_command_pod_image"]}}


def _kube_state(kube: dict, run_id: str, node_env: dict, hidden_tools: tuple) -> tuple[str, str]:
    """A directory holding kubectl's state for one run, and the run command pod's PATH (kubectl first)."""
    directory = tempfile.mkdtemp(prefix=f"armemu-kube-{run_id[:8]}-")
    bin_dir = os.path.join(directory, "bin")
    os.mkdir(bin_dir)
    kubectl = os.path.join(bin_dir, "kubectl")
    with open(kubectl, "w") as handle:
        handle.write(f"#!/bin/sh\nexec {sys.executable} {os.path.join(os.path.dirname(__file__), 'kubectl.py')} "
                     "\"$@\"\n")
    os.chmod(kubectl, 0o755)
    image_path = node.path_without(directory, hidden_tools) if hidden_tools else node.NODE_PATH
    with open(os.path.join(directory, "cluster.json"), "w") as handle:
        json.dump({**kube, "imagePath": image_path, "nodePath": node.NODE_PATH, "nodeEnv": node_env}, handle)
    return directory, f"{bin_dir}:{image_path}"


def _kube_events(directory: str) -> list:
    """The run's pod events; pods still there when the command ended are killed and recorded as left running."""
    from . import kubectl

    events = []
    try:
        log = os.path.join(directory, "events.jsonl")
        if os.path.exists(log):  # no kubectl call wrote one
            with open(log) as handle:
                events = [json.loads(line) for line in handle if line.strip()]
        pods = os.path.join(directory, "pods")
        for entry in sorted(os.listdir(pods)) if os.path.isdir(pods) else []:
            pod_dir = os.path.join(pods, entry)
            if not os.path.exists(os.path.join(pod_dir, "deleted")):
                kubectl.kill(pod_dir)
                namespace, name = entry.split("_", 1)
                events.append({"verb": "left-running", "namespace": namespace, "name": name})
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return events


def busy(store: Store, kind: str, target: str) -> RunRecord | None:
    return next((r for r in store.run_commands.values() if r.kind == kind and r.target == target and not r.done), None)


def _context_files(context: str | None) -> dict:
    """The files of a runCommand ``context``: base64 of a zip (az zips the --file paths)."""
    if not context:
        return {}
    data = base64.b64decode(context, validate=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()
                if not info.is_dir() and not info.filename.startswith("/") and ".." not in info.filename.split("/")}


def register(router: Router, store: Store) -> None:
    def result_url(req: Request, record: RunRecord) -> str:
        cluster_path = req.path.rsplit("/", 1)[0]  # the POST's path without /runCommand
        return f"{req.base_url}{cluster_path}/commandResults/{record.id}?api-version={req.query.get('api-version', '')}"

    def run_command(req: Request) -> Response:
        cluster, body, err = cluster_and_body(store, req)
        if err:
            return err
        command = (body or {}).get("command")
        if not isinstance(command, str) or not command.strip():
            return error(400, "InvalidParameter", "Command cannot be empty.", target="command")
        if cluster.props.get("apiServerAccessProfile", {}).get("disableRunCommand"):
            return error(400, "RunCommandDisabled", "Run command is disabled for this managed cluster.")
        try:
            files = _context_files(body.get("context"))
        except (binascii.Error, zipfile.BadZipFile, ValueError):
            return error(400, "InvalidParameter", "The context is not a base64 encoded zip file.", target="context")
        env = node.proxy_environment(cluster.props.get("httpProxyConfig"))
        record = start_run(store, "aks", "/".join(cluster.key), cluster.resource["location"],
                           ["/bin/bash", "-c", command], files, env, command,
                           hidden_tools=tuple(store.config["aks_command_pod_missing_tools"]),
                           kube=kube_view(store, cluster))
        return Response(202, None, {"Location": result_url(req, record),
                                    "Retry-After": str(int(store.config["retry_after"]))})

    def command_result(req: Request) -> Response:
        cluster, err = find_cluster(store, req)
        if err:
            return err
        record = store.run_commands.get(req.params["id"])
        if record is None or record.kind != "aks" or record.target != "/".join(cluster.key):
            return error(404, "NotFound", f"Command result {req.params['id']} was not found.")
        props: dict = {"provisioningState": "Running", "startedAt": arm_time(record.started)}
        if not record.done:
            return Response(202, {"id": record.id, "properties": props},
                            {"Location": f"{req.base_url}{req.path}?api-version={req.query.get('api-version', '')}",
                             "Retry-After": str(int(store.config["retry_after"]))})
        result = record.result
        assert result is not None
        props.update(provisioningState="Succeeded" if not result.timed_out else "Failed",
                     exitCode=result.exit_code, finishedAt=arm_time(record.finished),
                     logs=(result.stdout + result.stderr)[:AKS_LOGS_LIMIT])
        if result.timed_out:
            props["reason"] = "The command timed out."
        return Response(200, {"id": record.id, "properties": props})

    router.add("POST", P + "/runCommand", run_command)
    router.add("GET", P + "/commandResults/{id}", command_result)


def register_control(router: Router, store: Store) -> None:
    """``PUT /_emu/kube/{rg}/{name}/pods`` seeds the pods ``kubectl get pods -A`` lists (a list of core/v1 Pods);
    ``GET /_emu/kube/{rg}/{name}`` returns them with the pod events of every AKS run command on the cluster."""
    def key(req: Request) -> str:
        return "/".join(cluster_key(req.params["rg"], req.params["name"]))

    def pods_put(req: Request) -> Response:
        pods = req.json() or []
        if not isinstance(pods, list):
            return error(400, "BadRequest", "expected a list of pods")
        with store.lock:
            store.kube_pods[key(req)] = pods
        return Response(200, {"pods": pods})

    def kube_get(req: Request) -> Response:
        with store.lock:
            return Response(200, {"pods": store.kube_pods.get(key(req), []),
                                  "events": store.kube_events.get(key(req), [])})

    router.add("PUT", "/_emu/kube/{rg}/{name}/pods", pods_put)
    router.add("GET", "/_emu/kube/{rg}/{name}", kube_get)
