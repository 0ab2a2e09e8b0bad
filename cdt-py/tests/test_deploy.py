"""Whole deployments on the simulated fleet, driven from Python: the safety invariants read
from the simulator's own record, events by callback and iterator, cancellation from another
thread, an exception in a callback, resume, and the GIL released during a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import cdt
from conftest import FIXTURES, UPGRADE

# Simulated seconds per real second: the demo fleet's three batches in a few seconds.
SCALE = 3000.0

# A part of the demo fleet: standalone gateways and an HA, a VRRP and two VSLS clusters, in
# three batches (the others are excluded from the list).
SOME = ["gw-01", "gw-02", "gw-03", "gw-04", "ha-1", "ha-2", "vrrp-1", "vsls-1", "vsls-2"]


def prepare(
    tmp_path: Path, name: str = "run", *, whole: bool = False, **kwargs: object
) -> cdt.Deployment:
    """The demo fleet's R82 upgrade with Connectivity Upgrade, in three batches: the whole
    fleet, or the part in SOME."""
    fleet = cdt.Fleet.load(FIXTURES / "fleets/demo-fleet.toml")
    package = tmp_path / UPGRADE
    package.write_text("a simulated major version package\n")
    listed, _ = cdt.generate(
        fleet.inventory(), cdt.Package(package), include_only=None if whole else SOME
    )
    for row in listed.rows:
        if row.batch is not None:
            unit = row.cluster_name or row.object_name
            listed.set_order(row.object_name, int(unit.rsplit("-", 1)[-1]) % 3 + 1)
    plan = cdt.Plan(
        [
            cdt.Step("create_snapshot", name="before_r82"),
            cdt.Step("install_package", path=str(package)),
        ],
        update_cpuse=False,
    )
    return cdt.Deployment.simulated(
        tmp_path / name, fleet, listed, plan, scale=kwargs.pop("scale", SCALE), **kwargs  # type: ignore[arg-type]
    )


def check_invariants(d: cdt.Deployment) -> dict[str, Any]:
    """From the simulator's record: no cluster ever stopped serving, no box was installed
    twice. Returns the record."""
    state = d.fleet_state()
    record: dict[str, Any] = state["record"]
    down = {c: spans for c, spans in record["cluster_down"].items() if spans}
    assert down == {}, f"clusters out of service: {down}"
    for host, installs in record["installs"].items():
        counts = Counter(package for _, package in installs)
        assert all(n == 1 for n in counts.values()), f"{host} installed twice: {installs}"
    return record


def test_a_whole_deployment_keeps_every_cluster_serving_and_reports_every_target(
    tmp_path: Path,
) -> None:
    d = prepare(tmp_path, whole=True)
    kinds: Counter[str] = Counter()
    report = d.run(lambda e: kinds.update([e.kind]))
    totals = report.totals
    assert totals["succeeded"] > 40, totals
    assert totals["failed"] == totals["unreachable"] == 0, totals
    assert sum(totals.values()) == len(d.targets) == 61
    assert kinds["run_started"] == 1 and kinds["run_finished"] == 1
    assert kinds["batch_started"] == 3
    assert kinds["target_finished"] == 61
    record = check_invariants(d)
    assert record["failovers"], "clusters failed over"
    # Every failover went to a member already upgraded: the first wave went first.
    for cluster in report.clusters:
        for f in cluster["failovers"]:
            first = report.target(f["to"])
            assert first["status"] == "succeeded"
    run = Path(d.dir)
    for name in ["report.json", "results.csv", "CDT_status.txt", "CDT_status_brief.txt", "run.json"]:
        assert (run / name).exists(), name
    assert report.to_json() == (run / "report.json").read_text()
    assert set(d.fleet_state()["installed"].values()) >= {"R82"}


def test_events_iterate_in_order_and_end_with_the_run(tmp_path: Path) -> None:
    d = prepare(tmp_path)
    events = d.start()
    seen = [e.kind for e in events]
    report = d.wait()
    assert seen[0] == "run_started" and seen[-1] == "run_finished"
    assert seen.count("target_finished") == len(d.targets)
    assert report.totals["failed"] == 0
    with pytest.raises(cdt.RolloutError):
        d.start()


def test_an_exception_in_the_callback_cancels_the_run_and_is_raised(tmp_path: Path) -> None:
    d = prepare(tmp_path)

    class Stop(Exception):
        pass

    def on_event(e: cdt.Event) -> None:
        if e.kind == "target_finished":
            raise Stop(e.target)

    with pytest.raises(Stop):
        d.run(on_event)
    # The run stopped cleanly: its report is written, later batches never started.
    report = cdt.Deployment.resume(d.dir)
    assert report.in_flight == 0
    check_invariants(d)


def test_cancel_from_another_thread_stops_new_work_and_ends_the_run(tmp_path: Path) -> None:
    d = prepare(tmp_path)
    first_batch_done = threading.Event()

    def on_event(e: cdt.Event) -> None:
        if e.kind == "batch_finished":
            first_batch_done.set()

    def cancel_after_the_first_batch() -> None:
        first_batch_done.wait(60)
        d.cancel()

    canceller = threading.Thread(target=cancel_after_the_first_batch)
    canceller.start()
    report = d.run(on_event)
    canceller.join()
    assert report.totals["not_started"] > 0, report.totals
    assert report.totals["failed"] == 0
    check_invariants(d)
    # A cancelled run is over: resuming it starts nothing new.
    again = cdt.Deployment.resume(d.dir)
    assert again.in_flight == 0
    assert again.run().totals == report.totals


def test_a_run_whose_process_was_killed_resumes_without_installing_anything_twice(
    tmp_path: Path,
) -> None:
    # The run in a process of its own, killed (SIGKILL) in the middle of its batches.
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from test_deploy import prepare; prepare(Path(sys.argv[2]), scale=600.0).run()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path)]
    )
    run = tmp_path / "run"
    deadline = time.monotonic() + 120
    while not (run / "CDT_status.txt").exists() and child.poll() is None:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    time.sleep(1.0)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not (run / "report.json").exists(), "killed before the end"
    before = cdt.Deployment.resume(run).fleet_state()["record"]["installs"]

    resumed = cdt.Deployment.resume(run)
    report = resumed.run()
    assert report.totals["not_started"] == 0, report.totals
    assert report.totals["failed"] == report.totals["unreachable"] == 0, report.totals
    after = check_invariants(resumed)
    for host, installs in before.items():
        assert after["installs"][host][: len(installs)] == installs


def test_the_gil_is_released_while_a_deployment_runs(tmp_path: Path) -> None:
    d = prepare(tmp_path)
    counted = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal counted
        while not stop.is_set():
            counted += 1

    counter = threading.Thread(target=count)
    counter.start()
    d.run()
    stop.set()
    counter.join()
    assert counted > 100_000, counted


def test_a_log_action_reaches_pythons_logging(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fleet = cdt.Fleet.load(FIXTURES / "fleets/demo-fleet.toml")
    package = tmp_path / UPGRADE
    package.write_text("pkg\n")
    listed, _ = cdt.generate(fleet.inventory(), cdt.Package(package), include_only=["gw-01"])
    plan = cdt.Plan([cdt.Step("log", level="ALWAYS", value="hello from the plan")], update_cpuse=False)
    d = cdt.Deployment.simulated(tmp_path / "run", fleet, listed, plan, package=cdt.Package(package), scale=SCALE)
    with caplog.at_level("INFO", logger="cdt"):
        report = d.run()
    assert report.totals["succeeded"] == 1
    assert any("gw-01: hello from the plan" in r.getMessage() for r in caplog.records)


def test_a_second_run_in_the_same_folder_is_refused_and_the_first_kept(tmp_path: Path) -> None:
    prepare(tmp_path, "same")
    run_json = (tmp_path / "same/run.json").read_bytes()
    with pytest.raises(cdt.JournalError) as caught:
        prepare(tmp_path, "same", scale=10.0)
    assert "holds a run already" in str(caught.value)
    assert (tmp_path / "same/run.json").read_bytes() == run_json


def test_a_package_that_fails_on_a_gateway_fails_that_target_only(tmp_path: Path) -> None:
    fleet = cdt.Fleet.load(FIXTURES / "fleets/demo-fleet.toml")
    fleet.add_fault("package_fails", host="gw-01", package="R82")
    assert fleet.faults[-1] == {"kind": "package_fails", "host": "gw-01", "package": "R82"}
    package = tmp_path / UPGRADE
    package.write_text("pkg\n")
    listed, _ = cdt.generate(fleet.inventory(), cdt.Package(package), include_only=["gw-01", "gw-02"])
    plan = cdt.Plan([cdt.Step("install_package", path=str(package))], update_cpuse=False)
    d = cdt.Deployment.simulated(
        tmp_path / "run", fleet, listed, plan, scale=SCALE, settings={"failure_budget": {"count": 5}}
    )
    report = d.run()
    assert report.target("gw-01")["status"] == "failed"
    assert report.target("gw-02")["status"] == "succeeded"
    with pytest.raises(ValueError):
        fleet.add_fault("meteor_strike", host="gw-01")


def test_a_run_paused_after_each_batch_starts_the_next_only_when_approved(tmp_path: Path) -> None:
    d = prepare(tmp_path, settings={"pause_after_batch": True})
    seen: list[str] = []
    waited: list[float] = []
    paused_at = 0.0

    def approve_later() -> None:
        time.sleep(0.3)
        d.approve()

    def on_event(e: cdt.Event) -> None:
        nonlocal paused_at
        if e.kind == "awaiting_approval":
            paused_at = time.monotonic()
            threading.Thread(target=approve_later).start()
        elif e.kind == "batch_started" and paused_at:
            waited.append(time.monotonic() - paused_at)
        if e.kind in ("awaiting_approval", "batch_started", "batch_finished"):
            seen.append(e.kind)

    report = d.run(on_event)
    assert report.totals["failed"] == 0, report.totals
    assert seen == [
        "batch_started", "batch_finished", "awaiting_approval",
        "batch_started", "batch_finished", "awaiting_approval",
        "batch_started", "batch_finished",
    ]  # fmt: skip
    # Each next batch waited for its approval, given from another thread.
    assert len(waited) == 2 and min(waited) >= 0.25, waited
