//! The same deployment run from Rust and from a binding, side by side in one process's
//! session: 10,000 targets in one batch (a third in ClusterXL HA pairs), the engine
//! benchmark's 10-action plan, the zero-latency simulated fleet held in memory, journaled in a
//! run folder, through `cdt_core::run` (what every face of cdt runs). The clock runs 1,000
//! simulated seconds per second, so the steps' polls (10 simulated seconds) cost 10 ms.
//!
//! - Rust: `Prepared::drive`, events not consumed beyond the run's own report;
//! - Python (`CDT_PYTHON`, default `python3`, with the `cdt` package installed):
//!   `benches/python/run.py` runs `Deployment.simulated(...).run()` the same number of
//!   times, then iterates the events of one more run and reports events per second.
//!
//! Medians of `CDT_BENCH_RUNS` (default 5) runs each; `CDT_BENCH_TARGETS` changes the size.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::driver::Control;
use cdt_core::formats::plan::Plan;
use cdt_core::model::Package;
use cdt_core::rollout::RolloutSpec;
use cdt_core::run::{Prepared, RunInfo};
use cdt_core::sim::{FleetFile, Sim, SimConnector};

const JUMBO: &str = "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
const SCALE: f64 = 1000.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Writes the inputs both sides read: `fleet.json`, `plan.xml`, `candidates.csv`.
fn inputs(
    dir: &Path,
    targets: usize,
) -> (
    FleetFile,
    Plan,
    cdt_core::candidates::CandidatesList,
    Package,
) {
    let fleet = cdt_benches::sim_fleet(targets);
    let write = |name: &str, text: &str| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let package = write(JUMBO, "jumbo");
    let script = write("pre.sh", "#!/bin/sh\nexit 0\n");
    let note = write("note.txt", "deployed by cdt\n");
    let plan_xml = format!(
        r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
<create_snapshot name="before"/>
<execute_command command="fw stat"/>
<execute_script path="{script}"/>
<send_package path="{package}"/>
<import_package path="{package}"/>
<verify_package path="{package}"/>
<install_package path="{package}"/>
<push_file local_path="{note}" remote_path="/var/tmp/note.txt"/>
<log level="NORMAL" value="installed"/>
<create_snapshot name="after"/>
</CDT_Deployment_Plan>"#,
        script = script.display(),
        package = package.display(),
        note = note.display()
    );
    write("plan.xml", &plan_xml);
    let plan = Plan::parse(&plan_xml, None).expect("plan");
    let package = Package::from_path(&package).expect("package");
    let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    list.save(&dir.join("candidates.csv")).expect("list");
    write(
        "fleet.json",
        &serde_json::to_string(&fleet).expect("fleet as JSON"),
    );
    (fleet, plan, list, package)
}

fn rust_run(dir: &Path, fleet: &FleetFile, spec: RolloutSpec) -> f64 {
    let started = Instant::now();
    let prepared = Prepared::fresh(dir, RunInfo::for_fleet(fleet), spec).expect("prepared");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let finished = runtime.block_on(async {
        let connector = SimConnector::new(Sim::new(fleet), SCALE);
        prepared
            .drive(
                Arc::new(connector.clone()),
                Arc::new(connector.clock()),
                None,
                Control::none(),
            )
            .await
            .expect("run")
    });
    assert_eq!(finished.totals.failed, 0, "{:?}", finished.totals);
    started.elapsed().as_secs_f64()
}

fn main() {
    let targets = env_usize("CDT_BENCH_TARGETS", 10_000);
    let runs = env_usize("CDT_BENCH_RUNS", 5).max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let (fleet, plan, list, package) = inputs(dir.path(), targets);
    let rust: Vec<f64> = (0..runs)
        .map(|i| {
            let spec = RolloutSpec::with_plan(list.clone(), package.clone(), plan.clone());
            rust_run(&dir.path().join(format!("rust-{i}")), &fleet, spec)
        })
        .collect();
    let rust = median(rust);
    println!("rust: {targets} targets, median of {runs}: {rust:.3} s");
    let python = std::env::var("CDT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/run.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(dir.path())
        .arg(runs.to_string())
        .arg(SCALE.to_string())
        .output()
        .expect("the Python benchmark starts");
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    assert!(
        out.status.success(),
        "{python} {}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let py: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("python run: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("the Python benchmark's run time");
    println!("python / rust: {:.2}", py / rust);
}
