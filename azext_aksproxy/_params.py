"""Arguments aksproxy adds; core's aks arguments are registered by the loader before these."""


def load_arguments(self, _):
    from azure.cli.core.commands.parameters import file_type

    check_proxy_help = ("Before writing anything, reach the proxies in the config from this machine and verify "
                        "trustedCa against what they present (see az aks http-proxy check).")
    with self.argument_context("aks create") as c:
        c.argument("check_proxy", action="store_true", help=check_proxy_help, is_preview=True)
    with self.argument_context("aks update") as c:
        c.argument("check_proxy", action="store_true", help=check_proxy_help, is_preview=True)
        c.argument("upgrade_node_image", action="store_true", is_preview=True,
                   help="After the update succeeds, upgrade every node pool's node image so that node-level proxy "
                        "settings take effect, and follow the upgrades to the end.")

    with self.argument_context("aks http-proxy") as c:
        c.argument("config", options_list=["--config", "--http-proxy-config"], type=file_type,
                   help="Path to the HTTP proxy config JSON file.")
    with self.argument_context("aks http-proxy validate") as c:
        c.argument("resource_group_name", required=False,
                   help="With --name, also check the cluster (node pools, what the update would remove).")
        c.argument("name", required=False)
        c.argument("strict", action="store_true", help="Treat warnings as errors (non-zero exit).")
    with self.argument_context("aks http-proxy check") as c:
        c.argument("targets", options_list=["--target"], nargs="+", action="extend",
                   help="URLs to reach through the proxy (https:// through httpsProxy with CONNECT, http:// through "
                        "httpProxy); repeatable. Default: az config aksproxy.check_targets, else the public "
                        "endpoints AKS nodes need.")
        c.argument("timeout", type=float,
                   help="Seconds to wait for each target (connect, tunnel, TLS and the first response).")
