"""The cluster: its model (what AKS adds to noProxy, what the user set, what a file changes),
the rules on a cluster and its pools and add-ons, the show/diff documents and what a change
reimages (pools). Pure (no azure-cli import): ARM JSON in, findings and documents out.
"""
