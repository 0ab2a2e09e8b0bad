"""The faces of cdt against its Rust core, side by side in one run.

The engine benchmark's run (10,000 targets, the ten-action plan, the simulator in memory,
the driver polling every millisecond, a run folder with its journal and reports) is made
by Rust (`cdt-bench-run run`), from Python (`cdt.Deployment.simulated`) and from C
(`benches/c/bench-run.c`, through the C API), in turns, `--rounds` times each; each times from
preparing the run to its end, the files already loaded. Then it measures how fast Python iterates a run's events (each `kind` read): as the
run goes (the engine's pace, the consumer thread's own CPU time per event), and from a run
done first with its events queued (Python's iteration alone).

    cargo build --release -p cdt-benches --bin cdt-bench-run && cargo build --release -p cdt-ffi
    gcc -O2 -std=c11 -Icdt-ffi/include benches/c/bench-run.c target/release/libcdt.a \
        -lpthread -ldl -lm -o target/release/cdt-bench-c
    (cd cdt-py && maturin build --release --out ../target/wheels-release)
    pip install target/wheels-release/cdt-*.whl
    python benches/faces.py [--targets 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cdt

ROOT = Path(__file__).resolve().parents[1]
JUMBO = "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz"


def native_run(name: str, command: list[str]) -> float:
    """A run by the Rust or the C runner, which prints `SECONDS s, N succeeded`."""
    line = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    seconds, _, rest = line.partition(" s, ")
    print(f"  {name + ':':7} {float(seconds):7.3f} s ({rest.strip()})", flush=True)
    return float(seconds)


class Inputs:
    def __init__(self, folder: Path) -> None:
        self.fleet = cdt.Fleet.load(folder / "fleet.json")
        self.plan = cdt.Plan.load(folder / "plan.xml")
        self.list = cdt.CandidatesList.load(folder / "list.csv")
        self.package = cdt.Package(folder / JUMBO)

    def deployment(self, out: Path) -> cdt.Deployment:
        return cdt.Deployment.simulated(
            out,
            self.fleet,
            self.list,
            self.plan,
            package=self.package,
            scale=1.0,
            keep_fleet_state=False,
            poll=0.001,
        )


def python_run(inputs: Inputs, out: Path) -> float:
    started = time.perf_counter()
    report = inputs.deployment(out).run()
    seconds = time.perf_counter() - started
    print(f"  python: {seconds:7.3f} s ({report.totals['succeeded']} succeeded)", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rust", type=Path, default=ROOT / "target/release/cdt-bench-run")
    parser.add_argument("--c", type=Path, default=ROOT / "target/release/cdt-bench-c")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdt-faces-") as tmp:
        work = Path(tmp)
        folder = work / "inputs"
        subprocess.run([str(args.rust), "write", str(folder), str(args.targets)], check=True)
        inputs = Inputs(folder)
        times: dict[str, list[float]] = {"rust": [], "python": [], "c": []}
        faces = ["rust", "python"] + (["c"] if args.c.exists() else [])
        for r in range(args.rounds):
            print(f"round {r + 1}", flush=True)
            # Rotate who goes first, so no face always runs on a warmer machine.
            for name in faces[r % len(faces):] + faces[: r % len(faces)]:
                out = work / f"{name}-{r}"
                if name == "rust":
                    t = native_run("rust", [str(args.rust), "run", str(folder), str(out)])
                elif name == "c":
                    t = native_run("c", [str(args.c), str(folder), str(out)])
                else:
                    t = python_run(inputs, out)
                times[name].append(t)
        median = {name: statistics.median(times[name]) for name in faces}
        summary = ", ".join(f"{name} {median[name]:.3f} s" for name in faces)
        ratios = ", ".join(f"{name}/rust {median[name] / median['rust']:.3f}x" for name in faces[1:])
        print(f"whole run, {args.targets} targets, median of {args.rounds}: {summary}; {ratios}")

        # Events: the same run, every event taken in Python as the run goes.
        d = inputs.deployment(work / "events-live")
        started, cpu = time.perf_counter(), time.thread_time()
        n = sum(1 for event in d.start() if event.kind)
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
        d.wait()
        print(
            f"events as the run goes: {n} in {wall:.3f} s, {n / wall:,.0f} events/s "
            f"(the consumer's CPU: {cpu / n * 1e6:.2f} us per event)"
        )
        # The same, the run done first, its events queued: Python's iteration alone.
        d = inputs.deployment(work / "events-queued")
        events = d.start(queue=1 << 20)
        while not d.finished:
            time.sleep(0.01)
        started = time.perf_counter()
        n = sum(1 for event in events if event.kind)
        wall = time.perf_counter() - started
        d.wait()
        print(f"events iterated from the queue: {n} in {wall:.3f} s, {n / wall:,.0f} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
