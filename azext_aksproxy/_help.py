"""Help for aksproxy's commands, and what it adds to core's `aks create` / `aks update` help."""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).
import json
import re

from knack.help_files import helps

# Added to core's help entries for the wrapped commands (merged by merge_core_help, only when help is shown).
# Our own flags (--check-proxy, --upgrade-node-image) take their help from _params.py: core's YAML has no entry
# for them to override.
CORE_HELP_ADDITIONS = {
    "aks create": {
        "parameters": [
            {"name": "--http-proxy-config", "type": "string",
             "short-summary": "HTTP proxy configuration file (JSON), validated by aksproxy before anything is sent.",
             "long-summary": "Keys: httpProxy, httpsProxy, noProxy (list), trustedCa (base64 of PEM), enabled. "
                             "Every problem is reported at once, with the field, the value (secrets masked) and "
                             "the fix; nothing is written while any remains. Write one with "
                             "`az aks http-proxy generate`, check one with `az aks http-proxy validate`."},
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
                             "Refused on clusters with Windows or availability-set node pools. A change makes "
                             "AKS reimage every node pool as part of the update: the pools, their node counts "
                             "and surge settings are named before anything is written, and a node disruption "
                             "policy that would refuse it (Block, or outside the maintenance window) is refused "
                             "here first. --upgrade-node-image waits until every node runs the new config."},
        ],
        "examples": [
            {"name": "Rotate the proxy CA and wait until every node runs it (each node rolled once).",
             "text": "az aks update -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--upgrade-node-image"},
            {"name": "Rotate the proxy CA and move every pool to its latest node image too (those pools roll "
                     "twice; they are named before anything is written).",
             "text": "az aks update -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--latest-node-image"},
            {"name": "Switch to a new proxy after checking it from one of the cluster's nodes (nothing is written if "
                     "a target fails).",
             "text": "az aks update -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--check-proxy"},
            {"name": "Check the new proxy from this machine instead of a node.",
             "text": "az aks update -g MyResourceGroup -n MyManagedCluster --http-proxy-config proxy.json "
                     "--check-proxy --check-proxy-from local"},
        ],
    },
}


def merge_core_help(args: list[str] | None = None) -> None:
    """Add our parameters and examples to core's YAML help for the commands we wrap (those ``args`` name, if given).

    Runs only when help is requested, and edits core's entry as text: parsing and re-writing its ~50 KB of YAML
    took 0.7 s in pure Python for both commands, still ~30 ms with libyaml, against ~1 ms for the splice.
    """
    for command, additions in CORE_HELP_ADDITIONS.items():
        text = helps.get(command)
        if (args is not None and not _names(args, command)) or not text or "aksproxy" in text:
            continue
        helps[command] = _spliced(text, additions) or _reparsed(text, additions)


def _names(args: list[str], command: str) -> bool:
    """Whether the command line ``args`` holds the words of ``command`` in a row (global options may come first)."""
    words = command.split()
    return any(args[i:i + len(words)] == words for i in range(len(args)))


def _spliced(text: str, additions: dict) -> str | None:
    """Core's YAML with our parameters first in its `parameters` list (az uses the first entry of a name) and our
    examples last in `examples`; None unless `parameters:` and, last, `examples:` are block lists of that text."""
    top = list(re.finditer(r"^\S.*$", text, re.MULTILINE))
    keys = [m.group() for m in top]
    if "parameters:" not in keys or keys[-1:] != ["examples:"]:
        return None
    params_end = top[keys.index("parameters:")].end()
    examples_end = top[-1].end()
    indents = []
    for end in (params_end, examples_end):
        first_item = re.match(r"\n( *)- ", text[end:])
        if first_item is None:
            return None
        indents.append(first_item.group(1))
    p_indent, e_indent = indents

    def items(entries: list, indent: str) -> str:
        return "".join(f"\n{indent}- {json.dumps(entry)}" for entry in entries)  # JSON is YAML flow style

    return (text[:params_end] + items(additions["parameters"], p_indent) + text[params_end:].rstrip("\n")
            + items(additions["examples"], e_indent) + "\n")


def _reparsed(text: str, additions: dict) -> str:
    import yaml

    entry = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # a safe loader either way
    ours = {p["name"] for p in additions["parameters"]}
    entry["parameters"] = [p for p in entry.get("parameters", []) if p.get("name") not in ours]
    entry["parameters"] = additions["parameters"] + entry["parameters"]
    entry["examples"] = entry.get("examples", []) + additions["examples"]
    return yaml.dump(entry, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)


helps["aks http-proxy"] = """
type: group
short-summary: Check, inspect, write and roll out AKS HTTP proxy configurations (aksproxy).
"""

helps["aks http-proxy validate"] = """
type: command
short-summary: Check an HTTP proxy config file, ARM/Bicep template or Terraform plan offline, as aks create/update would.
long-summary: >
    Prints every finding (severity, code, JSON path, message, fix, and the public source the rule rests on). Exits
    0 when there is no error; with --strict (--fail-on warning), warnings fail too. A noProxy without .svc and
    .cluster.local gets a warning: pods' requests to in-cluster services would go to the proxy. With
    --resource-group and --name, also checks the cluster (Windows or availability-set node pools, the monitoring
    add-on's limits), announces what an update with this file would remove, and names the cluster's service CIDR
    and Istio add-on in the in-cluster advice.
    --template checks every managedClusters resource of an ARM template (nested deployments and agentPools child
    resources included; a .bicep file through the Bicep CLI when it is installed), parameters resolved from
    --parameters then defaultValue; an expression aksproxy cannot evaluate exactly is reported as not checked
    (not-evaluated), never guessed. --terraform-plan checks the JSON of a Terraform plan (azurerm_kubernetes_cluster,
    azapi managedClusters) and announces the reimage an update of the proxy config causes, or says when the only
    difference is the noProxy entries AKS adds itself. Rows name the resource and the path in the file.
examples:
  - name: Check an ARM template with its parameters file before deploying it.
    text: az aks http-proxy validate --template azuredeploy.json --parameters azuredeploy.parameters.json
  - name: Check a Bicep file (needs the Bicep CLI installed, az bicep install), one parameter given inline.
    text: az aks http-proxy validate --template main.bicep --parameters proxyHost=proxy.contoso.com
  - name: Stop a Terraform plan before apply on any warning, reimages included.
    text: terraform show -json tfplan > plan.json && az aks http-proxy validate --terraform-plan plan.json --fail-on warning -o table
  - name: Validate a file in a CI pipeline.
    text: az aks http-proxy validate --config proxy.json
  - name: Show the findings as a table, failing on warnings too.
    text: az aks http-proxy validate --config proxy.json --strict -o table
  - name: Validate against an existing cluster.
    text: az aks http-proxy validate --config proxy.json -g MyResourceGroup -n MyManagedCluster
  - name: List each rule that fired with the source it rests on.
    text: az aks http-proxy validate --config proxy.json --query "[].[code, source]" -o tsv
"""

helps["aks http-proxy show"] = """
type: command
short-summary: Show the HTTP proxy configuration in effect on a cluster, and whether its nodes have it yet.
long-summary: >
    Prints enabled, httpProxy, httpsProxy (credentials masked), noProxy, effectiveNoProxy (noProxy plus what AKS
    adds: API server, pod/service/VNet ranges, platform addresses), noProxy split by origin (userNoProxy: what was
    set; aksAddedNoProxy: what AKS wrote into it; possiblyAksAddedNoProxy: CIDRs that may be the VNet address
    space AKS adds, which the cluster object does not say), the trustedCa certificates decoded (subject,
    issuer, SANs, not-after, days left, SHA-256 fingerprint; the base64 value only with --show-ca-blob) and, per
    node pool, two separate answers. runsCurrentProxyConfig (yes / no / unknown, the reason in proxyConfigDetail):
    whether every node runs the cluster's current proxy config, read from the pool's scale set instances in the
    node resource group (latestModelApplied); unknown when they cannot be read. nodeImageCurrent: whether the
    pool is on the latest node image, which says nothing about the proxy config. pendingNodeImageUpgrade and
    nextStep follow the rule upgrade-nodes applies (a stopped pool is not pending). Exits 3 when the cluster
    does not exist.
examples:
  - name: Show the proxy configuration and node image state.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster
  - name: As a table.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster -o table
  - name: List the node pools whose nodes do not run the current proxy config yet.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster --query "nodePools[?runsCurrentProxyConfig=='no'].name" -o tsv
  - name: List the node pools upgrade-nodes would start.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster --query "nodePools[?pendingNodeImageUpgrade].name" -o tsv
  - name: Days until each proxy CA certificate expires.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster --query "trustedCa.certificates[].[subject, daysLeft]" -o tsv
  - name: What was set in noProxy, without the entries AKS added.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster --query userNoProxy
  - name: Save the current trustedCa value to reuse it in a new config file.
    text: az aks http-proxy show -g MyResourceGroup -n MyManagedCluster --show-ca-blob --query trustedCa.base64 -o tsv
"""

helps["aks http-proxy generate"] = """
type: command
short-summary: Write a correct HTTP proxy config file from options (base64 of the CA files done right).
long-summary: >
    Several --trusted-ca-file PEM files are concatenated and base64-encoded on one line. The result is checked by
    the same rules as validate and aks create/update: an error is refused (exit 1, every finding listed, nothing
    written), warnings are printed. Prints the config as JSON, or writes it to --output-file, which is never
    replaced unless --overwrite-existing. enabled is written only when --enabled is given. noProxy gets .svc and
    .cluster.local (said on stderr) so that pods reach in-cluster services directly; --no-in-cluster-suffixes
    leaves them out. --from-cluster -g -n writes a cluster's current config instead: noProxy without the entries
    AKS adds by itself, so that az aks http-proxy diff of the file against the cluster shows no change.
    --format writes the same config for a template (arm: a template whose managedClusters resource carries it as
    properties.httpProxyConfig; bicep: the httpProxyConfig object) or Terraform (terraform: the azurerm
    http_proxy_config block, which has no enabled attribute).
examples:
  - name: Print a config with a custom CA to stdout.
    text: az aks http-proxy generate --http-proxy http://proxy.contoso.com:3128/ --no-proxy localhost 127.0.0.1 .contoso.com --trusted-ca-file proxy-ca.pem
  - name: Write separate HTTP and HTTPS proxies and two CA files to a file.
    text: az aks http-proxy generate --http-proxy http://proxy.contoso.com:3128/ --https-proxy https://proxy.contoso.com:3129/ --trusted-ca-file root.pem issuing.pem --output-file proxy.json
  - name: Reuse an existing NO_PROXY value (comma-separated) and replace an older file.
    text: az aks http-proxy generate --http-proxy http://proxy.contoso.com:3128/ --no-proxy "$NO_PROXY" --output-file proxy.json --overwrite-existing
  - name: Write a cluster's current config as a file to keep in source control (no AKS-added noProxy entries).
    text: az aks http-proxy generate --from-cluster -g MyResourceGroup -n MyManagedCluster --output-file proxy.json
  - name: Leave .svc and .cluster.local out of noProxy.
    text: az aks http-proxy generate --http-proxy http://proxy.contoso.com:3128/ --no-in-cluster-suffixes
  - name: Write the config as an azurerm http_proxy_config block for Terraform.
    text: az aks http-proxy generate --http-proxy http://proxy.contoso.com:3128/ --trusted-ca-file proxy-ca.pem --format terraform
  - name: Write a cluster's config as a Bicep httpProxyConfig object (noProxy without AKS's entries).
    text: az aks http-proxy generate --from-cluster -g MyResourceGroup -n MyManagedCluster --format bicep
  - name: Write an ARM template carrying the config, which validate --template reads back.
    text: az aks http-proxy generate --http-proxy http://proxy.contoso.com:3128/ --format arm --output-file proxy-template.json
"""

helps["aks http-proxy diff"] = """
type: command
short-summary: Show what an update with a config file would change on a cluster, and what must roll afterwards.
long-summary: >
    Field by field (httpProxy, httpsProxy, trustedCa, noProxy, enabled): add, change, remove or keep, with before
    and after. trustedCa is shown as certificates (subject, SHA-256 fingerprint, not-after), never as base64;
    noProxy entries AKS adds itself are set aside (the noProxy row's aksAdded) and not reported as removals. "removed" lists what the update would drop
    (a trustedCa or noProxy entries the file no longer has). "rollout" says what must then roll, with the
    commands: pods re-created for new proxy variables (pods annotated kubernetes.azure.com/no-http-proxy-vars
    "true" are not affected), and the nodes: rollout.nodes.reimage names the pools AKS reimages as part of the
    update (every pool; node counts, maxSurge, maxUnavailable) and the cluster's node disruption policy and
    maintenance window. Writes nothing. A file that validate refuses is refused here (exit 1); a cluster the
    update would refuse (Windows or availability-set pools, a node disruption policy that forbids the reimage
    now) prints the diff and exits 1.
examples:
  - name: Preview an update.
    text: az aks http-proxy diff -g MyResourceGroup -n MyManagedCluster --config proxy.json -o table
  - name: Only the fields that change.
    text: az aks http-proxy diff -g MyResourceGroup -n MyManagedCluster --config proxy.json --query "changes[?action!='keep']"
  - name: The pools and node counts the update would reimage.
    text: az aks http-proxy diff -g MyResourceGroup -n MyManagedCluster --config proxy.json --query "rollout.nodes.reimage.pools[].[name, nodes, maxSurge]" -o tsv
  - name: In CI, fail when the update would remove something.
    text: test "$(az aks http-proxy diff -g MyResourceGroup -n MyManagedCluster --config proxy.json --query "length(removed)")" = 0
"""

helps["aks http-proxy upgrade-nodes"] = """
type: command
short-summary: Upgrade the node image of a cluster's node pools concurrently and follow every pool to the end.
long-summary: >
    An explicit roll of the nodes: today's AKS already reimages every pool when az aks update changes the proxy
    config, so after such an update this command only moves pools to a newer node image (their nodes roll a second
    time). A pool is started when a newer node image exists or when its nodes do not run the cluster's current
    proxy config (the older service, which needed a node image upgrade to carry a proxy change). Every selected
    pool is started at once and followed together, so the whole takes about as long as the slowest pool. Pools in
    Machines mode, stopped pools and pools on their latest image whose nodes run the current config are skipped
    with the reason; Windows and availability-set pools are refused (nothing starts). A pool already upgrading is
    followed, not restarted; a pool busy with another operation is waited for. Prints one row per pool (pool,
    from-image, to-image, status, duration, detail) and exits 0 only if every pool succeeded or was skipped.
    After a partial failure or a --timeout, run the same command again: only what is left is started, and
    running upgrades are followed. Asks before starting unless --yes; with stdin not a terminal, --yes is required.
    With --no-wait the upgrades are started and the command returns; as for every az --no-wait there is no
    output, and what was started or skipped is summed up on stderr.
examples:
  - name: Upgrade every pool and wait for all of them (as a table).
    text: az aks http-proxy upgrade-nodes -g MyResourceGroup -n MyManagedCluster --yes -o table
  - name: Upgrade two pools, giving up waiting after an hour.
    text: az aks http-proxy upgrade-nodes -g MyResourceGroup -n MyManagedCluster --nodepool-names np1 np2 --yes --timeout 3600
  - name: Start the upgrades and return at once; run again without --no-wait later to follow them.
    text: az aks http-proxy upgrade-nodes -g MyResourceGroup -n MyManagedCluster --yes --no-wait
  - name: In CI, print only the pools that did not succeed (the exit code fails the job if any pool failed).
    text: az aks http-proxy upgrade-nodes -g MyResourceGroup -n MyManagedCluster --yes --query "[?status!='Succeeded']"
"""

helps["aks http-proxy check"] = """
type: command
short-summary: Reach endpoints through the config's proxies from this machine or one of the cluster's nodes, and check the TLS the nodes will see.
long-summary: >
    Run it from a machine inside the cluster's network (a self-hosted CI agent, a jump box), or with
    --from-cluster -g -n from one of the cluster's own nodes, before a cluster depends on the proxy. https:// targets go through httpsProxy (httpProxy when it is absent) with a CONNECT
    tunnel, http:// targets through httpProxy as plain HTTP. Each target gets one row: severity, code, the target
    (path), message and fix, plus via, proxy, reached, status, latencyMs and tls (the leaf's subject, issuer and
    SANs, the chain presented, whether it verifies and by what). A chain that leads to a public root passes
    through the proxy untouched; any other chain means the proxy intercepts TLS and must lead to a trustedCa
    certificate. The leaf must carry a subjectAltName for the host: Go components refuse CN-only certificates.
    Targets covered by noProxy (Go's rules: exact name, domain suffix, leading dot, IP, CIDR) are reported as
    bypassing the proxy and are not contacted. Exits non-zero when any target fails; the rows are printed first.
    Codes: reached, bypass, direct (info); proxy-unreachable, proxy-auth-required, connect-refused, proxy-error,
    target-unreachable, tls-handshake, tls-unreadable, tls-untrusted, tls-expired, tls-no-san, tls-name-mismatch (error).
    Default targets (the AKS required outbound endpoints of the public cloud): mcr.microsoft.com,
    westus.data.mcr.microsoft.com (for *.data.mcr.microsoft.com), mcr-0001.mcr-msedge.net, management.azure.com,
    login.microsoftonline.com, packages.microsoft.com, acs-mirror.azureedge.net and packages.aks.azure.com, all
    on 443. Change them for every check and for --check-proxy with
    `az config set aksproxy.check_targets="URL URL ..."` (or AZURE_AKSPROXY_CHECK_TARGETS). Public roots are
    Mozilla's list (certifi), like the node images, not this machine's store; aksproxy.public_ca_bundle
    (AZURE_AKSPROXY_PUBLIC_CA_BUNDLE) points at another PEM bundle. aksproxy.check_timeout sets --check-proxy's
    timeout.
    With --from-cluster the probes run on a node of the cluster (the system pool's first running Linux instance, or
    --nodepool-name's, through its scale set's run command in the node resource group; the next node when one is
    busy), through the
    file's config only: the node's current proxy variables are not used, curl and openssl there gather the facts
    and check each leaf (against the certificate after it or the file's trustedCa, never the node's store), and
    the chain is judged here, against the public roots and the file's trustedCa; 100 distinct hosts take two or
    three run commands (docs/check-from-cluster.md). The cluster is read and its nodes reached in its own subscription
    (--subscription for another one than az's current). There --target adds to the required
    endpoints (aksproxy.check_targets, else the defaults) rather than replacing them. A target that noProxy sends
    direct is tried direct and fails as direct-unreachable when the node cannot reach it. Where the scale-set run
    command is refused (node resource group lockdown: AuthorizationFailed) or there is no Linux node, AKS run
    command (the API of az aks command invoke) starts a short-lived pod on the node with the node's network and
    root filesystem (as kubectl debug node does; the run command pod's own image) and runs the script there
    against the node's curl and openssl, then deletes the pod whatever happened; where Pod Security admission,
    Azure Policy or RBAC refuses that pod, the check fails naming the cause and writes nothing
    (aksproxy.node_pod_timeout: seconds the pod may take, default 120 plus 4 x --timeout). Each row's ranOn says
    where it ran (node NAME, node NAME (pod), or local). The script writes only to a temp dir it removes, sends and
    prints no secret, and the cluster is not written to; a run command takes 20 s or more. Extra codes:
    direct-unreachable, node-no-result (error). `az aks update --check-proxy` takes this route by default.
examples:
  - name: Check the default AKS endpoints through the proxies of a config file.
    text: az aks http-proxy check --config proxy.json -o table
  - name: Check them from one of the cluster's nodes, through the new config, before the update.
    text: az aks http-proxy check --config proxy.json -g MyResourceGroup -n MyManagedCluster --from-cluster -o table
  - name: The same for a cluster in another subscription than az's current one.
    text: az aks http-proxy check --config proxy.json -g MyResourceGroup -n MyManagedCluster --from-cluster --subscription MySubscription -o table
  - name: Check a private registry and a package mirror too, waiting at most 5 seconds for each.
    text: az aks http-proxy check --config proxy.json --target https://myregistry.azurecr.io/ http://mirror.contoso.com/ubuntu/ --timeout 5
  - name: In CI, print only the targets that failed (the exit code fails the job).
    text: az aks http-proxy check --config proxy.json --query "[?severity=='error'].{target:target, code:code, message:message}"
"""

helps["aks http-proxy pods"] = """
type: command
short-summary: List the pods still running with other proxy variables than the cluster's current HTTP proxy config.
long-summary: >
    AKS injects HTTP_PROXY, HTTPS_PROXY and NO_PROXY (and their lower-case forms) into pods as they are created;
    a pod keeps them until it is recreated. After a proxy change that AKS did not roll out (a Block node
    disruption policy, a pool whose reimage failed), pods run with the old settings. This command lists the pods
    through AKS run command (kubectl get pods -A -o json, the API of az aks command invoke; nothing is written),
    compares each container's variables with the current config (NO_PROXY as a set of entries: the order AKS
    writes them in is not documented), and groups the stale pods by namespace and owner (a ReplicaSet's
    Deployment, StatefulSet, DaemonSet, Job, bare pod) with the command that restarts them. Pods annotated
    kubernetes.azure.com/no-http-proxy-vars "true" get no variables from AKS and are listed apart (optedOut).
    Only the pods' names, owners and proxy variables leave the cluster, their credentials masked there by jq in
    the run command's pod (so --debug, which prints the run command's response, shows none). AKS run command
    returns at most 512 KB, which bounds the cluster size this can read.
examples:
  - name: List the stale pods and how to restart them.
    text: az aks http-proxy pods -g MyResourceGroup -n MyManagedCluster
  - name: Only the restart commands.
    text: az aks http-proxy pods -g MyResourceGroup -n MyManagedCluster --query "stale[].restart" -o tsv
  - name: The workloads that opted out of the proxy variables.
    text: az aks http-proxy pods -g MyResourceGroup -n MyManagedCluster --query "optedOut[].[namespace, ownerKind, owner]" -o tsv
"""

helps["aks http-proxy audit"] = """
type: command
short-summary: Audit the HTTP proxy config of every cluster in one or more subscriptions, in one pass.
long-summary: >
    Lists the clusters with ARM's managedClusters list (a request per subscription and page of clusters, not one
    per cluster; throttling answered with Retry-After is waited out) and runs on each cluster's stored config and
    node pools the rules of `az aks http-proxy validate -g -n`, plus fleet rules: trustedCa certificates expiring
    within --expiring-within days (ca-expiring), a disabled proxy (proxy-disabled) and, with --config, every
    field that differs from a reference file (config-drift; noProxy entries AKS adds are ignored). Prints one row
    per cluster and finding (clean clusters have none) and a summary line on stderr. A subscription that cannot
    be read is a row with the reason (subscription-unreadable), never left out. Exit code 1 when a finding at
    --fail-on or above was found. Writes nothing to Azure; --report also writes an HTML report file.
examples:
  - name: Audit the current subscription.
    text: az aks http-proxy audit -o table
  - name: Every subscription you can see; CAs expiring within 60 days; drift from the fleet's reference config.
    text: az aks http-proxy audit --all-subscriptions --expiring-within 60 --config proxy.json -o table
  - name: Clusters that still use the old proxy or differ from the reference in any field.
    text: az aks http-proxy audit --subscriptions Prod-1 Prod-2 --config proxy.json --query "[?code=='config-drift'].[subscription, resourceGroup, cluster, message]" -o tsv
  - name: In CI, fail on warnings too (expiring CAs, disabled proxies, drift).
    text: az aks http-proxy audit --all-subscriptions --config proxy.json --fail-on warning -o json > audit.json
  - name: A report to open in a browser or keep as a CI artifact (the rows still go to stdout).
    text: az aks http-proxy audit --all-subscriptions --config proxy.json --report fleet-report.html -o none
"""

# ---- aks http-proxy rollout ----
helps["aks http-proxy rollout"] = """
type: group
short-summary: Roll one HTTP proxy change out across many clusters, in stages, each cluster proven before it is written.
long-summary: >
    `plan` edits each selected cluster's own config and writes a plan file to review; `apply` runs it stage by
    stage (check from a node, write with If-Match, follow the reimage; the first failure halts); `status` reads
    every planned cluster from Azure against the plan. Applying the same plan again continues where it stopped.
    Exit codes of apply: 0 done, 4 halted, 5 clusters held, gone or failed within --allowed-failures.
    See docs/fleet-rollout.md.
"""

helps["aks http-proxy rollout plan"] = """
type: command
short-summary: Plan a proxy change across clusters; writes the plan file, writes nothing to Azure.
long-summary: >
    Selects clusters as audit does (subscriptions, resource group, names, tags, less --exclude) and applies the
    edit to the config each cluster stores, so every entry it holds is kept (localhost included). An edit changes
    clusters that have an HTTP proxy; one without is listed as out-of-scope (no HTTP proxy) and never written:
    aksproxy never turns a proxy on across a fleet. A cluster where the edited config would break a validate rule,
    or with a Windows or availability-set pool, is listed as skipped with its findings; the plan covers the
    others. A cluster the edit does not change is unchanged and never written; one whose node disruption policy or
    closed maintenance window would refuse the reimage is held (as az aks update refuses it; a change that may be
    none, only CIDRs that may be an unread VNet's space, is left to the service as az aks update leaves it). The
    plan holds, per cluster, its subscription (name and id), eTag, the config before (proxy URLs masked) and
    after, the changed fields, the pools and nodes AKS will reimage and its stage; and the left-out clusters with
    why. Exit code 0 when a plan is written, 3 when the selection matches no cluster or every selected cluster is
    left out (no plan is written then).
examples:
  - name: Add a new corporate CA to every cluster of two subscriptions; a canary, then 10%, then the rest.
    text: az aks http-proxy rollout plan --subscriptions Prod-1 Prod-2 --add-trusted-ca new-ca.pem --plan-file add-ca.json -o table
  - name: Later, remove the old CA by its SHA-256 fingerprint (or every expired one with `expired`).
    text: az aks http-proxy rollout plan --all-subscriptions --remove-trusted-ca 3F:2A:...:9C --plan-file drop-ca.json
  - name: A new proxy host for the clusters tagged env=prod, 2 at a time, an hour's soak after each stage.
    text: az aks http-proxy rollout plan --tags env=prod --http-proxy http://proxy2.contoso.com:3128/ --https-proxy http://proxy2.contoso.com:3128/ --stages 1,25%,rest --max-concurrency 2 --soak 3600 -f proxy2.json
  - name: Rotate the CA everywhere except one cluster, by name, and the clusters tagged freeze=true.
    text: az aks http-proxy rollout plan --all-subscriptions --add-trusted-ca new-ca.pem --exclude legacy-aks freeze=true -f plan.json -o table
  - name: Stages from a Fleet Manager update strategy; clusters join the group their tag names.
    text: az aks http-proxy rollout plan --add-no-proxy .internal.contoso.com --strategy-file strategy.json --group-tag update-group -f plan.json
  - name: The members of a Fleet Manager fleet, staged by the fleet's own update strategy and member groups.
    text: az aks http-proxy rollout plan --fleet-name platform-fleet --fleet-resource-group fleets --fleet-strategy safe-rollout --add-trusted-ca new-ca.pem -f plan.json
"""

helps["aks http-proxy rollout apply"] = """
type: command
short-summary: Apply a rollout plan, one stage or all; applying it again resumes it.
long-summary: >
    Per cluster: re-read it and refuse it if it changed since the plan (eTag); check the new config from one of
    its nodes (as check --from-cluster, in the cluster's own subscription; one run command per cluster with the
    default targets) and write only if that passes; PUT with If-Match (412: someone else wrote,
    never overwritten); follow AKS's reimage to the end. A failure halts: running clusters are followed, no new
    one starts, no later stage starts. Held clusters are never written; 409 and 429 are waited out. Done clusters
    are not written again and a cluster mid-reimage is followed, so after Ctrl-C or a lost machine the same plan is
    applied again. A Fleet strategy's gates stop it before what they guard: an Approval gate until a run passes it
    with --approve STAGE[/GROUP]:before|after, a ScheduledStart gate until its time; a stage's and a group's
    maxAllowedFailures are budgets beside --allowed-failures. Done means the nodes run the new config (their scale
    sets' latestModelApplied, read in each cluster's own subscription); scale sets that cannot be read leave a
    cluster unverified, never done. A cluster that failed in an earlier run counts against the budgets and holds
    every later stage until named with --accept-failed or written again with --retry-failed. On SIGTERM or at
    --stop-after nothing more starts, writes already sent are recorded, and the command exits 6: apply the same plan
    again to resume. A drifted cluster (changed since the plan, found at the read or by a 412) is never written and
    counts as a failure. Exit codes: 0 done, 4 halted, 5 held/gone/unverified/drifted or failed within the budgets,
    6 stopped, 7 waiting at a gate.
examples:
  - name: Apply every stage.
    text: az aks http-proxy rollout apply --plan-file add-ca.json --yes -o table
  - name: One pipeline stage per rollout stage (approvals between them in the pipeline).
    text: az aks http-proxy rollout apply --plan-file add-ca.json --stage stage-1 --yes
  - name: Let up to 2 clusters fail before halting.
    text: az aks http-proxy rollout apply --plan-file add-ca.json --allowed-failures 2 --yes
  - name: Pass the strategy's Approval gate after the canary stage (the run before stopped there with exit code 7).
    text: az aks http-proxy rollout apply --plan-file plan.json --approve canary:after --yes
  - name: In a CI job limited to 6 hours, stop starting clusters after 5 h 30 min (exit 6); the next job resumes.
    text: az aks http-proxy rollout apply --plan-file add-ca.json --stop-after 5h30m --yes
  - name: Go on past a canary whose failure you accept (the others of its stage and the later stages run).
    text: az aks http-proxy rollout apply --plan-file add-ca.json --accept-failed /subscriptions/SUB/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/canary --yes
  - name: Check and write again the clusters that failed before (after fixing the cause).
    text: az aks http-proxy rollout apply --plan-file add-ca.json --retry-failed --yes
"""

helps["aks http-proxy rollout status"] = """
type: command
short-summary: Each planned cluster's state read from Azure now (done, running, pending, failed, unverified, held, drifted, unchanged, gone).
examples:
  - name: Where the rollout stands.
    text: az aks http-proxy rollout status --plan-file add-ca.json -o table
  - name: The same as one HTML file for a pipeline artifact.
    text: az aks http-proxy rollout status --plan-file add-ca.json --report rollout.html -o none
"""
