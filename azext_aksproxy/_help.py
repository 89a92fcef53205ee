"""Help for aksproxy's commands, and what it adds to core's `aks create` / `aks update` help."""
from knack.help_files import helps

# Added to core's help entries for the wrapped commands (merged by merge_core_help, only when help is shown).
CORE_HELP_ADDITIONS = {
    "aks create": {
        "parameters": [
            {"name": "--http-proxy-config", "type": "string",
             "short-summary": "HTTP proxy configuration file (JSON), validated by aksproxy before anything is sent.",
             "long-summary": "Keys: httpProxy, httpsProxy, noProxy (list), trustedCa (base64 of PEM), enabled. "
                             "Every problem is reported at once, with the field, the value (secrets masked) and "
                             "the fix; nothing is written while any remains. Write one with "
                             "`az aks http-proxy generate`, check one with `az aks http-proxy validate`."},
            {"name": "--check-proxy", "type": "bool",
             "short-summary": "Reach the proxies from this machine first; create nothing if the check fails."},
        ],
        "examples": [
            {"name": "Create a cluster behind an HTTP proxy (the config is validated first).",
             "text": "az aks create -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--generate-ssh-keys"},
        ],
    },
    "aks update": {
        "parameters": [
            {"name": "--http-proxy-config", "type": "string",
             "short-summary": "New HTTP proxy configuration file (JSON), validated by aksproxy before anything "
                              "is sent.",
             "long-summary": "Replaces the cluster's whole httpProxyConfig; what it removes (a trustedCa, noProxy "
                             "entries) is announced. A disabled proxy stays disabled unless --enable-http-proxy. "
                             "Refused on clusters with Windows or availability-set node pools. Node-level "
                             "settings apply after a node image upgrade: add --upgrade-node-image."},
            {"name": "--upgrade-node-image", "type": "bool",
             "short-summary": "After the update, upgrade the node image of every pool and follow it to the end."},
            {"name": "--check-proxy", "type": "bool",
             "short-summary": "Reach the proxies from this machine first; update nothing if the check fails."},
        ],
        "examples": [
            {"name": "Rotate the proxy CA and roll it out to the nodes.",
             "text": "az aks update -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--upgrade-node-image"},
            {"name": "Switch to a new proxy after checking it answers from this network.",
             "text": "az aks update -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--check-proxy"},
        ],
    },
}


def merge_core_help() -> None:
    """Add our parameters and examples to core's YAML help for the commands we wrap.

    Parsing core's long YAML costs time, so this runs only when help is requested.
    """
    import yaml

    for command, additions in CORE_HELP_ADDITIONS.items():
        text = helps.get(command)
        if not text or "aksproxy" in text:
            continue
        entry = yaml.safe_load(text)
        ours = {p["name"] for p in additions["parameters"]}
        entry["parameters"] = [p for p in entry.get("parameters", []) if p.get("name") not in ours]
        entry["parameters"] += additions["parameters"]
        entry["examples"] = entry.get("examples", []) + additions["examples"]
        helps[command] = yaml.safe_dump(entry, sort_keys=False)


helps["aks http-proxy"] = """
type: group
short-summary: Check, inspect, write and roll out AKS HTTP proxy configurations (aksproxy).
"""

helps["aks http-proxy validate"] = """
type: command
short-summary: Check an HTTP proxy config file offline, as aks create/update would.
long-summary: >
    Prints every finding (severity, code, JSON path, message, fix). Exits 0 when there is no error; with
    --strict, warnings fail too. With --resource-group and --name, also checks the cluster (Windows or
    availability-set node pools) and announces what an update with this file would remove.
examples:
  - name: Validate a file in a CI pipeline.
    text: az aks http-proxy validate --config proxy.json
  - name: Show the findings as a table, failing on warnings too.
    text: az aks http-proxy validate --config proxy.json --strict -o table
  - name: Validate against an existing cluster.
    text: az aks http-proxy validate --config proxy.json -g MyResourceGroup -n MyManagedCluster
"""
