"""The Python half of `cargo bench -p cdt-benches --bench bindings`: the same deployment as
the Rust half, from the files it wrote, run through the `cdt` package.

    python benches/python/run.py INPUTS_DIR RUNS SCALE
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cdt


def main() -> None:
    inputs, runs, scale = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    fleet = cdt.Fleet.load(inputs / "fleet.json")
    plan = cdt.Plan.load(inputs / "plan.xml")
    candidates = cdt.CandidatesList.load(inputs / "candidates.csv")

    def deployment(name: str) -> cdt.Deployment:
        return cdt.Deployment.simulated(
            inputs / name, fleet, candidates, plan, scale=scale, keep_fleet_state=False
        )

    times = []
    for i in range(runs):
        started = time.perf_counter()
        report = deployment(f"python-{i}").run()
        times.append(time.perf_counter() - started)
        assert report.totals["failed"] == 0, report.totals
    print(f"python run: {statistics.median(times):.3f} s (median of {runs}, events not consumed)")

    # Events: the time spent taking them in Python, apart from the run producing them.
    d = deployment("python-events")
    events = d.start()
    n = 0
    taking = 0.0
    while True:
        started = time.perf_counter()
        batch = events.next_batch(4096, 0.0)
        if batch is None:
            break
        if not batch:
            time.sleep(0.001)
            continue
        for event in batch:
            n += 1
        taking += time.perf_counter() - started
    d.wait()
    print(f"python events: {n} events, {n / taking:.0f} per second taken and iterated")


if __name__ == "__main__":
    main()
