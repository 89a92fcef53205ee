"""One way to read an ARM id: its subscription, resource group and name, whatever the case of the segment names or
the slashes at its ends; a malformed id reads as empty parts, never an exception."""
from __future__ import annotations

import pytest

from azext_aksproxy.cluster.model import VnetSpace
from azext_aksproxy.cluster.resource_id import ResourceId

SUB = "00000000-0000-0000-0000-00000000000a"
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/RG1/providers/Microsoft.ContainerService/managedClusters/Prod-EU"


def test_a_cluster_id_reads_as_its_subscription_group_and_name():
    rid = ResourceId.parse(CLUSTER)
    assert (rid.subscription, rid.resource_group, rid.name, rid.label) == (SUB, "RG1", "Prod-EU", "RG1/Prod-EU")


@pytest.mark.parametrize("text", [
    CLUSTER.lower().replace("rg1", "RG1").replace("prod-eu", "Prod-EU"),
    CLUSTER.replace("resourceGroups", "RESOURCEGROUPS").replace("subscriptions", "Subscriptions"),
    CLUSTER.lstrip("/"),
    CLUSTER + "/",
    f"//{CLUSTER}//",
])
def test_segment_names_are_read_in_any_case_and_slashes_at_the_ends_change_nothing(text):
    rid = ResourceId.parse(text)
    assert (rid.subscription, rid.resource_group, rid.name) == (SUB, "RG1", "Prod-EU")


def test_ids_compare_by_their_key_whatever_the_case_and_slashes():
    keys = {ResourceId.parse(t).key for t in (CLUSTER, CLUSTER.upper(), CLUSTER.lstrip("/") + "/", f"//{CLUSTER}")}
    assert keys == {CLUSTER.lower()}
    assert ResourceId.parse(CLUSTER + "2").key != CLUSTER.lower()


def test_a_child_resource_is_named_by_its_own_name():
    rid = ResourceId.parse(f"{CLUSTER}/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule")
    assert (rid.resource_group, rid.name) == ("RG1", "aksManagedNodeOSUpgradeSchedule")


@pytest.mark.parametrize(("text", "parts"), [
    (None, ("", "", "", "")),
    ("", ("", "", "", "")),
    ("/", ("", "", "", "")),
    ("prod-eu", ("", "", "prod-eu", "")),
    (f"/subscriptions/{SUB}", (SUB, "", SUB, "")),
    (f"/subscriptions/{SUB}/resourceGroups", (SUB, "", "resourceGroups", "")),  # a segment name with no value
    ("/subscriptions//resourceGroups/rg/x", ("", "rg", "x", "rg/x")),
])
def test_a_malformed_id_reads_as_empty_parts_never_an_error(text, parts):
    rid = ResourceId.parse(text)
    assert (rid.subscription, rid.resource_group, rid.name, rid.label) == parts


def test_a_vnet_is_named_by_its_id():
    vnet = "/subscriptions/s/resourcegroups/net/providers/microsoft.network/virtualnetworks/hub/"
    assert VnetSpace(vnet).name == "hub"
