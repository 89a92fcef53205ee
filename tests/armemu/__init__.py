"""A local Azure Resource Manager emulator for Microsoft.ContainerService (managedClusters, agentPools,
operations, runCommand) and the node resource group's Microsoft.Compute scale sets (instances, run command; the
scripts run on a local "node"), with a managed-identity token endpoint, a request journal, a control surface and
fault plans.

    from tests.armemu import start_emulator
    with start_emulator(tmp_path) as emu:
        emu.client.seed_cluster("rg1", "c1")
        ...
        emu.client.writes()

`python -m tests.armemu` runs it standalone; `tests.armemu.server.Emulator` runs it in-process.
"""
from .client import EmulatorClient, EmulatorError, EmulatorHandle, start_emulator

__all__ = ["EmulatorClient", "EmulatorError", "EmulatorHandle", "start_emulator"]
