"""Arguments aksproxy adds; core's aks arguments are registered by the loader before these."""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).


def load_arguments(self, _):
    from azure.cli.core.commands.parameters import file_type, get_enum_type

    check_proxy_help = ("Before writing anything, reach the proxies in the config from this machine and verify "
                        "trustedCa against what they present (see az aks http-proxy check); nothing is written "
                        "if the check fails.")
    with self.argument_context("aks create") as c:
        c.argument("check_proxy", action="store_true", help=check_proxy_help, is_preview=True)
    with self.argument_context("aks update") as c:
        c.argument("check_proxy", action="store_true", is_preview=True,
                   help="Before writing anything, reach the proxies in the config from one of the cluster's nodes "
                        "(or this machine: --check-proxy-from local) and verify trustedCa against what they present "
                        "(see az aks http-proxy check --from-cluster); nothing is written if the check fails.")
        from azext_aksproxy._validators import validate_check_proxy_from
        from azext_aksproxy.adapters.check import FROM_CLUSTER, FROM_LOCAL

        # An argument's validator: a command validator would stop core's argument validators of aks update.
        c.argument("check_proxy_from", arg_type=get_enum_type([FROM_CLUSTER, FROM_LOCAL]), is_preview=True,
                   options_list=["--check-proxy-from"], validator=validate_check_proxy_from,
                   help="Where --check-proxy reaches the proxies from: cluster (default) runs the probes on one of "
                        "the cluster's nodes (scale-set run command, else AKS run command), local from this "
                        "machine.")
        c.argument("upgrade_node_image", action="store_true", is_preview=True,
                   help="Wait until every node runs the new proxy config, each node rolled once, with a per-pool "
                        "result: where AKS reimaged the pools as part of the update (today's service) that is "
                        "followed; pools whose nodes still run an older config are given a node image upgrade. "
                        "Pools it cannot check are named and left alone.")
        c.argument("latest_node_image", action="store_true", is_preview=True,
                   help="Implies --upgrade-node-image, and also moves every pool to its latest node image, even "
                        "pools AKS has just reimaged for the proxy change: those roll twice, and are named before "
                        "anything is written.")

    with self.argument_context("aks http-proxy") as c:
        c.argument("config", options_list=["--config", "--http-proxy-config"], type=file_type,
                   help="Path to the HTTP proxy config JSON file.")
    with self.argument_context("aks http-proxy validate") as c:
        c.argument("resource_group_name", required=False,
                   help="With --name, also check the cluster (node pools, what the update would remove).")
        c.argument("name", required=False)
        c.argument("strict", action="store_true", help="Treat warnings as errors (non-zero exit); --fail-on warning.")
        c.argument("config", options_list=["--config", "--http-proxy-config"], type=file_type,
                   help="Path to the HTTP proxy config JSON file.")
        c.argument("template", options_list=["--template"], type=file_type,
                   help="An ARM template (or a .bicep file, compiled when the Bicep CLI is installed): every "
                        "Microsoft.ContainerService/managedClusters resource, nested deployments included.")
        c.argument("parameters", options_list=["--parameters", "-p"], nargs="+", action="append",
                   help="With --template, as az deployment group create takes them: a parameters file, JSON "
                        "(@FILE) or NAME=VALUE pairs; repeatable. Then each parameter's defaultValue.")
        c.argument("terraform_plan", options_list=["--terraform-plan"], type=file_type,
                   help="The JSON of a Terraform plan (terraform show -json PLAN > plan.json): every "
                        "azurerm_kubernetes_cluster and azapi managedClusters resource, and the reimage an update "
                        "of the proxy config causes.")
        c.argument("fail_on", options_list=["--fail-on"], arg_type=get_enum_type(["error", "warning", "never"]),
                   help="Exit non-zero (after printing the rows) when a finding of this severity or above is "
                        "found; never: always exit 0 unless the input itself is unreadable. Default: error.")
    with self.argument_context("aks http-proxy show") as c:
        c.argument("show_ca_blob", options_list=["--show-ca-blob"], action="store_true",
                   help="Also print trustedCa's base64 value (by default only the decoded certificates).")
    with self.argument_context("aks http-proxy diff") as c:
        c.argument("config", options_list=["--config", "--http-proxy-config"], type=file_type,
                   help="The HTTP proxy config JSON file an update would send.")
    with self.argument_context("aks http-proxy generate") as c:
        from azure.cli.core.commands.parameters import get_three_state_flag

        c.argument("http_proxy", options_list=["--http-proxy"], help="Proxy URL for HTTP traffic (http://...).")
        c.argument("https_proxy", options_list=["--https-proxy"],
                   help="Proxy URL for HTTPS traffic. Default: AKS uses --http-proxy for both.")
        c.argument("no_proxy", options_list=["--no-proxy"], nargs="+",
                   help="Hosts, .domain suffixes, IPs or CIDRs to reach directly; space- or comma-separated.")
        c.argument("trusted_ca_files", options_list=["--trusted-ca-file"], nargs="+", type=file_type,
                   help="PEM files with the CA certificates the proxy's certificate chains up to; several are "
                        "concatenated, then base64-encoded into trustedCa.")
        c.argument("enabled", arg_type=get_three_state_flag(),
                   help="Write \"enabled\" into the file. Default: omitted (an update keeps the cluster's state).")
        c.argument("output_file", options_list=["--output-file"], type=file_type,
                   help="Write the config to this file instead of printing it.")
        c.argument("overwrite_existing", options_list=["--overwrite-existing"], action="store_true",
                   help="Replace --output-file if it exists (by default an existing file is never replaced).")
        c.argument("no_in_cluster_suffixes", options_list=["--no-in-cluster-suffixes"], action="store_true",
                   help="Do not add .svc and .cluster.local to noProxy. By default they are added so that pods reach "
                        "in-cluster services directly (curl and Python ignore the CIDRs AKS adds).")
        c.argument("from_cluster", options_list=["--from-cluster"], action="store_true",
                   help="Write the config of the cluster given by -g/-n as your file: noProxy without the entries AKS "
                        "adds by itself, so that az aks http-proxy diff against the cluster shows no change.")
        c.argument("output_format", options_list=["--format"],
                   arg_type=get_enum_type(["json", "arm", "bicep", "terraform"]),
                   help="json: the config file (--http-proxy-config); arm: an ARM template whose managedClusters "
                        "resource carries it as properties.httpProxyConfig; bicep: the httpProxyConfig object in "
                        "Bicep; terraform: an azurerm http_proxy_config block. Default: json.")
        c.argument("resource_group_name", required=False, help="With --from-cluster: the cluster's resource group.")
        c.argument("name", required=False, help="With --from-cluster: the cluster's name.")
    with self.argument_context("aks http-proxy upgrade-nodes") as c:
        c.argument("nodepool_names", options_list=["--nodepool-names"], nargs="+",
                   help="Space-separated names of the node pools to upgrade. Default: every pool of the cluster.")
        c.argument("yes", options_list=["--yes", "-y"], action="store_true",
                   help="Do not prompt for confirmation (required when stdin is not a terminal).")
        c.argument("timeout", type=int,
                   help="Stop waiting after this many seconds: pools still upgrading are reported as InProgress "
                        "(their upgrades go on in Azure) and the command exits non-zero. Default: no limit.")
    with self.argument_context("aks http-proxy check") as c:
        c.argument("targets", options_list=["--target"], nargs="+", action="extend",
                   help="URLs to reach through the proxy (https:// through httpsProxy with CONNECT, http:// through "
                        "httpProxy); repeatable. Default: az config aksproxy.check_targets, else the public "
                        "endpoints AKS nodes need. With --from-cluster they are added to those endpoints.")
        c.argument("timeout", type=float,
                   help="Seconds to wait for each target (connect, tunnel, TLS and the first response).")
        c.argument("from_cluster", options_list=["--from-cluster"], action="store_true",
                   help="Run the probes on a node of the cluster given by --resource-group and --name (its "
                        "scale set's run command; AKS run command where that is not allowed), through this "
                        "config, before the cluster uses it. Writes nothing to the cluster.")
        c.argument("resource_group_name", required=False,
                   help="With --from-cluster: the cluster's resource group.")
        c.argument("name", options_list=["--name", "-n"], required=False,
                   help="With --from-cluster: the cluster's name.")
        c.argument("nodepool_name", options_list=["--nodepool-name"],
                   help="With --from-cluster: run on a node of this Linux node pool (pools in other subnets may "
                        "reach the proxy differently). Default: the system pool's first running node.")
    with self.argument_context("aks http-proxy audit") as c:
        _fleet_selection(c, "audit", "Audit")
        c.argument("config", options_list=["--config", "--http-proxy-config"], type=file_type,
                   help="A reference HTTP proxy config file: every cluster whose config differs from it is "
                        "reported field by field (config-drift), noProxy entries AKS adds ignored.")
        c.argument("expiring_within", options_list=["--expiring-within"], type=int,
                   help="Report trustedCa certificates that expire within this many days (ca-expiring). "
                        "Default: 30.")
        # fleet.audit_rules.fails() reads these; not imported from there, which would load the rules for every
        # aks command's arguments.
        c.argument("fail_on", options_list=["--fail-on"], arg_type=get_enum_type(["error", "warning", "never"]),
                   help="Exit non-zero (after printing the rows) when a finding of this severity or above is "
                        "found; never: always exit 0 unless the audit itself fails. Default: error.")
        c.argument("report", options_list=["--report"],
                   help="Also write the audit as one self-contained HTML file (summary, CA expiry timeline, a "
                        "sortable and filterable cluster table; nothing secret, nothing fetched) to this path.")

    # ---- aks http-proxy rollout ----
    with self.argument_context("aks http-proxy rollout") as c:
        c.argument("plan_file", options_list=["--plan-file", "-f"],
                   help="The rollout plan (JSON): written by `rollout plan`, read by `rollout apply` and `status`.")
    with self.argument_context("aks http-proxy rollout plan") as c:
        _fleet_selection(c, "select from", "Select from")
        c.argument("cluster_names", options_list=["--names"], nargs="+", help="Only the clusters of these names.")
        c.argument("tags", options_list=["--tags"], nargs="+",
                   help="Only the clusters with these tags: key=value (that value) or key (any value).")
        c.argument("exclude", options_list=["--exclude"], nargs="+",
                   help="Leave these clusters out (listed as excluded, never written): ARM ids, tags key=value, "
                        "or words that match a cluster name or a tag key.")
        c.argument("config", options_list=["--config", "--http-proxy-config"], type=file_type,
                   help="A reference config file: its httpProxy, httpsProxy and trustedCa replace each cluster's "
                        "(each cluster keeps its own noProxy).")
        c.argument("http_proxy", options_list=["--http-proxy"], help="Set httpProxy to this URL.")
        c.argument("https_proxy", options_list=["--https-proxy"], help="Set httpsProxy to this URL.")
        c.argument("add_no_proxy", options_list=["--add-no-proxy"], nargs="+", help="noProxy entries to add.")
        c.argument("remove_no_proxy", options_list=["--remove-no-proxy"], nargs="+",
                   help="noProxy entries to remove.")
        c.argument("add_trusted_ca", options_list=["--add-trusted-ca"], nargs="+", type=file_type,
                   help="PEM files whose certificates are added to each cluster's trustedCa bundle.")
        c.argument("remove_trusted_ca", options_list=["--remove-trusted-ca"], nargs="+",
                   help="Certificates to remove from trustedCa: SHA-256 fingerprints as `openssl x509 -noout "
                        "-fingerprint -sha256` prints them (any case, colons optional), or `expired` for every "
                        "expired one.")
        c.argument("stages", options_list=["--stages"],
                   help="Stage sizes over the clusters to change, smallest clusters first: counts, percentages and "
                        "`rest`. Default: 1,10%,rest (a canary, then 10%, then the rest).")
        c.argument("strategy_file", options_list=["--strategy-file"], type=file_type,
                   help="A Fleet Manager update strategy (JSON: stages of groups with maxConcurrency and "
                        "afterStageWaitInSeconds); clusters join the group their --group-tag tag names.")
        c.argument("group_tag", options_list=["--group-tag"],
                   help="With --strategy-file: the cluster tag naming its update group. Default: "
                        "aksproxy-rollout-group.")
        c.argument("max_concurrency", options_list=["--max-concurrency"],
                   help="With --stages: clusters written at once in a stage, a count or a percentage. Default: 1.")
        c.argument("soak_seconds", options_list=["--soak"], type=int,
                   help="With --stages: seconds to wait after each stage before the next. Default: 0.")
        c.argument("fleet_name", options_list=["--fleet-name"],
                   help="Select the member clusters of this Azure Kubernetes Fleet Manager fleet (in the current "
                        "subscription); with --strategy-file, members join the groups their member `group` names.")
        c.argument("fleet_resource_group", options_list=["--fleet-resource-group"],
                   help="The resource group of --fleet-name.")
        c.argument("fleet_strategy", options_list=["--fleet-strategy"],
                   help="Stage by this update strategy of the fleet (fleets/{fleet}/updateStrategies/{name}).")
    with self.argument_context("aks http-proxy rollout status") as c:
        c.argument("report", options_list=["--report"],
                   help="Also write the rollout's state as one self-contained HTML file (states by stage, held "
                        "and failed clusters, the CAs the new configs trust) to this path.")
    with self.argument_context("aks http-proxy rollout apply") as c:
        c.argument("stage", options_list=["--stage"],
                   help="Run only this stage of the plan (its earlier stages must be finished). Default: all.")
        c.argument("yes", options_list=["--yes", "-y"], action="store_true",
                   help="Do not prompt for confirmation.")
        c.argument("skip_check", options_list=["--skip-check"], action="store_true",
                   help="Write without first checking the new config from one of each cluster's nodes. The check "
                        "is what catches a proxy the nodes cannot use before AKS reimages them: skip it only when "
                        "the nodes cannot run it (no run command allowed) and the config was proven another way.")
        c.argument("allowed_failures", options_list=["--allowed-failures"], type=int,
                   help="Clusters that may fail in this run before it halts. A strategy's stage and group "
                        "maxAllowedFailures are budgets of their own: a failure beyond any one budget halts. "
                        "Default: 0 (the first failure halts).")
        c.argument("timeout", options_list=["--timeout"], type=float,
                   help="Seconds per cluster for the check, the write and the reimage. Default: 10800.")
        c.argument("approve", options_list=["--approve"], nargs="+",
                   help="Pass the strategy's Approval gates at these points, in this run only: STAGE:before, "
                        "STAGE:after, STAGE/GROUP:before or STAGE/GROUP:after (as the plan and a stopped apply "
                        "name them). Without it apply stops before a gate with exit code 7.")
        c.argument("accept_failed", options_list=["--accept-failed"], nargs="+",
                   help="Clusters failed, drifted or unverified before this run whose state you accept: they no "
                        "longer count against --allowed-failures nor hold later stages. ARM ids or "
                        "SUBSCRIPTION_ID/RESOURCE_GROUP/NAME; a name that is not in the plan is refused.")
        c.argument("retry_failed", options_list=["--retry-failed"], action="store_true",
                   help="Check and write again the clusters of the stages run that failed before this run (If-Match "
                        "on the eTag this run reads: a cluster changed meanwhile is never overwritten).")
        c.argument("stop_after", options_list=["--stop-after"],
                   help="Stop starting clusters after this long (90m, 5h30m, 45s or seconds) and exit 6, "
                        "resumable, as on SIGTERM: fit a CI job's maximum duration.")


def _fleet_selection(c, verb: str, capitalised: str) -> None:
    """The subscriptions and resource group a fleet command reads, as audit and rollout plan both take them."""
    c.argument("subscriptions", options_list=["--subscriptions"], nargs="+",
               help=f"Space-separated ids or names of the subscriptions to {verb}. Default: the current subscription.")
    c.argument("all_subscriptions", options_list=["--all-subscriptions"], action="store_true",
               help=f"{capitalised} every subscription the signed-in identity can see.")
    c.argument("resource_group_name", options_list=["--resource-group", "-g"], required=False,
               help="Only the clusters in resource groups of this name.")
