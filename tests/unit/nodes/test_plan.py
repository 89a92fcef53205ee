"""Node image upgrade planning (nodes/plan.py): which pools start, are followed, skipped or refused, the result rows,
and what a node image phase is for."""
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azext_aksproxy.cluster import pools as cluster_pools
from azext_aksproxy.nodes import plan as plan_module
from azext_aksproxy.nodes.plan import (
    CARRY_PROXY_CHANGE,
    FAILED,
    FOLLOW,
    IN_PROGRESS,
    LATEST_AFTER_UPDATE,
    NOT_STARTED,
    REFUSE,
    SKIP,
    SKIPPED,
    START,
    SUCCEEDED,
    UPGRADE_NODES,
    NodeRollout,
    PoolResult,
    UnknownPoolsError,
    format_duration,
    needs_latest_image,
    outcome_message,
    plan_upgrade,
    skipped,
    step_for,
)

OLD, NEW = "AKSUbuntu-2204gen2containerd-202512.01.0", "AKSUbuntu-2204gen2containerd-202601.10.0"
RESUME = "az aks http-proxy upgrade-nodes -g rg1 -n c1"


def pool(name="np1", nested=True, **props):
    """An agent pool as AgentPool.as_dict() gives it (nested) or as a cluster's agentPoolProfiles entry."""
    base = {"mode": "User", "osType": "Linux", "type": "VirtualMachineScaleSets", "nodeImageVersion": OLD,
            "provisioningState": "Succeeded", "powerState": {"code": "Running"}}
    base.update(props)
    return {"name": name, "properties": base} if nested else {"name": name, **base}


@pytest.mark.parametrize("nested", [True, False])
def test_a_pool_behind_its_latest_image_is_started(nested):
    step = step_for(pool(nested=nested), NEW)
    assert (step.action, step.current_image, step.latest_image, step.reason) == (START, OLD, NEW, "")


def test_a_pool_on_its_latest_image_is_skipped_naming_the_image():
    step = step_for(pool(nodeImageVersion=NEW), NEW)
    assert step.action == SKIP
    assert step.reason == f"already on {NEW}"


def test_an_unknown_latest_image_still_starts_the_pool():
    # An upgrade profile without latestNodeImageVersion must not be read as "nothing to do".
    assert step_for(pool(), None).action == START


@pytest.mark.parametrize("props, action, words", [
    ({"osType": "Windows"}, REFUSE, "Windows"),
    ({"osType": "windows"}, REFUSE, "Windows"),
    ({"type": "AvailabilitySet"}, REFUSE, "availability-set"),
    ({"type": "availabilityset"}, REFUSE, "availability-set"),
    ({"mode": "Machines"}, SKIP, "Machines mode"),
    ({"mode": "machines"}, SKIP, "Machines mode"),
    ({"provisioningState": "UpgradingNodeImageVersion"}, FOLLOW, "already running"),
    ({"provisioningState": "upgradingnodeimageversion"}, FOLLOW, "already running"),
    ({"powerState": {"code": "Stopped"}}, SKIP, "az aks nodepool start"),
    ({"provisioningState": "Failed"}, START, "failed; retrying"),
])
def test_each_rule_gives_its_action_and_a_reason(props, action, words):
    step = step_for(pool(**props), NEW)
    assert step.action == action
    assert words in step.reason


@pytest.mark.parametrize("state", ["Updating", "Scaling", "Upgrading", "Creating"])
def test_a_pool_busy_with_another_operation_is_started_and_the_conflict_waited_out(state):
    assert step_for(pool(provisioningState=state), NEW).action == START


def test_a_failed_pool_already_on_the_latest_image_is_retried_not_skipped():
    assert step_for(pool(provisioningState="Failed", nodeImageVersion=NEW), NEW).action == START


@pytest.mark.parametrize("props, action", [
    ({"osType": "Windows", "mode": "Machines"}, REFUSE),  # refusal wins over any skip
    ({"type": "AvailabilitySet", "provisioningState": "UpgradingNodeImageVersion"}, REFUSE),
    ({"mode": "Machines", "provisioningState": "UpgradingNodeImageVersion"}, SKIP),
    # an upgrade already running is followed even when the pool reports the target image
    ({"provisioningState": "UpgradingNodeImageVersion", "nodeImageVersion": NEW}, FOLLOW),
    ({"powerState": {"code": "Stopped"}, "nodeImageVersion": NEW}, SKIP),
])
def test_precedence_of_the_rules(props, action):
    assert step_for(pool(**props), NEW).action == action


def test_pools_without_optional_fields_are_linux_scale_sets():
    step = step_for({"name": "np1", "properties": {"nodeImageVersion": OLD}}, NEW)
    assert step.action == START


def test_plan_keeps_the_cluster_order_and_reads_each_pools_latest_image():
    pools = [pool("sys", nodeImageVersion=NEW), pool("np1"), pool("np2", nodeImageVersion="other")]
    plan = plan_upgrade(pools, {"sys": NEW, "np1": NEW, "np2": "other-latest"})
    assert [(s.pool, s.action, s.latest_image) for s in plan.steps] == [
        ("sys", SKIP, NEW), ("np1", START, NEW), ("np2", START, "other-latest")]
    assert [s.pool for s in plan.having(START)] == ["np1", "np2"]


def test_only_selects_the_named_pools_in_the_given_order_once_each():
    pools = [pool("np1"), pool("np2"), pool("np3")]
    plan = plan_upgrade(pools, {}, only=["np3", "NP1", "np3"])
    assert [s.pool for s in plan.steps] == ["np3", "np1"]


def test_only_naming_a_missing_pool_is_an_error_listing_the_pools():
    with pytest.raises(UnknownPoolsError) as info:
        plan_upgrade([pool("np1"), pool("np2")], {}, only=["np1", "np9", "nope"])
    assert info.value.unknown == ["np9", "nope"]
    assert "np9, nope" in str(info.value) and "np1, np2" in str(info.value)


def test_an_empty_only_means_every_pool():
    assert len(plan_upgrade([pool("a"), pool("b")], {}, only=[]).steps) == 2


def test_refusal_names_each_refused_pool_and_the_others_to_select_instead():
    plan = plan_upgrade([pool("np1"), pool("win1", osType="Windows"), pool("vmas1", type="AvailabilitySet")], {})
    message = plan.refusal()
    assert "win1 (Windows" in message and "vmas1 (availability-set" in message
    assert "nothing was started" in message
    assert message.endswith("--nodepool-names np1.")


def test_refusal_when_every_pool_is_refused_says_nothing_is_left():
    message = plan_upgrade([pool("win1", osType="Windows")], {}).refusal()
    assert "--nodepool-names" not in message and "Nothing else" in message


def test_no_refusal_when_the_selection_avoids_the_refused_pools():
    plan = plan_upgrade([pool("np1"), pool("win1", osType="Windows")], {}, only=["np1"])
    assert plan.refusal() is None


@pytest.mark.parametrize("props, needed", [
    ({}, True), ({"provisioningState": "Failed"}, True), ({"mode": "Machines"}, False),
    ({"osType": "Windows"}, False), ({"provisioningState": "UpgradingNodeImageVersion"}, False),
    ({"powerState": {"code": "Stopped"}}, False),
])
def test_the_upgrade_profile_is_read_only_for_pools_that_may_start(props, needed):
    assert needs_latest_image(pool(**props)) is needed


def test_skipped_rows_carry_the_reason_and_show_the_image_when_already_latest():
    latest = skipped(step_for(pool(nodeImageVersion=NEW), NEW))
    assert latest.to_dict() == {"pool": "np1", "fromImage": NEW, "toImage": NEW, "status": SKIPPED,
                                "durationSeconds": None, "detail": f"already on {NEW}"}
    machines = skipped(step_for(pool(mode="Machines"), None))
    assert (machines.from_image, machines.to_image, machines.status) == (OLD, None, SKIPPED)


def test_result_rows_round_the_duration():
    row = PoolResult("np1", OLD, NEW, SUCCEEDED, 12.3456, "").to_dict()
    assert row["durationSeconds"] == 12.3
    assert list(row) == ["pool", "fromImage", "toImage", "status", "durationSeconds", "detail"]


@pytest.mark.parametrize("seconds, text", [
    (None, ""), (0, "0s"), (0.4, "0s"), (59.6, "1m 00s"), (61, "1m 01s"), (3600, "1h 00m 00s"),
    (3725, "1h 02m 05s"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def row(status, pool_name="np1"):
    return PoolResult(pool_name, OLD, NEW, status)


@pytest.mark.parametrize("statuses, no_wait, ok", [
    ([SUCCEEDED, SKIPPED], False, True),
    ([], False, True),
    ([SUCCEEDED, FAILED], False, False),
    ([SUCCEEDED, IN_PROGRESS], False, False),  # --timeout ran out
    ([IN_PROGRESS, SKIPPED], True, True),  # --no-wait: started is what was asked
    ([IN_PROGRESS, FAILED], True, False),  # --no-wait but the POST itself failed
    ([NOT_STARTED], False, False),
    ([NOT_STARTED], True, False),
])
def test_outcome_is_ok_only_when_every_pool_ended_well(statuses, no_wait, ok):
    results = [row(s, f"np{i}") for i, s in enumerate(statuses)]
    message = outcome_message(results, no_wait, RESUME)
    assert (message is None) is ok


def test_outcome_message_lists_the_pools_left_and_how_to_resume():
    results = [row(SUCCEEDED, "np1"), row(FAILED, "np2"), row(IN_PROGRESS, "np3")]
    message = outcome_message(results, False, RESUME)
    assert message.startswith("2 of 3 node pool(s)")
    assert "np2 Failed, np3 InProgress" in message and "np1" not in message
    assert f"`{RESUME}`" in message


POOL_FIELDS = st.fixed_dictionaries({}, optional={
    "mode": st.sampled_from(["System", "User", "Machines", "Gateway", None]),
    "osType": st.sampled_from(["Linux", "Windows", "WINDOWS", None]),
    "type": st.sampled_from(["VirtualMachineScaleSets", "AvailabilitySet", "VirtualMachines", None]),
    "provisioningState": st.sampled_from(["Succeeded", "Failed", "UpgradingNodeImageVersion", "Updating", None]),
    "powerState": st.sampled_from([{"code": "Running"}, {"code": "Stopped"}, None]),
    "nodeImageVersion": st.sampled_from([OLD, NEW, None]),
})


@given(POOL_FIELDS, st.sampled_from([OLD, NEW, None]))
def test_every_pool_gets_one_action_with_a_reason_unless_started(props, latest):
    step = step_for({"name": "np1", "properties": props}, latest)
    assert step.action in (START, FOLLOW, SKIP, REFUSE)
    assert step.reason or step.action == START
    if str(props.get("osType") or "").lower() == "windows":
        assert step.action == REFUSE
    if step.action == SKIP and "already on" in step.reason:
        # never skip as up to date a pool that is not on the latest image, or whose last operation failed
        assert props.get("nodeImageVersion") == latest and props.get("provisioningState") != "Failed"


@given(st.lists(POOL_FIELDS, max_size=6))
def test_a_plan_has_one_step_per_pool_in_order(pools_props):
    pools = [{"name": f"np{i}", "properties": p} for i, p in enumerate(pools_props)]
    plan = plan_upgrade(pools, {})
    assert [s.pool for s in plan.steps] == [p["name"] for p in pools]
    assert (plan.refusal() is None) == (not plan.having(REFUSE))


# ---- the one pool rule (cluster/pools.py) and what a node image phase is for --------------------------------------


def test_the_node_image_plan_uses_the_pool_rule_and_its_names():
    assert inspect.signature(step_for).parameters["proxy_state"].default == cluster_pools.UNKNOWN
    assert (START, plan_module.pool_need) == (cluster_pools.START, cluster_pools.pool_need)
    step = step_for({"name": "np1", "nodeImageVersion": NEW}, NEW, cluster_pools.NO, newer_image_wanted=False)
    assert (step.action, step.reason) == (START, "its nodes do not run the cluster's current proxy config")


def test_one_node_rollout_object_says_what_a_node_image_phase_is_for():
    explicit = NodeRollout(UPGRADE_NODES)
    assert explicit.newer_image_wanted and not explicit.follows_update and not explicit.assume_yes
    carry = NodeRollout.after_update(latest_node_image=False, proxy_changed=True, no_wait=True)
    assert (carry.purpose, carry.newer_image_wanted, carry.follows_update) == (CARRY_PROXY_CHANGE, False, True)
    assert carry.assume_yes and carry.no_wait and carry.proxy_changed  # the update already asked
    latest = NodeRollout.after_update(latest_node_image=True, proxy_changed=False, no_wait=False)
    assert (latest.purpose, latest.newer_image_wanted, latest.follows_update) == (LATEST_AFTER_UPDATE, True, True)
