"""az aks http-proxy upgrade-nodes through the real az against the emulator: every pool started at once and
followed to the end, skips and refusals, a failing pool, --no-wait, --nodepool-names, --timeout, busy pools and
the confirmation prompt. The emulator's journal is the witness of what was sent."""
from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import time

from tests.armemu.state import DEFAULT_CONFIG
from tests.azcli import AZ

OLD, NEW = DEFAULT_CONFIG["node_images"]["ubuntu"]
UPGRADE = ("aks", "http-proxy", "upgrade-nodes", "-g", "rg1", "-n", "c1")
RESUME = "az aks http-proxy upgrade-nodes -g rg1 -n c1"


def seed(emu, *pools, **config):
    if config:
        emu.configure(**config)
    emu.seed_cluster("rg1", "c1", pools=[p if isinstance(p, dict) else {"name": p} for p in pools])


def posts(emu, since=0):
    """(pool, HTTP status) of every upgradeNodeImageVersion POST, in order."""
    return [(e["path"].split("/")[-2], e["status"]) for e in emu.journal(since)
            if e["method"] == "POST" and e["path"].endswith("/upgradeNodeImageVersion")]


def post_times(emu):
    return [e["t"] for e in emu.journal() if e["method"] == "POST" and e["status"] == 202]


def images(emu):
    pools = emu.cluster_state("rg1", "c1")["stored"]["properties"]["agentPoolProfiles"]
    return {p["name"]: (p["nodeImageVersion"], p["provisioningState"]) for p in pools}


def by_pool(result):
    return {row["pool"]: row for row in result.json}


def progress_lines(result, pool):
    return [line for line in result.stderr.splitlines() if line.startswith(f"Node image upgrade: {pool} ")]


def pools_read(emu, since):
    """Pools whose agent pool resource was read (GET) after journal entry ``since``."""
    return {e["path"].rsplit("/", 1)[-1] for e in emu.journal(since)
            if e["method"] == "GET" and "/agentPools/" in e["path"] and "/upgradeProfiles/" not in e["path"]}


@contextlib.contextmanager
def az_in_background(session, args):
    """Start az (stdin /dev/null) and let the test act on the emulator while it runs; on leaving the block, wait
    for it. The CompletedProcess-like result gets .stdout, .stderr and .returncode."""
    proc = subprocess.Popen([AZ, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=session.env, cwd=str(session.home))
    try:
        yield proc
        proc.stdout, proc.stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()


def wait_for(condition, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, "az ended before the awaited state"
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


def test_every_pool_is_started_at_once_followed_to_the_end_and_reported(az_ext, emu):
    seed(emu, {"name": "sys", "mode": "System"}, "np1", "np2", pool_upgrade_seconds=3)
    r = az_ext.az(*UPGRADE, "--yes")
    assert r.ok, r
    assert [row["pool"] for row in r.json] == ["sys", "np1", "np2"]
    for row in r.json:
        assert (row["fromImage"], row["toImage"], row["status"], row["detail"]) == (OLD, NEW, "Succeeded", "")
        assert 2.5 <= row["durationSeconds"] < 30
    assert sorted(posts(emu)) == [("np1", 202), ("np2", 202), ("sys", 202)]
    times = post_times(emu)
    # every POST went out before the first upgrade (3 s) could end: the upgrades ran together, not in turn
    assert max(times) - min(times) < 3
    assert images(emu) == {p: (NEW, "Succeeded") for p in ("sys", "np1", "np2")}
    # stderr is not a terminal here: one line per state change, not one per poll
    for pool in ("sys", "np1", "np2"):
        lines = progress_lines(r, pool)
        assert len(lines) == 2, r.stderr
        assert f"upgrading {OLD} -> {NEW}" in lines[0] and "Succeeded after" in lines[1]


def test_pools_that_cannot_or_need_not_upgrade_are_skipped_with_their_reason(az_ext, emu):
    seed(emu, "np1", {"name": "mach", "mode": "Machines"}, {"name": "cur", "nodeImageVersion": NEW},
         {"name": "off", "powerState": {"code": "Stopped"}}, pool_upgrade_seconds=1)
    r = az_ext.az(*UPGRADE, "--yes")
    assert r.ok, r
    rows = by_pool(r)
    assert rows["np1"]["status"] == "Succeeded"
    assert {p: rows[p]["status"] for p in ("mach", "cur", "off")} == dict.fromkeys(("mach", "cur", "off"), "Skipped")
    assert rows["mach"]["detail"] == "Machines mode pools do not support node image upgrades"
    assert rows["cur"]["detail"] == f"already on {NEW}" and rows["cur"]["toImage"] == NEW
    assert "az aks nodepool start" in rows["off"]["detail"]
    assert all(rows[p]["durationSeconds"] is None for p in ("mach", "cur", "off"))
    assert posts(emu) == [("np1", 202)]


def test_windows_and_availability_set_pools_are_refused_before_anything_starts(az_ext, emu):
    seed(emu, "np1", {"name": "win", "osType": "Windows"}, {"name": "vmas", "type": "AvailabilitySet"},
         pool_upgrade_seconds=1)
    r = az_ext.az(*UPGRADE, "--yes")
    assert r.rc == 1 and r.stdout == ""
    assert "win (Windows pools are not supported" in r.stderr
    assert "vmas (availability-set (VMAS) pools" in r.stderr
    assert "nothing was started" in r.stderr and "--nodepool-names np1" in r.stderr
    assert emu.writes() == []
    # the fix the message gives works
    r = az_ext.az(*UPGRADE, "--yes", "--nodepool-names", "np1")
    assert r.ok, r
    assert [row["pool"] for row in r.json] == ["np1"] and posts(emu) == [("np1", 202)]


def test_one_pool_failing_lets_the_others_finish_exits_non_zero_and_a_rerun_finishes_it(az_ext, emu):
    seed(emu, "np1", "np2", "np3", pool_upgrade_seconds=3, pool_upgrade_seconds_by_pool={"np2": 1})
    emu.add_fault("operation_result", method="POST", path_regex="/agentPools/np2/upgradeNodeImageVersion$",
                  error={"code": "NodeDrainFailed", "message": "Drain of node aks-np2-0 did not complete."})
    r = az_ext.az(*UPGRADE, "--yes")
    assert r.rc == 1
    rows = by_pool(r)  # the per-pool result is still printed on stdout
    assert rows["np2"]["status"] == "Failed"
    assert rows["np2"]["detail"] == "(NodeDrainFailed) Drain of node aks-np2-0 did not complete."
    # np2 failed after 1 s; np1 and np3 still ran their 3 s to the end
    assert rows["np1"]["status"] == rows["np3"]["status"] == "Succeeded"
    assert f"1 of 3 node pool(s) did not finish their node image upgrade: np2 Failed. Re-run `{RESUME}`" in r.stderr
    assert images(emu)["np2"] == (OLD, "Failed")

    since = emu.journal_last()
    again = az_ext.az(*UPGRADE, "--yes", "-o", "table")
    assert again.ok, again
    assert posts(emu, since) == [("np2", 202)]  # only what was left
    lines = again.stdout.splitlines()
    assert lines[0].split() == ["Pool", "FromImage", "ToImage", "Status", "Duration", "Detail"]
    table = {line.split()[0]: line for line in lines[2:]}
    assert table["np2"].split()[1:4] == [OLD, NEW, "Succeeded"]
    assert table["np1"].split()[3:] == table["np3"].split()[3:] == ["Skipped", "already", "on", NEW]
    assert images(emu) == {p: (NEW, "Succeeded") for p in ("np1", "np2", "np3")}


def test_no_wait_starts_every_pool_and_returns_and_a_rerun_follows_them_without_restarting(az_ext, emu):
    # the upgrades run until the test ends them: however slowly az starts, the rerun finds them running
    seed(emu, "np1", "np2", pool_upgrade_seconds=600)
    r = az_ext.az(*UPGRADE, "--yes", "--no-wait")
    assert r.ok, r
    assert r.stdout == ""  # as every az command with --no-wait; what was started is summed up on stderr
    summary = {line.split()[0]: line.split()[1:] for line in r.stderr.splitlines() if line.startswith("np")}
    assert summary == {p: [OLD, NEW, "InProgress", "started", "(--no-wait)"] for p in ("np1", "np2")}
    assert sorted(posts(emu)) == [("np1", 202), ("np2", 202)]
    assert not [e for e in emu.journal() if "/operations/" in e["path"]]  # nothing was polled
    assert {state for _, state in images(emu).values()} == {"UpgradingNodeImageVersion"}

    since = emu.journal_last()
    with az_in_background(az_ext, UPGRADE) as follow:  # no --yes needed: nothing is started, nothing asked
        # both pools are being followed (polled by GET) before their upgrades end
        wait_for(lambda: {"np1", "np2"} <= pools_read(emu, since), follow)
        emu.finish_operations()
    assert follow.returncode == 0, follow.stderr
    assert posts(emu, since) == []
    rows = json.loads(follow.stdout)
    assert [row["pool"] for row in rows] == ["np1", "np2"]
    for row in rows:
        assert (row["status"], row["toImage"]) == ("Succeeded", NEW)
        assert row["detail"] == "followed an upgrade started earlier"
    assert images(emu) == {p: (NEW, "Succeeded") for p in ("np1", "np2")}


def test_nodepool_names_selects_pools_and_a_missing_name_is_an_error(az_ext, emu):
    seed(emu, "np1", "np2", "np3", pool_upgrade_seconds=1)
    r = az_ext.az(*UPGRADE, "--yes", "--nodepool-names", "np3", "np1")
    assert r.ok, r
    assert [row["pool"] for row in r.json] == ["np3", "np1"]
    assert sorted(posts(emu)) == [("np1", 202), ("np3", 202)]
    assert images(emu)["np2"] == (OLD, "Succeeded")

    bad = az_ext.az(*UPGRADE, "--yes", "--nodepool-names", "np2", "np9")
    assert bad.rc != 0
    assert "No node pool named np9 in this cluster; its pools are: np1, np2, np3." in bad.stderr
    assert sorted(posts(emu)) == [("np1", 202), ("np3", 202)]


def test_without_a_terminal_and_without_yes_it_fails_naming_yes_and_starts_nothing(az_ext, emu):
    seed(emu, "np1", "np2")
    r = az_ext.az(*UPGRADE)  # stdin is /dev/null
    assert r.rc != 0 and r.stdout == ""
    assert "stdin is not a terminal. Pass --yes" in r.stderr and "np1, np2" in r.stderr
    assert emu.writes() == []


def az_on_terminal(session, args, answer):
    """Run az with stdin on a pseudo-terminal, typing ``answer`` ahead (the terminal buffers it)."""
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode() + b"\n")
        proc = subprocess.run([AZ, *args], stdin=slave, capture_output=True, text=True, env=session.env,
                              cwd=str(session.home), timeout=120, check=False)
    finally:
        os.close(slave)
        os.close(master)
    return proc


def test_on_a_terminal_it_asks_first_and_no_starts_nothing(az_ext, emu):
    seed(emu, "np1", pool_upgrade_seconds=1)
    declined = az_on_terminal(az_ext, UPGRADE, "n")
    assert declined.returncode == 0, declined.stderr
    assert "Start a node image upgrade of pool(s) np1 of cluster c1?" in declined.stdout
    assert "Cancelled: no node image upgrade was started." in declined.stderr
    assert emu.writes() == []
    accepted = az_on_terminal(az_ext, UPGRADE, "y")
    assert accepted.returncode == 0, accepted.stderr
    assert posts(emu) == [("np1", 202)]


def az_with_terminal_stderr(session, args):
    """Run az with stderr on a pseudo-terminal (stdin and stdout stay plain); returns (rc, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([AZ, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env=session.env, cwd=str(session.home))
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.stdout.read().decode()
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, stdout, seen.decode(errors="replace")


def test_on_a_terminal_progress_is_one_live_line_not_a_log(az_ext, emu):
    seed(emu, "np1", "np2", pool_upgrade_seconds=3)
    rc, stdout, terminal = az_with_terminal_stderr(az_ext, [*UPGRADE, "--yes"])
    assert rc == 0, terminal
    assert "pool(s) done, 2 upgrading" in terminal and "\r\x1b[K" in terminal  # one line, rewritten in place
    assert "Node image upgrade: np1 " not in terminal and "WARNING: Node image upgrade" not in terminal
    assert [row["status"] for row in json.loads(stdout)] == ["Succeeded", "Succeeded"]


def test_a_busy_pool_is_waited_for_then_upgraded(az_ext, emu):
    # np1's update runs until the test ends it, so the conflict cannot be missed however slowly az starts
    seed(emu, "np1", "np2", pool_put_seconds=600, pool_upgrade_seconds=1)
    busy = az_ext.az("aks", "nodepool", "update", "-g", "rg1", "--cluster-name", "c1", "-n", "np1",
                     "--labels", "team=a", "--no-wait")
    assert busy.ok, busy
    with az_in_background(az_ext, [*UPGRADE, "--yes"]) as r:
        # two conflicts: the busy pool is retried, not given up on
        wait_for(lambda: posts(emu).count(("np1", 409)) == 2, r)
        emu.finish_operations()  # the update ends
    assert r.returncode == 0, r.stderr
    assert {row["status"] for row in json.loads(r.stdout)} == {"Succeeded"}
    np1 = [status for pool, status in posts(emu) if pool == "np1"]
    assert len(np1) >= 3 and set(np1[:-1]) == {409} and np1[-1] == 202  # retried while busy, then started once
    assert posts(emu).count(("np2", 202)) == 1
    assert "Node image upgrade: np1 busy with another operation; waiting" in r.stderr.splitlines()
    assert r.stderr.count("np1 busy") == 1  # one line for the state, not one per retry


def test_a_timeout_that_is_not_positive_is_refused_before_anything_is_read(az_ext, emu):
    seed(emu, "np1")
    since = emu.journal_last()
    r = az_ext.az(*UPGRADE, "--yes", "--timeout", "0")
    assert r.rc != 0 and "--timeout must be a positive number of seconds; got 0." in r.stderr, r
    assert [e for e in emu.journal(since) if e["kind"] == "arm"] == []


def test_timeout_reports_the_pools_still_running_exits_non_zero_and_says_how_to_resume(az_ext, emu):
    seed(emu, "slow", "fast", pool_upgrade_seconds_by_pool={"slow": 60, "fast": 1})
    r = az_ext.az(*UPGRADE, "--yes", "--timeout", "4")
    assert r.rc == 1
    rows = by_pool(r)
    assert rows["fast"]["status"] == "Succeeded"
    assert rows["slow"]["status"] == "InProgress"
    assert "still upgrading after the --timeout of 4 s" in rows["slow"]["detail"] and RESUME in rows["slow"]["detail"]
    assert "slow InProgress" in r.stderr and r.seconds < 30
    emu.finish_operations()
    since = emu.journal_last()
    again = az_ext.az(*UPGRADE, "--yes")
    assert again.ok, again
    assert posts(emu, since) == [] and {row["status"] for row in again.json} == {"Skipped"}
