"""A deployment an automation engineer would start from: load the plan, generate the
candidates list (or validate an operator's edited one), dry-run it on the simulated fleet
with live progress and check what happened to every box; then, given an inventory of real
gateways and SSH credentials, run it over SSH the same way.

    python examples/python/deploy.py --fleet fixtures/fleets/demo-fleet.toml --out /tmp/cdt-run
    python examples/python/deploy.py --fleet fleet.toml --out /tmp/cdt-run \
        --inventory gateways.toml --user admin --key ~/.ssh/id_ed25519 \
        --management mgmt --management-address 10.0.0.5
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cdt

UPGRADE = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=Path, required=True, help="a simulated fleet file")
    parser.add_argument("--out", type=Path, required=True, help="the run folder (new)")
    parser.add_argument("--plan", type=Path, help="a deployment plan (default: an R82 upgrade)")
    parser.add_argument("--edited", type=Path, help="an operator's edited candidates list")
    parser.add_argument("--scale", type=float, default=1500.0, help="simulated seconds per second")
    ssh = parser.add_argument_group("then over SSH")
    ssh.add_argument("--inventory", type=Path, help="the real gateways (TOML or JSON)")
    ssh.add_argument("--user", default="admin")
    ssh.add_argument("--key", type=Path, help="a private key file (default: the ssh-agent)")
    ssh.add_argument("--known-hosts", type=Path, help="default: ~/.ssh/known_hosts")
    ssh.add_argument("--management", help="the Management Server's object name")
    ssh.add_argument("--management-address", help="the Management Server's address")
    ssh.add_argument("--clock-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    fleet = cdt.Fleet.load(args.fleet)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.plan:
        plan = cdt.Plan.load(args.plan)
    else:
        package = args.out / UPGRADE
        package.write_text("a simulated package\n")
        plan = cdt.Plan(
            [cdt.Step("create_snapshot", name="before_r82"), cdt.Step("install_package", path=str(package))],
            name="R82 upgrade",
            update_cpuse=False,
        )
    package_path = plan.first_package()
    if package_path is None:
        print("the plan installs no package", file=sys.stderr)
        return 1
    inventory = fleet.inventory()
    generated, _ = cdt.generate(inventory, plan=plan)
    candidates = generated
    if args.edited:
        candidates = cdt.CandidatesList.load(args.edited)
        try:
            cdt.validate_edit(generated, candidates)
        except cdt.CandidatesError as e:
            for d in e.diagnostics:
                print(d, file=sys.stderr)
            return 1
    batched, na, installed, excluded = candidates.counts()
    print(f"{len(candidates)} rows: {batched} to upgrade, {na} N/A, {installed} installed, {excluded} excluded")

    deployment = cdt.Deployment.simulated(args.out / "dry-run", fleet, candidates, plan, scale=args.scale)
    report = deployment.run(progress)
    print("dry run:", report.totals)
    state = deployment.fleet_state()
    down = {c: s for c, s in state["record"]["cluster_down"].items() if s}
    if down:
        print("clusters out of service:", down, file=sys.stderr)
        return 1
    print(f"report: {Path(deployment.dir) / 'report.json'}")
    if not succeeded(report):
        return 1
    if args.inventory is None:
        return 0

    # The same plan over SSH, for the real gateways.
    real = cdt.Inventory.load(args.inventory)
    listed, _ = cdt.generate(real, plan=plan)
    settings = cdt.SshSettings(
        args.user, key_file=args.key, agent=args.key is None, known_hosts=args.known_hosts
    )
    deployment = cdt.Deployment.over_ssh(
        args.out / "run",
        real,
        listed,
        plan,
        ssh=settings,
        management=args.management,
        management_address=args.management_address,
        clock_scale=args.clock_scale,
    )
    report = deployment.run(progress)
    print("over SSH:", report.totals)
    print(f"report: {Path(deployment.dir) / 'report.json'}")
    return 0 if succeeded(report) else 1


def progress(event: cdt.Event) -> None:
    """Prints batches, targets and failovers as they happen."""
    if event.kind in ("batch_started", "batch_finished"):
        print(f"{event.kind.replace('_', ' ')}: {event.to_dict()['batch']}")
    elif event.kind == "target_finished":
        print(f"  {event.target}: {event.to_dict()['status']}")
    elif event.kind == "failover":
        d = event.to_dict()
        print(f"  {d['cluster']} failed over from {d['from']} to {d['to']}")


def succeeded(report: cdt.Report) -> bool:
    return report.totals["failed"] + report.totals["unreachable"] == 0


if __name__ == "__main__":
    sys.exit(main())
