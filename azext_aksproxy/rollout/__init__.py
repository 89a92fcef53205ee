"""How a proxy change reaches the nodes: which pools roll, how, and what each pool still needs.

Pure (no azure-cli import): ARM JSON in, plans and per-pool rows out.
"""
