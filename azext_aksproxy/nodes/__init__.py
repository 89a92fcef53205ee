"""Node images for one cluster's pools: which pools an upgrade starts, how, and what each still needs
(plan; what a proxy change reimages is cluster.pools). Pure (no azure-cli import).
"""
