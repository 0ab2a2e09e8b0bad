"""A dry run an automation engineer would start from: load the plan, generate the candidates
list for the fleet (or validate an operator's edited one), run the deployment on the
simulated fleet with live progress, and check what happened to every box.

    python examples/python/dry_run.py --fleet fixtures/fleets/demo-fleet.toml --out /tmp/cdt-dry-run
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

    deployment = cdt.Deployment.simulated(args.out / "run", fleet, candidates, plan, scale=args.scale)

    def progress(event: cdt.Event) -> None:
        if event.kind in ("batch_started", "batch_finished"):
            print(f"{event.kind.replace('_', ' ')}: {event.to_dict()['batch']}")
        elif event.kind == "target_finished":
            d = event.to_dict()
            print(f"  {event.target}: {d['status']}")
        elif event.kind == "failover":
            d = event.to_dict()
            print(f"  {d['cluster']} failed over from {d['from']} to {d['to']}")

    report = deployment.run(progress)
    print("totals:", report.totals)
    state = deployment.fleet_state()
    down = {c: s for c, s in state["record"]["cluster_down"].items() if s}
    if down:
        print("clusters out of service:", down, file=sys.stderr)
        return 1
    print(f"report: {Path(deployment.dir) / 'report.json'}")
    return 0 if report.totals["failed"] + report.totals["unreachable"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
