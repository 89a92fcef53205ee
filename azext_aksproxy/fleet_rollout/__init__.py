"""Fleet rollout: one proxy change across many clusters, in stages, each cluster proven before it is written.

Pure: the edit applied to each cluster's own config (edits), the stages in Fleet Manager's vocabulary (strategy), the
plan file (plan) and the scheduler with the per-cluster states read back from Azure (run). No azure-cli import.
"""
