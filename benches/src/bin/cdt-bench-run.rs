//! The Rust side of the comparisons with the Python and C faces (`benches/faces.py`): the
//! engine benchmark's 10,000-target run, from files both sides read.
//!
//! - `cdt-bench-run write DIR [TARGETS]` writes the inputs into `DIR`: `fleet.json` (the
//!   simulated fleet, zero latency), `plan.xml` (the ten-action plan) and its files, and
//!   `list.csv` (the generated candidates list).
//! - `cdt-bench-run run DIR RUN` runs them in the new run folder `RUN` as every face does
//!   (`cdt_core::run`: `run.json`, the journal, the reports), on the simulator in memory, the
//!   driver polling every millisecond, and prints the seconds from preparing the run to its
//!   end (loading the files not counted) and its totals.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use cdt_benches::{JUMBO, sim_fleet, ten_action_plan};
use cdt_core::candidates::CandidatesList;
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::driver::Control;
use cdt_core::formats::plan::Plan;
use cdt_core::model::Package;
use cdt_core::rollout::RolloutSpec;
use cdt_core::run::{Prepared, RunInfo};
use cdt_core::sim::{FleetFile, Sim, SimConnector};

/// With `--features mimalloc`: the allocator the `cdt` command uses.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn write(dir: &Path, targets: usize) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let fleet = sim_fleet(targets);
    std::fs::write(dir.join("fleet.json"), serde_json::to_string(&fleet)?)?;
    std::fs::write(dir.join("plan.xml"), ten_action_plan(dir)?)?;
    let package = Package::from_path(dir.join(JUMBO))?;
    let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    std::fs::write(dir.join("list.csv"), list.to_csv())?;
    Ok(())
}

fn run(dir: &Path, out: &Path) -> Result<()> {
    let fleet = FleetFile::load(&dir.join("fleet.json"))?;
    let plan = Plan::load(&dir.join("plan.xml"))?;
    let list = CandidatesList::load(&dir.join("list.csv"))?;
    let package = Package::from_path(dir.join(JUMBO))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let started = std::time::Instant::now();
    let info = RunInfo::for_fleet(&fleet);
    let mut settings = info.driver_settings();
    settings.waits.poll = jiff::SignedDuration::from_millis(1);
    let prepared = Prepared::fresh(out, info, RolloutSpec::with_plan(list, package, plan))?;
    let finished = runtime.block_on(async move {
        let sim = SimConnector::new(Sim::new(&fleet), 1.0);
        prepared
            .drive_with(
                Arc::new(sim.clone()),
                Arc::new(sim.clock()),
                settings,
                None,
                Control::none(),
            )
            .await
    })?;
    println!(
        "{:.4} s, {} succeeded",
        started.elapsed().as_secs_f64(),
        finished.totals.succeeded
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["write", dir] => write(Path::new(dir), 10_000),
        ["write", dir, n] => match n.parse() {
            Ok(n) => write(Path::new(dir), n),
            Err(e) => Err(format!("{n}: {e}").into()),
        },
        ["run", dir, out] => run(Path::new(dir), &PathBuf::from(out)),
        _ => Err("usage: cdt-bench-run write DIR [TARGETS] | run DIR RUN".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cdt-bench-run: {e}");
            ExitCode::FAILURE
        }
    }
}
